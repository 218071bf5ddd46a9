// Fuzz target: any bytes as JSON, through lb::parse_json (the parser of
// safetensors headers, config.json and tokenizer.json): a clear error
// (lb::Error naming the input) or a document within the limits, which is
// then walked (every value visited, depth checked) and read with the typed
// getters as a converter would; never a crash, a sanitizer report, a hang or
// an unbounded allocation.
#include "common/error.hpp"
#include "common/json.hpp"

#include <cstdint>
#include <cstring>
#include <string>

namespace {

using json = nlohmann::json;

// Visits every value; returns a number that depends on all of them.
uint64_t walk(const json &v, int depth) {
    if (depth > lb::kJsonMaxDepth) __builtin_trap();
    uint64_t h = static_cast<uint64_t>(v.type());
    if (v.is_object()) {
        for (const auto &[key, value] : v.items())
            h += key.size() + lb::json_quoted(key).size() + walk(value, depth + 1);
    } else if (v.is_array()) {
        for (const json &e : v) h += walk(e, depth + 1);
    } else if (v.is_string()) {
        h += v.get_ref<const std::string &>().size();
    } else if (v.is_number_float()) {
        if (v.get<double>() != v.get<double>()) __builtin_trap(); // no NaN from JSON text
    }
    return h;
}

// The getters on every key of an object: a value or an lb::Error naming the
// input, never anything else.
uint64_t get_all(const json &obj) {
    uint64_t h = 0;
    for (const auto &[key, value] : obj.items()) {
        const char *k = key.c_str();
        try {
            h += static_cast<uint64_t>(lb::json_int_or(obj, k, 0, "fuzz.json"));
        } catch (const lb::Error &) {
        }
        try {
            h += static_cast<uint64_t>(lb::json_number_or(obj, k, 0.0, "fuzz.json") != 0.0);
        } catch (const lb::Error &) {
        }
        try {
            h += lb::json_string_or(obj, k, "", "fuzz.json").size();
        } catch (const lb::Error &) {
        }
        try {
            h += lb::json_bool(obj, k, "fuzz.json") ? 1 : 0;
        } catch (const lb::Error &e) {
            if (std::strncmp(e.what(), "fuzz.json: ", 11) != 0) __builtin_trap();
        }
        try {
            h += lb::json_object(obj, k, "fuzz.json").size() + lb::json_array(obj, k, "fuzz.json").size();
        } catch (const lb::Error &) {
        }
    }
    return h;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    try {
        const json j = lb::parse_json(reinterpret_cast<const char *>(data), size, "fuzz.json", 1 << 20);
        uint64_t h = walk(j, 0);
        if (j.is_object()) h += get_all(j);
        volatile uint64_t sink = h;
        (void)sink;
    } catch (const lb::Error &e) {
        if (std::strncmp(e.what(), "fuzz.json: ", 11) != 0) __builtin_trap();
    }
    return 0;
}
