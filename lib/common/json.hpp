// JSON from untrusted files (safetensors headers, config.json,
// tokenizer.json, shard indexes), parsed with nlohmann-json under limits: a
// size bound checked before anything is parsed, nesting at most
// kJsonMaxDepth deep (checked as the parser goes, so a deeply nested document
// never recurses), valid UTF-8, no duplicate keys in an object, no number
// out of a double's range, no byte order mark, no NUL byte, nothing but
// white space after the value. Then small typed getters whose errors name
// the file and the key. Internal to the library: nothing here reaches the
// public C header.
#pragma once

#include "common/mapped_file.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace lb {

// Containers nested deeper than this are refused.
constexpr int kJsonMaxDepth = 64;

// Parses data[0, size) as one JSON value. `what` names the input in error
// messages (a file path, or a path and the part of the file). Throws
// lb::Error (LB_E_FORMAT) "WHAT: invalid JSON at byte N: ..." for a
// document over max_bytes, nested deeper than kJsonMaxDepth, with invalid
// UTF-8 (or an escape that is not a valid code point), a duplicate key, a
// number too large for a double, a byte order mark or a NUL byte (which
// nlohmann would take for the end of the input), trailing garbage, or any
// syntax error.
nlohmann::json parse_json(const char *data, size_t size, const std::string &what, size_t max_bytes);

// Reads the file at path (a regular file of at most max_bytes) and parses
// it as parse_json does, naming the path. Throws lb::Error: LB_E_IO if it
// cannot be read, LB_E_FORMAT if it is too large or not valid JSON.
nlohmann::json parse_json_file(const std::string &path, size_t max_bytes);
// The same for a file already mapped (named in errors by file.path()).
nlohmann::json parse_json_mapped(const MappedFile &file, size_t max_bytes);

// A string from a file, printable in an error message: quoted, control
// characters escaped as \xNN, cut after 80 bytes (at a UTF-8 boundary).
std::string json_quoted(const std::string &s);

// "an object", "an array", "a string", "an integer", "a number", "a
// boolean", "null": what a value is, for error messages.
const char *json_kind(const nlohmann::json &v);

// The value of key in obj; nullptr if obj is not an object or has no such
// key.
const nlohmann::json *json_find(const nlohmann::json &obj, const char *key);

// Required values: a missing key, or a value of another type, throws
// lb::Error (LB_E_FORMAT) "WHAT: key 'KEY' ..." (null counts as another
// type). json_int takes integers only (not 2.0) that fit in an int64;
// json_number takes any number.
int64_t json_int(const nlohmann::json &obj, const char *key, const std::string &what);
double json_number(const nlohmann::json &obj, const char *key, const std::string &what);
std::string json_string(const nlohmann::json &obj, const char *key, const std::string &what);
bool json_bool(const nlohmann::json &obj, const char *key, const std::string &what);
const nlohmann::json &json_object(const nlohmann::json &obj, const char *key, const std::string &what);
const nlohmann::json &json_array(const nlohmann::json &obj, const char *key, const std::string &what);

// Optional values: `fallback` when the key is missing or null; a value of
// another type is the same error as above.
int64_t json_int_or(const nlohmann::json &obj, const char *key, int64_t fallback, const std::string &what);
double json_number_or(const nlohmann::json &obj, const char *key, double fallback, const std::string &what);
std::string json_string_or(const nlohmann::json &obj, const char *key, const std::string &fallback,
                           const std::string &what);
bool json_bool_or(const nlohmann::json &obj, const char *key, bool fallback, const std::string &what);

} // namespace lb
