// The guarded JSON parser: nlohmann-json's SAX parser (iterative: it keeps
// its own stack, it never recurses) drives a builder that makes the DOM and
// stops at the first container nested too deep or key seen twice, so no
// document is ever built beyond the limits. A counting iterator tells the
// builder how far the parser has read, for the byte offsets in its errors.
#include "common/json.hpp"

#include "common/error.hpp"
#include "common/mapped_file.hpp"
#include "lowbit/lowbit.h"

#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <vector>

namespace lb {

namespace {

using json = nlohmann::json;
using ull = unsigned long long;

// Hands the parser the bytes one by one, and records how many it has taken.
class CountingIterator {
  public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char *;
    using reference = const char &;

    CountingIterator(const char *p, const char **read) : p_(p), read_(read) {}
    reference operator*() const { return *p_; }
    CountingIterator &operator++() {
        *read_ = ++p_;
        return *this;
    }
    CountingIterator operator++(int) {
        CountingIterator old = *this;
        ++*this;
        return old;
    }
    bool operator==(const CountingIterator &o) const { return p_ == o.p_; }
    bool operator!=(const CountingIterator &o) const { return p_ != o.p_; }

  private:
    const char *p_;
    const char **read_;
};

// Printable form of a piece of the input (in nlohmann's messages): bytes
// outside printable ASCII as \xNN.
std::string printable(const std::string &s) {
    std::string out;
    for (char c : s) {
        const unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f)
            out += c;
        else
            out += strformat("\\x%02x", u);
    }
    return out;
}

// nlohmann's "[json.exception.parse_error.101] parse error at line 1,
// column 2: syntax error while parsing value - invalid literal; last read:
// 'TOKEN'" without its prefix, the token cut to its last 40 bytes (the bad
// byte is at its end; a token can be a string of megabytes).
std::string parse_error_text(const std::string &what) {
    std::string text = what;
    if (text.rfind("[json.exception.", 0) == 0) {
        const size_t end = text.find("] ");
        if (end != std::string::npos) text = text.substr(end + 2);
    }
    if (text.rfind("parse error", 0) == 0) {
        const size_t colon = text.find(": ");
        if (colon != std::string::npos) text = text.substr(colon + 2);
    }
    const std::string marker = "last read: '";
    const size_t lr = text.find(marker);
    if (lr != std::string::npos) {
        // the token ends at "'; expected ..." or at the closing quote
        const size_t from = lr + marker.size();
        size_t to = text.rfind("'; expected ");
        if (to == std::string::npos || to < from)
            to = text.size() > from && text.back() == '\'' ? text.size() - 1 : text.size();
        std::string token = text.substr(from, to - from);
        const std::string rest = text.substr(to);
        const size_t keep = 40;
        const bool cut = token.size() > keep;
        if (cut) token = token.substr(token.size() - keep);
        text = text.substr(0, lr) + marker + (cut ? "..." : "") + printable(token) + rest;
    }
    return printable(text);
}

// Builds the DOM from the parser's events, under the limits.
class Builder {
  public:
    Builder(const char *begin, const char *const *read) : begin_(begin), read_(read) {}

