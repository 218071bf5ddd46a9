#include "tokenizer/unicode.hpp"

#include <algorithm>

namespace lb::tokenizer {

uint8_t unicode_flags(uint32_t cp) {
    if (cp > 0x10ffff) return kOther;
    const UnicodeRun *end = kUnicodeRuns + kUnicodeRunCount;
    const UnicodeRun *run =
        std::upper_bound(kUnicodeRuns, end, cp, [](uint32_t c, const UnicodeRun &r) { return c < r.first; });
    return (run - 1)->flags;
}

std::vector<uint32_t> utf8_decode(std::string_view s) {
    std::vector<uint32_t> out;
    out.reserve(s.size());
    auto cont = [&](size_t i) { return i < s.size() && (static_cast<uint8_t>(s[i]) & 0xc0) == 0x80; };
    for (size_t i = 0; i < s.size();) {
        const uint8_t c = static_cast<uint8_t>(s[i]);
        auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(s[i + k]) & 0x3f); };
        if (c < 0x80) {
            out.push_back(c);
            i += 1;
        } else if ((c & 0xe0) == 0xc0 && cont(i + 1)) {
            out.push_back((static_cast<uint32_t>(c & 0x1f) << 6) | byte(1));
            i += 2;
        } else if ((c & 0xf0) == 0xe0 && cont(i + 1) && cont(i + 2)) {
            out.push_back((static_cast<uint32_t>(c & 0x0f) << 12) | (byte(1) << 6) | byte(2));
            i += 3;
        } else if ((c & 0xf8) == 0xf0 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
            out.push_back((static_cast<uint32_t>(c & 0x07) << 18) | (byte(1) << 12) | (byte(2) << 6) |
                          byte(3));
            i += 4;
        } else { // not UTF-8: the replacement character, as llama.cpp
            out.push_back(0xfffd);
            i += 1;
        }
    }
    return out;
}

void utf8_append(std::string &out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

} // namespace lb::tokenizer
