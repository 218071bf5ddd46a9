#include "json.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace cli {

namespace {

// Length of the valid UTF-8 sequence at s[i..len), or 0 if invalid.
size_t utf8_length(const unsigned char *s, size_t i, size_t len) {
    const unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0)
        n = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
        n = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (i + n > len) return 0;
    for (size_t k = 1; k < n; ++k) {
        if ((s[i + k] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    // overlong forms, surrogates, beyond U+10FFFF
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return 0;
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
    return n;
}

} // namespace

std::string json_string(const char *str, size_t len) {
    const unsigned char *s = reinterpret_cast<const unsigned char *>(str);
    std::string out = "\"";
    for (size_t i = 0; i < len;) {
        const unsigned char c = s[i];
        if (c == '"')
            out += "\\\"";
        else if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\r')
            out += "\\r";
        else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            const size_t n = utf8_length(s, i, len);
            if (n == 0) {
                out += "\xef\xbf\xbd"; // U+FFFD
                ++i;
                continue;
            }
            out.append(str + i, n);
            i += n;
            continue;
        }
        ++i;
    }
    return out + "\"";
}

std::string json_number(double v, int precision) {
    if (std::isnan(v)) return "\"NaN\"";
    if (std::isinf(v)) return v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    return buf;
}

} // namespace cli
