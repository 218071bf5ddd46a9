// Minimal JSON output helpers for `lowbit info --json`.
#pragma once

#include <cstddef>
#include <string>

namespace cli {

// A JSON string literal (with quotes) for arbitrary bytes: valid UTF-8 is
// kept, control characters are escaped, invalid bytes become U+FFFD.
std::string json_string(const char *s, size_t len);
inline std::string json_string(const std::string &s) {
    return json_string(s.data(), s.size());
}

// A JSON number for a double; non-finite values become the strings "NaN",
// "Infinity" and "-Infinity".
std::string json_number(double v, int precision);

} // namespace cli