    bool null() { return value(nullptr); }
    bool boolean(bool v) { return value(v); }
    bool number_integer(json::number_integer_t v) { return value(v); }
    bool number_unsigned(json::number_unsigned_t v) { return value(v); }
    bool number_float(json::number_float_t v, const json::string_t &) {
        if (!std::isfinite(v)) return refuse("number out of range", last_byte());
        return value(v);
    }
    bool string(json::string_t &v) { return value(std::move(v)); }
    bool binary(json::binary_t &) { return refuse("binary value", last_byte()); } // not in JSON text
    bool start_object(std::size_t) { return open(json::object()); }
    bool start_array(std::size_t) { return open(json::array()); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(json::string_t &k) {
        const json::object_t &obj = stack_.back()->get_ref<const json::object_t &>();
        if (obj.find(k) != obj.end())
            return refuse(strformat("duplicate key %s", json_quoted(k).c_str()), last_byte());
        key_ = std::move(k);
        return true;
    }
    bool parse_error(std::size_t position, const std::string &, const nlohmann::detail::exception &ex) {
        // position counts the bytes read, the end of input included
        return refuse(parse_error_text(ex.what()), position > 0 ? position - 1 : 0);
    }

    json &root() { return root_; }
    const std::string &error() const { return error_; }
    size_t error_byte() const { return error_byte_; }

  private:
    // Offset of the last byte the parser read.
    size_t last_byte() const {
        const size_t n = static_cast<size_t>(*read_ - begin_);
        return n > 0 ? n - 1 : 0;
    }

    bool refuse(const std::string &message, size_t byte) {
        error_ = message;
        error_byte_ = byte;
        return false;
    }

    // Adds v where the parser is: the root, the next array element, or the
    // value of the last key. Returns where it went.
    template <typename V> json *place(V &&v) {
        if (stack_.empty()) {
            root_ = json(std::forward<V>(v));
            return &root_;
        }
        json &top = *stack_.back();
        if (top.is_array()) {
            json::array_t &arr = top.get_ref<json::array_t &>();
            arr.emplace_back(std::forward<V>(v));
            return &arr.back();
        }
        json::object_t &obj = top.get_ref<json::object_t &>();
        return &obj.emplace(std::move(key_), json(std::forward<V>(v))).first->second;
    }

    template <typename V> bool value(V &&v) {
        place(std::forward<V>(v));
        return true;
    }

    bool open(json container) {
        if (stack_.size() >= static_cast<size_t>(kJsonMaxDepth))
            return refuse(strformat("nesting deeper than %d levels", kJsonMaxDepth), last_byte());
        // the container's slot is stable: nothing is added beside it until
        // it is closed
        stack_.push_back(place(std::move(container)));
        return true;
    }

    bool close() {
        stack_.pop_back();
        return true;
    }

    const char *begin_;
    const char *const *read_;
    json root_;
    std::vector<json *> stack_;
    std::string key_;
    std::string error_;
    size_t error_byte_ = 0;
};

[[noreturn]] void fail_key(const std::string &what, const char *key, const char *must, const json &v) {
    fail(LB_E_FORMAT, "%s: key %s must be %s, not %s", what.c_str(), json_quoted(key).c_str(), must,
         json_kind(v));
}

// The value of a required key, or the error naming it.
const json &require(const json &obj, const char *key, const std::string &what) {
    if (!obj.is_object())
        fail(LB_E_FORMAT, "%s: expected an object holding key %s, found %s", what.c_str(),
             json_quoted(key).c_str(), json_kind(obj));
    const json *v = json_find(obj, key);
    if (v == nullptr) fail(LB_E_FORMAT, "%s: key %s is missing", what.c_str(), json_quoted(key).c_str());
    return *v;
}

// The value of an optional key; nullptr if it is missing or null.
const json *optional(const json &obj, const char *key, const std::string &what) {
    if (!obj.is_object())
        fail(LB_E_FORMAT, "%s: expected an object holding key %s, found %s", what.c_str(),
             json_quoted(key).c_str(), json_kind(obj));
    const json *v = json_find(obj, key);
    return v == nullptr || v->is_null() ? nullptr : v;
}

int64_t as_int(const json &v, const char *key, const std::string &what) {
    if (v.is_number_unsigned()) {
        const uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            fail(LB_E_FORMAT, "%s: key %s is %llu, too large for an integer", what.c_str(),
                 json_quoted(key).c_str(), static_cast<ull>(u));
        return static_cast<int64_t>(u);
    }
    if (!v.is_number_integer()) fail_key(what, key, "an integer", v);
    return v.get<int64_t>();
}

double as_number(const json &v, const char *key, const std::string &what) {
    if (!v.is_number()) fail_key(what, key, "a number", v);
    return v.get<double>();
}

std::string as_string(const json &v, const char *key, const std::string &what) {
    if (!v.is_string()) fail_key(what, key, "a string", v);
    return v.get<std::string>();
}

bool as_bool(const json &v, const char *key, const std::string &what) {
    if (!v.is_boolean()) fail_key(what, key, "a boolean", v);
    return v.get<bool>();
}

} // namespace

json parse_json(const char *data, size_t size, const std::string &what, size_t max_bytes) {
    if (size > max_bytes)
        fail(LB_E_FORMAT, "%s: the JSON takes %zu bytes, more than the limit of %zu", what.c_str(), size,
             max_bytes);
    // nlohmann's lexer takes a NUL byte for the end of the input: what
    // follows one would go unread. No JSON text holds one (in a string it
    // must be escaped).
    if (const void *nul = size > 0 ? std::memchr(data, 0, size) : nullptr)
        fail(LB_E_FORMAT, "%s: invalid JSON at byte %zu: a NUL byte", what.c_str(),
             static_cast<size_t>(static_cast<const char *>(nul) - data));
    // nlohmann skips a byte order mark; Python's json.loads of text and
    // serde_json (so transformers, tokenizers and the safetensors crate)
    // refuse it
    if (size >= 3 && std::memcmp(data, "\xef\xbb\xbf", 3) == 0)
        fail(LB_E_FORMAT, "%s: invalid JSON at byte 0: a UTF-8 byte order mark", what.c_str());
    const char *read = data;
    Builder builder(data, &read);
    const bool ok =
        json::sax_parse(CountingIterator(data, &read), CountingIterator(data + size, &read), &builder,
                        json::input_format_t::json, /*strict=*/true, /*ignore_comments=*/false);
    if (!ok || !builder.error().empty())
        fail(LB_E_FORMAT, "%s: invalid JSON at byte %zu: %s", what.c_str(), builder.error_byte(),
             builder.error().empty() ? "the parser stopped" : builder.error().c_str());
    return std::move(builder.root());
}

json parse_json_file(const std::string &path, size_t max_bytes) {
    return parse_json_mapped(MappedFile(path), max_bytes);
}

json parse_json_mapped(const MappedFile &file, size_t max_bytes) {
    if (file.size() > max_bytes)
        fail(LB_E_FORMAT, "%s: %llu bytes, more than the limit of %zu for this JSON file",
             file.path().c_str(), static_cast<ull>(file.size()), max_bytes);
    return parse_json(reinterpret_cast<const char *>(file.data()), static_cast<size_t>(file.size()),
                      file.path(), max_bytes);
}

std::string json_quoted(const std::string &s) {
    const size_t limit = 80;
    size_t n = s.size();
    if (n > limit) {
        n = limit;
        // do not cut a UTF-8 sequence
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
    }
    std::string out = "'";
    for (size_t i = 0; i < n; ++i) {
        const unsigned char u = static_cast<unsigned char>(s[i]);
        if (u < 0x20 || u == 0x7f)
            out += strformat("\\x%02x", u);
        else
            out += s[i];
    }
    if (n < s.size()) out += "...";
    return out + "'";
}

const char *json_kind(const json &v) {
    switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    case json::value_t::binary: return "binary data";
    case json::value_t::discarded: return "nothing";
    }
    return "nothing";
}

const json *json_find(const json &obj, const char *key) {
    if (!obj.is_object()) return nullptr;
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

int64_t json_int(const json &obj, const char *key, const std::string &what) {
    return as_int(require(obj, key, what), key, what);
}
double json_number(const json &obj, const char *key, const std::string &what) {
    return as_number(require(obj, key, what), key, what);
}
std::string json_string(const json &obj, const char *key, const std::string &what) {
    return as_string(require(obj, key, what), key, what);
}
bool json_bool(const json &obj, const char *key, const std::string &what) {
    return as_bool(require(obj, key, what), key, what);
}

const json &json_object(const json &obj, const char *key, const std::string &what) {
    const json &v = require(obj, key, what);
    if (!v.is_object()) fail_key(what, key, "an object", v);
    return v;
}

const json &json_array(const json &obj, const char *key, const std::string &what) {
    const json &v = require(obj, key, what);
    if (!v.is_array()) fail_key(what, key, "an array", v);
    return v;
}

int64_t json_int_or(const json &obj, const char *key, int64_t fallback, const std::string &what) {
    const json *v = optional(obj, key, what);
    return v == nullptr ? fallback : as_int(*v, key, what);
}
double json_number_or(const json &obj, const char *key, double fallback, const std::string &what) {
    const json *v = optional(obj, key, what);
    return v == nullptr ? fallback : as_number(*v, key, what);
}
std::string json_string_or(const json &obj, const char *key, const std::string &fallback,
                           const std::string &what) {
    const json *v = optional(obj, key, what);
    return v == nullptr ? fallback : as_string(*v, key, what);
}
bool json_bool_or(const json &obj, const char *key, bool fallback, const std::string &what) {
    const json *v = optional(obj, key, what);
    return v == nullptr ? fallback : as_bool(*v, key, what);
}

} // namespace lb
