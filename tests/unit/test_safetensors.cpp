// Safetensors and the guarded JSON parser: lb::parse_json's limits (depth,
// size, UTF-8, duplicate keys, trailing bytes) and typed getters; the
// safetensors reader on files written here byte by byte (every dtype,
// scalars, empty tensors, metadata) and on the real TinyStories-656K
// checkpoint of ../shared/data, both compared with an independent reader
// (safetensors_reference.py: Python's json module and numpy); every
// malformed file, each a clear error naming the file and the tensor; sharded
// checkpoints through model.safetensors.index.json and their errors.
#include "common/error.hpp"
#include "common/fp16.hpp"
#include "common/json.hpp"
#include "lowbit/lowbit.h"
#include "safetensors/safetensors.hpp"
#include "safetensors/shards.hpp"
#include "test_data.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <gtest/gtest.h>
#include <limits>
#include <map>
#include <optional>

namespace {

namespace st = lb::safetensors;
#ifdef LOWBIT_PYTHON
constexpr const char *kPython = LOWBIT_PYTHON;
#else
constexpr const char *kPython = "/usr/bin/python3";
#endif
using json = nlohmann::json;

// f() must throw lb::Error with this status and a message holding every one
// of `words`.
void expect_error(const std::function<void()> &f, lb_status status, const std::vector<std::string> &words) {
    try {
        f();
        std::string all;
        for (const std::string &w : words) all += std::string(" '") + w + "'";
        ADD_FAILURE() << "no error; expected " << lb_status_name(status) << " with" << all;
    } catch (const lb::Error &e) {
        EXPECT_EQ(e.status(), status) << e.what();
        const std::string msg = e.what();
        for (const std::string &w : words)
            EXPECT_NE(msg.find(w), std::string::npos) << "no '" << w << "' in: " << msg;
    }
}

json parse(const std::string &s, size_t max_bytes = 1 << 20) {
    return lb::parse_json(s.data(), s.size(), "doc.json", max_bytes);
}

void expect_json_error(const std::string &s, const std::vector<std::string> &words,
                       size_t max_bytes = 1 << 20) {
    std::vector<std::string> all = {"doc.json: "};
    all.insert(all.end(), words.begin(), words.end());
    expect_error([&] { parse(s, max_bytes); }, LB_E_FORMAT, all);
}

// --- Writing safetensors files ------------------------------------------------

struct Spec {
    std::string name;
    std::string dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};

std::string shape_json(const std::vector<int64_t> &shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += std::string(i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string entry_json(const std::string &name, const std::string &dtype, const std::string &shape,
                       uint64_t begin, uint64_t end) {
    return std::string("\"") + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
           ",\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(end) + "]}";
}

// The header of specs laid out one after the other, in order.
std::string header_json(const std::vector<Spec> &specs,
                        const std::vector<std::pair<std::string, std::string>> &metadata = {}) {
    std::string h = "{";
    if (!metadata.empty()) {
        h += "\"__metadata__\":{";
        for (size_t i = 0; i < metadata.size(); ++i)
            h += std::string(i ? "," : "") + "\"" + metadata[i].first + "\":\"" + metadata[i].second + "\"";
        h += "}";
    }
    uint64_t at = 0;
    for (const Spec &s : specs) {
        if (h.size() > 1) h += ",";
        h += entry_json(s.name, s.dtype, shape_json(s.shape), at, at + s.bytes.size());
        at += s.bytes.size();
    }
    return h + "}";
}

std::vector<uint8_t> data_of(const std::vector<Spec> &specs) {
    std::vector<uint8_t> d;
    for (const Spec &s : specs) d.insert(d.end(), s.bytes.begin(), s.bytes.end());
    return d;
}

// The length (8 bytes, little-endian), the header padded with spaces to a
// multiple of 8 as the Rust crate writes it, the data. `length` replaces
// the header length.
std::vector<uint8_t> file_bytes(const std::string &header, const std::vector<uint8_t> &data,
                                std::optional<uint64_t> length = std::nullopt) {
    std::string h = header;
    if (!length)
        while (h.size() % 8 != 0) h += ' ';
    const uint64_t n = length ? *length : h.size();
    std::vector<uint8_t> out(8 + h.size() + data.size());
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
    std::memcpy(out.data() + 8, h.data(), h.size());
    if (!data.empty()) std::memcpy(out.data() + 8 + h.size(), data.data(), data.size());
    return out;
}

std::vector<uint8_t> f32_bytes(const std::vector<float> &v) {
    std::vector<uint8_t> out(v.size() * 4);
    if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
    return out;
}

std::vector<uint8_t> u16_bytes(const std::vector<float> &v, uint16_t (*narrow)(float)) {
    std::vector<uint8_t> out;
    for (float f : v) {
        const uint16_t h = narrow(f);
        out.push_back(static_cast<uint8_t>(h));
        out.push_back(static_cast<uint8_t>(h >> 8));
    }
    return out;
}

// n values exact in F16 and BF16 (multiples of 1/8 up to a few units).
std::vector<float> ramp(size_t n, float offset) {
    std::vector<float> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = offset + 0.125f * static_cast<float>(i % 29) - 1.5f;
    return v;
}

float element(const st::Tensor &t, uint64_t i) {
    if (t.type == LB_TYPE_F32) {
        float f;
        std::memcpy(&f, t.data + 4 * i, 4);
        return f;
    }
    const uint16_t h = static_cast<uint16_t>(t.data[2 * i] | (t.data[2 * i + 1] << 8));
    return t.type == LB_TYPE_F16 ? lb::fp16_to_fp32(h) : lb::bf16_to_fp32(h);
}

uint64_t checksum(const uint8_t *p, uint64_t n) {
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; ++i) s += static_cast<uint64_t>(p[i]) * (i % 65521 + 1);
    return s;
}

std::vector<std::string> split(const std::string &s, char sep) {
    std::vector<std::string> out;
    size_t at = 0;
    while (true) {
        const size_t next = s.find(sep, at);
        out.push_back(s.substr(at, next - at));
        if (next == std::string::npos) return out;
        at = next + 1;
    }
}

// The lines safetensors_reference.py prints for the file, split at tabs.
std::vector<std::vector<std::string>> reference(const std::string &path) {
    const std::string cmd = std::string(kPython) + " " +
                            testdata::source_path("tests/unit/safetensors_reference.py") + " '" + path + "'";
    FILE *p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) throw std::runtime_error(std::string("cannot run ") + cmd);
    std::string out;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    const int rc = ::pclose(p);
    if (rc != 0) throw std::runtime_error(cmd + " failed (is python3-numpy installed?)");
    std::vector<std::vector<std::string>> lines;
    for (const std::string &l : split(out, '\n'))
        if (!l.empty()) lines.push_back(split(l, '\t'));
    return lines;
}

// The file as lowbit reads it equals the file as the reference reads it:
// the same metadata, tensors in the same offset order with the same names,
// dtypes, shapes, offsets, bytes (checksum) and first and last values.
void expect_same_as_reference(const st::File &f) {
    const auto lines = reference(f.path());
    std::map<std::string, std::string> metadata;
    size_t n_tensors = 0;
    for (const auto &l : lines) {
        ASSERT_GE(l.size(), 3u);
        if (l[0] == "metadata") {
            metadata[l[1]] = l[2];
            continue;
        }
        ASSERT_EQ(l.size(), 9u);
        ASSERT_LT(n_tensors, f.tensors().size()) << "the reference sees more tensors";
        const st::Tensor &t = f.tensors()[n_tensors++];
        EXPECT_EQ(t.name, l[1]);
        EXPECT_STREQ(st::dtype_name(t.type), l[2].c_str()) << t.name;
        std::string shape;
        for (size_t i = 0; i < t.shape.size(); ++i)
            shape += std::string(i ? "," : "") + std::to_string(t.shape[i]);
        EXPECT_EQ(shape, l[3]) << t.name;
        EXPECT_EQ(t.offset, std::stoull(l[4])) << t.name;
        EXPECT_EQ(t.offset + t.size, std::stoull(l[5])) << t.name;
        EXPECT_EQ(t.data, f.mapped().data() + t.offset) << t.name;
        EXPECT_EQ(checksum(t.data, t.size), std::stoull(l[6])) << t.name;
        if (t.n_elements() == 0) {
            EXPECT_EQ(l[7], "-");
        } else {
            EXPECT_EQ(static_cast<double>(element(t, 0)), std::strtod(l[7].c_str(), nullptr)) << t.name;
            EXPECT_EQ(static_cast<double>(element(t, t.n_elements() - 1)), std::strtod(l[8].c_str(), nullptr))
                << t.name;
        }
    }
    EXPECT_EQ(n_tensors, f.tensors().size());
    EXPECT_EQ(metadata, f.metadata());
}

// Opening the file of these bytes must fail with status and a message
// naming the file and holding every one of `words`.
void expect_file_error(const std::vector<uint8_t> &bytes, lb_status status,
                       const std::vector<std::string> &words) {
    testdata::TempDir dir;
    const std::string path = dir.file("bad.safetensors");
    testdata::write_file(path, bytes);
    std::vector<std::string> all = {path + ": "};
    all.insert(all.end(), words.begin(), words.end());
    expect_error([&] { st::File f(path); }, status, all);
}

void expect_header_error(const std::string &header, const std::vector<uint8_t> &data, lb_status status,
                         const std::vector<std::string> &words) {
    expect_file_error(file_bytes(header, data), status, words);
}

// Three small tensors, for the malformed variants.
std::vector<Spec> small_specs() {
    return {{"a", "F32", {2, 2}, f32_bytes(ramp(4, 0))},
            {"b", "F16", {3}, u16_bytes(ramp(3, 1), lb::fp32_to_fp16)},
            {"c", "BF16", {1, 2}, u16_bytes(ramp(2, 2), lb::fp32_to_bf16)}};
}

// --- parse_json -----------------------------------------------------------------

TEST(Json, ParsesValues) {
    const json j = parse(R"( {"a": [1, -2, 2.5, "x\u00e9\n", true, false, null, {"b": {}}],
                              "big": 18446744073709551615, "neg": -9223372036854775808, "e": "€"} )");
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["a"].size(), 8u);
    EXPECT_EQ(j["a"][0].get<int64_t>(), 1);
    EXPECT_EQ(j["a"][1].get<int64_t>(), -2);
    EXPECT_EQ(j["a"][2].get<double>(), 2.5);
    EXPECT_EQ(j["a"][3].get<std::string>(), "x\xc3\xa9\n");
    EXPECT_TRUE(j["a"][4].get<bool>());
    EXPECT_TRUE(j["a"][6].is_null());
    EXPECT_TRUE(j["a"][7]["b"].is_object());
    EXPECT_EQ(j["big"].get<uint64_t>(), 18446744073709551615ull);
    EXPECT_EQ(j["neg"].get<int64_t>(), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(j["e"].get<std::string>(), "\xe2\x82\xac");
    // a surrogate pair is one code point
    EXPECT_EQ(parse(R"("\ud83d\ude00")").get<std::string>(), "\xf0\x9f\x98\x80");
    // any value at the top, white space around it
    EXPECT_EQ(parse(" 7 \n\t").get<int64_t>(), 7);
}

std::string nested(int depth, const char *open, const char *close, const char *inner = "") {
    std::string s;
    for (int i = 0; i < depth; ++i) s += open;
    s += inner;
    for (int i = 0; i < depth; ++i) s += close;
    return s;
}

TEST(Json, DepthLimit) {
    EXPECT_NO_THROW(parse(nested(64, "[", "]")));
    EXPECT_NO_THROW(parse(nested(63, "{\"k\":", "}", "[]")));
    expect_json_error(nested(65, "[", "]"), {"invalid JSON at byte 64", "nesting deeper than 64"});
    expect_json_error(nested(64, "{\"k\":", "}", "[]"), {"nesting deeper than 64"});
    expect_json_error(nested(100, "[", "]"), {"nesting deeper than 64"});
    // a million levels: refused at level 65 (byte 64), so the parser read no
    // further than that whatever the machine's speed
    expect_json_error(std::string(1000000, '['), {"invalid JSON at byte 64", "nesting deeper than 64"});
}

TEST(Json, SizeLimit) {
    const std::string doc = R"({"a":[1,2,3]})"; // 13 bytes
    EXPECT_EQ(parse(doc, doc.size())["a"].size(), 3u);
    expect_json_error(doc, {"takes 13 bytes, more than the limit of 12"}, doc.size() - 1);
    expect_error([&] { lb::parse_json(doc.data(), doc.size(), "/some/path.json", 5); }, LB_E_FORMAT,
                 {"/some/path.json: "});
}

TEST(Json, InvalidUtf8) {
    for (const std::string &bad : {
             std::string("\"\xff\""),             // not UTF-8 at all
             std::string("\"a\xc3\""),            // a sequence cut short
             std::string("\"\xc0\xaf\""),         // overlong '/'
             std::string("\"\xed\xa0\x80\""),     // a surrogate, encoded
             std::string("\"\xf4\x90\x80\x80\""), // above U+10FFFF
             std::string("{\"k\xfe\":1}"),        // in a key
             std::string("\xe2\x82\xac"),         // UTF-8 outside a string
         })
        expect_json_error(bad, {"invalid JSON at byte"});
    // escapes that are no code point
    expect_json_error(R"("\ud800")", {"surrogate"});
    expect_json_error(R"("\udc00x")", {"surrogate"});
    expect_json_error(R"("\u12")", {"invalid JSON at byte"});
    // the message is printable ASCII: the bad byte is escaped
    try {
        parse("\"\xff\"");
        FAIL();
    } catch (const lb::Error &e) {
        for (const char *p = e.what(); *p; ++p)
            EXPECT_TRUE(*p >= 0x20 && *p < 0x7f)
                << "byte " << int(static_cast<unsigned char>(*p)) << ": " << e.what();
        EXPECT_NE(std::string(e.what()).find("\\xff"), std::string::npos) << e.what();
    }
}

TEST(Json, TrailingBytesAndSyntax) {
    expect_json_error("{} x", {"invalid JSON at byte 3"});
    expect_json_error("1 2", {"invalid JSON at byte 2"});
    expect_json_error("{}}", {"invalid JSON at byte 2"});
    expect_json_error(std::string("{}\0", 3), {"invalid JSON at byte 2: a NUL byte"});
    expect_json_error(std::string("{} \0 x", 6), {"invalid JSON at byte 3: a NUL byte"});
    expect_json_error(std::string("[\"a\0\"]", 5), {"invalid JSON at byte 3: a NUL byte"});
    expect_json_error("", {"invalid JSON at byte 0"});
    expect_json_error("   ", {"invalid JSON at byte 3"});
    expect_json_error("[1,", {"invalid JSON at byte 3"});
    expect_json_error("{\"a\" 1}", {"invalid JSON at byte 5"});
    expect_json_error("[1,]", {"invalid JSON"});
    expect_json_error("// comment\n{}", {"invalid JSON at byte 0"});
    expect_json_error("[NaN]", {"invalid JSON"});
    expect_json_error("\xef\xbb\xbf{}", {"invalid JSON at byte 0: a UTF-8 byte order mark"});
    expect_json_error("[1e400]", {"invalid JSON at byte 5: number overflow parsing '1e400'"});
    expect_json_error("[-1e400]", {"invalid JSON at byte 6: number overflow parsing '-1e400'"});
    expect_json_error("\"a\x01\"", {"invalid JSON"});
    // a long token is cut in the message
    std::string huge = std::string("\"") + std::string(1 << 20, 'a') + "\xff\"";
    try {
        parse(huge, huge.size());
        FAIL();
    } catch (const lb::Error &e) {
        EXPECT_LT(std::strlen(e.what()), 400u) << e.what();
        // the end of the token, where the bad byte is
        EXPECT_NE(std::string(e.what()).find("last read: '...aaaa"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("aaaa\\xff'"), std::string::npos) << e.what();
    }
}

TEST(Json, DuplicateKeys) {
    expect_json_error(R"({"a":1,"b":2,"a":3})", {"duplicate key 'a'"});
    expect_json_error(R"({"x":[{"k":1,"k":1}]})", {"duplicate key 'k'"});
    // the same key in different objects is fine
    const json j = parse(R"({"a":{"a":1},"b":{"a":2}})");
    EXPECT_EQ(j["b"]["a"].get<int>(), 2);
}

TEST(Json, TypedGetters) {
    const json j = parse(R"({"i":7,"u":18446744073709551615,"f":2.0,"s":"text","b":true,"n":null,
                             "o":{"x":1},"a":[1],"neg":-3})");
    const std::string what = "/ckpt/config.json";
    EXPECT_EQ(lb::json_int(j, "i", what), 7);
    EXPECT_EQ(lb::json_int(j, "neg", what), -3);
    EXPECT_EQ(lb::json_number(j, "i", what), 7.0);
    EXPECT_EQ(lb::json_number(j, "f", what), 2.0);
    EXPECT_EQ(lb::json_string(j, "s", what), "text");
    EXPECT_TRUE(lb::json_bool(j, "b", what));
    EXPECT_EQ(lb::json_object(j, "o", what)["x"].get<int>(), 1);
    EXPECT_EQ(lb::json_array(j, "a", what).size(), 1u);
    ASSERT_NE(lb::json_find(j, "s"), nullptr);
    EXPECT_EQ(lb::json_find(j, "s")->get<std::string>(), "text");
    EXPECT_EQ(lb::json_find(j, "missing"), nullptr);
    EXPECT_EQ(lb::json_find(j["a"], "s"), nullptr); // not an object

    const std::string w = what + ": ";
    expect_error([&] { lb::json_int(j, "missing", what); }, LB_E_FORMAT, {w, "key 'missing' is missing"});
    expect_error([&] { lb::json_int(j, "s", what); }, LB_E_FORMAT,
                 {w, "key 's' must be an integer, not a string"});
    expect_error([&] { lb::json_int(j, "f", what); }, LB_E_FORMAT,
                 {w, "key 'f' must be an integer, not a number"});
    expect_error([&] { lb::json_int(j, "n", what); }, LB_E_FORMAT,
                 {w, "key 'n' must be an integer, not null"});
    expect_error([&] { lb::json_int(j, "u", what); }, LB_E_FORMAT, {w, "key 'u'", "too large"});
    expect_error([&] { lb::json_number(j, "s", what); }, LB_E_FORMAT, {w, "key 's' must be a number"});
    expect_error([&] { lb::json_string(j, "i", what); }, LB_E_FORMAT,
                 {w, "key 'i' must be a string, not an integer"});
    expect_error([&] { lb::json_bool(j, "i", what); }, LB_E_FORMAT, {w, "key 'i' must be a boolean"});
    expect_error([&] { lb::json_object(j, "a", what); }, LB_E_FORMAT,
                 {w, "key 'a' must be an object, not an array"});
    expect_error([&] { lb::json_array(j, "o", what); }, LB_E_FORMAT,
                 {w, "key 'o' must be an array, not an object"});
    expect_error([&] { lb::json_string(j["a"], "k", what); }, LB_E_FORMAT,
                 {w, "expected an object holding key 'k', found an array"});

    // optional: missing or null gives the fallback, another type is an error
    EXPECT_EQ(lb::json_int_or(j, "missing", 42, what), 42);
    EXPECT_EQ(lb::json_int_or(j, "n", 42, what), 42);
    EXPECT_EQ(lb::json_int_or(j, "i", 42, what), 7);
    EXPECT_EQ(lb::json_number_or(j, "missing", 0.5, what), 0.5);
    EXPECT_EQ(lb::json_number_or(j, "f", 0.5, what), 2.0);
    EXPECT_EQ(lb::json_string_or(j, "n", "dflt", what), "dflt");
    EXPECT_EQ(lb::json_string_or(j, "s", "dflt", what), "text");
    EXPECT_FALSE(lb::json_bool_or(j, "missing", false, what));
    EXPECT_TRUE(lb::json_bool_or(j, "b", false, what));
    expect_error([&] { lb::json_int_or(j, "s", 1, what); }, LB_E_FORMAT, {w, "key 's' must be an integer"});
    expect_error([&] { lb::json_number_or(j, "b", 1, what); }, LB_E_FORMAT, {w, "key 'b' must be a number"});
    expect_error([&] { lb::json_string_or(j, "o", "", what); }, LB_E_FORMAT, {w, "key 'o' must be a string"});
    expect_error([&] { lb::json_bool_or(j, "s", true, what); }, LB_E_FORMAT,
                 {w, "key 's' must be a boolean"});
}

TEST(Json, Files) {
    testdata::TempDir dir;
    const std::string path = dir.file("c.json");
    const std::string doc = R"({"hidden_size": 128})";
    testdata::write_file(path, std::vector<uint8_t>(doc.begin(), doc.end()));
    EXPECT_EQ(lb::json_int(lb::parse_json_file(path, 100), "hidden_size", path), 128);
    expect_error([&] { lb::parse_json_file(path, 10); }, LB_E_FORMAT,
                 {path + ": 20 bytes, more than the limit of 10"});
    expect_error([&] { lb::parse_json_file(dir.file("none.json"), 10); }, LB_E_IO, {dir.file("none.json")});
    // the file is named in syntax errors too
    testdata::write_file(path, {'{', '}', ','});
    expect_error([&] { lb::parse_json_file(path, 100); }, LB_E_FORMAT, {path + ": invalid JSON at byte 2"});
}

TEST(Json, Quoted) {
    EXPECT_EQ(lb::json_quoted("a.weight"), "'a.weight'");
    EXPECT_EQ(lb::json_quoted(std::string("a\nb\0", 4)), "'a\\x0ab\\x00'");
    // cut after 80 bytes, not inside a UTF-8 sequence
    std::string s = std::string(79, 'x') + "\xe2\x82\xac" + "tail";
    EXPECT_EQ(lb::json_quoted(s), std::string("'") + std::string(79, 'x') + "...'");
}

// --- Safetensors: good files -------------------------------------------------------

TEST(Safetensors, EveryDtypeScalarsEmptyTensorsAndMetadata) {
    // not in name order, so the offset order is visible
    const std::vector<Spec> specs = {
        {"z.f32", "F32", {2, 3}, f32_bytes(ramp(6, 0.0f))},
        {"empty.f16", "F16", {0, 5}, {}},
        {"b.f16", "F16", {4}, u16_bytes(ramp(4, 1.0f), lb::fp32_to_fp16)},
        {"c.bf16", "BF16", {3, 1, 2}, u16_bytes(ramp(6, 2.0f), lb::fp32_to_bf16)},
        {"scalar", "F32", {}, f32_bytes({3.25f})},
        {"scalar.bf16", "BF16", {}, u16_bytes({-0.5f}, lb::fp32_to_bf16)},
        {"empty.last", "BF16", {7, 0}, {}},
    };
    testdata::TempDir dir;
    const std::string path = dir.file("model.safetensors");
    testdata::write_file(path,
                         file_bytes(header_json(specs, {{"format", "pt"}, {"note", "x y"}}), data_of(specs)));
    const st::File f(path);
    EXPECT_EQ(f.path(), path);
    ASSERT_EQ(f.tensors().size(), specs.size());
    const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "x y"}};
    EXPECT_EQ(f.metadata(), metadata);
    const lb_type types[] = {LB_TYPE_F32, LB_TYPE_F16,  LB_TYPE_F16, LB_TYPE_BF16,
                             LB_TYPE_F32, LB_TYPE_BF16, LB_TYPE_BF16};
    uint64_t at = f.data_offset();
    for (size_t i = 0; i < specs.size(); ++i) {
        const st::Tensor &t = f.tensors()[i];
        SCOPED_TRACE(t.name);
        EXPECT_EQ(t.name, specs[i].name);
        EXPECT_EQ(t.type, types[i]);
        EXPECT_EQ(t.shape, specs[i].shape);
        EXPECT_EQ(t.size, specs[i].bytes.size());
        EXPECT_EQ(t.offset, at);
        EXPECT_EQ(t.data, f.mapped().data() + at);
        at += t.size;
        ASSERT_EQ(t.n_elements() * st::element_size(t.type), t.size);
        if (t.size > 0) { // memcmp takes no null pointer, even for 0 bytes
            EXPECT_EQ(std::memcmp(t.data, specs[i].bytes.data(), t.size), 0);
        }
        EXPECT_EQ(f.find(t.name), &t);
    }
    EXPECT_EQ(at, f.mapped().size());
    EXPECT_EQ(f.tensors()[4].n_elements(), 1u);
    EXPECT_EQ(element(f.tensors()[4], 0), 3.25f);
    EXPECT_EQ(element(f.tensors()[5], 0), -0.5f);
    EXPECT_EQ(f.tensors()[1].n_elements(), 0u);
    EXPECT_EQ(element(f.tensors()[3], 5), ramp(6, 2.0f)[5]);
    EXPECT_EQ(f.find("nope"), nullptr);
    EXPECT_EQ(f.find("__metadata__"), nullptr);
    expect_same_as_reference(f);
}

TEST(Safetensors, MinimalFiles) {
    testdata::TempDir dir;
    // no tensors at all, with and without metadata; no padding
    for (const std::string &h : {std::string("{}"), std::string(R"({"__metadata__":{}})")}) {
        const std::string path = dir.file("empty.safetensors");
        testdata::write_file(path, file_bytes(h, {}, h.size()));
        const st::File f(path);
        EXPECT_TRUE(f.tensors().empty());
        EXPECT_TRUE(f.metadata().empty());
        EXPECT_EQ(f.data_offset(), 8 + h.size());
    }
    // empty tensors only, one at the very end of the data
    const std::string path = dir.file("zeros.safetensors");
    testdata::write_file(path, file_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},
                                              "b":{"data_offsets":[0,0],"shape":[3,0,2],"dtype":"F16"}})",
                                          {}));
    const st::File f(path);
    ASSERT_EQ(f.tensors().size(), 2u);
    EXPECT_EQ(f.tensors()[0].name, "a");
    EXPECT_EQ(f.tensors()[1].shape, (std::vector<int64_t>{3, 0, 2}));
}

TEST(Safetensors, TinyStoriesCheckpoint) {
    const std::string folder = testdata::shared_data_path("tinystories-656k");
    const std::string path = folder + "/model.safetensors";
    ASSERT_TRUE(testdata::file_exists(path)) << path << " is missing (see ../shared/data/PROVENANCE.md)";
    // the sizes config.json gives
    const std::string config_path = folder + "/config.json";
    const json config = lb::parse_json_file(config_path, 1 << 20);
    const int64_t hidden = lb::json_int(config, "hidden_size", config_path);
    const int64_t ff = lb::json_int(config, "intermediate_size", config_path);
    const int64_t vocab = lb::json_int(config, "vocab_size", config_path);
    const int64_t layers = lb::json_int(config, "num_hidden_layers", config_path);
    const int64_t heads = lb::json_int(config, "num_attention_heads", config_path);
    const int64_t kv_heads = lb::json_int(config, "num_key_value_heads", config_path);
    EXPECT_EQ(hidden, 128);
    EXPECT_EQ(ff, 384);
    EXPECT_EQ(vocab, 2048);
    EXPECT_EQ(layers, 2);
    EXPECT_TRUE(lb::json_bool(config, "tie_word_embeddings", config_path));
    const int64_t kv = kv_heads * (hidden / heads);

    std::map<std::string, std::vector<int64_t>> expected = {{"lm_head.weight", {vocab, hidden}},
                                                            {"model.norm.weight", {hidden}}};
    for (int64_t l = 0; l < layers; ++l) {
        const std::string p = std::string("model.layers.") + std::to_string(l) + ".";
        expected[p + "input_layernorm.weight"] = {hidden};
        expected[p + "post_attention_layernorm.weight"] = {hidden};
        expected[p + "mlp.gate_proj.weight"] = {ff, hidden};
        expected[p + "mlp.up_proj.weight"] = {ff, hidden};
        expected[p + "mlp.down_proj.weight"] = {hidden, ff};
        expected[p + "self_attn.q_proj.weight"] = {hidden, hidden};
        expected[p + "self_attn.k_proj.weight"] = {kv, hidden};
        expected[p + "self_attn.v_proj.weight"] = {kv, hidden};
        expected[p + "self_attn.o_proj.weight"] = {hidden, hidden};
    }
    const st::File f(path);
    std::map<std::string, std::vector<int64_t>> got;
    for (const st::Tensor &t : f.tensors()) {
        EXPECT_EQ(t.type, LB_TYPE_F32) << t.name;
        got[t.name] = t.shape;
    }
    EXPECT_EQ(got, expected);
    EXPECT_EQ(f.metadata().at("format"), "pt");
    // the tied embedding is named in the metadata, not stored
    EXPECT_EQ(f.metadata().at("model.embed_tokens.weight"), "lm_head.weight");
    EXPECT_EQ(f.find("model.embed_tokens.weight"), nullptr);
    expect_same_as_reference(f);

    // the folder as a checkpoint: the same tensors
    const st::Shards shards = st::Shards::open(folder);
    EXPECT_TRUE(shards.index_path().empty());
    ASSERT_EQ(shards.tensors().size(), f.tensors().size());
    for (size_t i = 0; i < f.tensors().size(); ++i) {
        EXPECT_EQ(shards.tensors()[i]->name, f.tensors()[i].name);
        EXPECT_EQ(shards.tensors()[i]->offset, f.tensors()[i].offset);
    }
}

// A valid file cut short anywhere, or with a header length off by one, is
// refused with a message.
TEST(Safetensors, EveryTruncationIsRefused) {
    const std::vector<Spec> specs = small_specs();
    const std::vector<uint8_t> good = file_bytes(header_json(specs), data_of(specs));
    testdata::TempDir dir;
    const std::string path = dir.file("cut.safetensors");
    for (size_t n = 0; n < good.size(); ++n) {
        testdata::write_file(path, std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(n)));
        try {
            st::File f(path);
            ADD_FAILURE() << "a file cut at " << n << " of " << good.size() << " bytes opened";
        } catch (const lb::Error &e) {
            EXPECT_EQ(e.status(), LB_E_FORMAT) << e.what();
            EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        }
    }
    testdata::write_file(path, good);
    EXPECT_EQ(st::File(path).tensors().size(), 3u);
}

// --- Safetensors: bad files ------------------------------------------------------

TEST(Safetensors, BadHeaderLength) {
    expect_file_error({}, LB_E_FORMAT, {"0 bytes, too short for the 8-byte header length"});
    expect_file_error({1, 0, 0}, LB_E_FORMAT, {"3 bytes, too short"});
    const std::vector<Spec> specs = small_specs();
    const std::string h = header_json(specs);
    expect_file_error(file_bytes(h, data_of(specs), 1000), LB_E_FORMAT,
                      {"the header length 1000 runs past the end of the file"});
    expect_file_error(file_bytes(h, {}, h.size() + 1), LB_E_FORMAT, {"runs past the end of the file"});
    expect_file_error(file_bytes(h, {}, 100'000'001), LB_E_FORMAT,
                      {"the header length 100000001 is over the limit of 100000000 bytes"});
    expect_file_error(file_bytes(h, {}, ~uint64_t(1)), LB_E_FORMAT,
                      {"the header length 18446744073709551614 is over the limit"});
}

TEST(Safetensors, HeaderNotJson) {
    const std::vector<Spec> specs = small_specs();
    const std::vector<uint8_t> data = data_of(specs);
    const std::string h = header_json(specs);
    expect_header_error("hello", {}, LB_E_FORMAT, {"the JSON header: invalid JSON at byte 0"});
    expect_header_error("[1,2]", {}, LB_E_FORMAT, {"the JSON header is an array, not an object"});
    expect_header_error("\"s\"", {}, LB_E_FORMAT, {"the JSON header is a string, not an object"});
    // invalid UTF-8 in a tensor name
    expect_header_error("{\"a\xff\":{}}", {}, LB_E_FORMAT,
                        {"the JSON header: invalid JSON at byte 3", "UTF-8"});
    // nested 100 deep
    expect_header_error(std::string(R"({"a":{"dtype":"F32","shape":)") + nested(100, "[", "]") + "}}", {},
                        LB_E_FORMAT, {"the JSON header: invalid JSON at byte", "nesting deeper than 64"});
    // garbage after the JSON, inside the header (spaces are fine: the padding)
    expect_header_error(h + " x", data, LB_E_FORMAT, {"the JSON header: invalid JSON at byte"});
    expect_file_error(file_bytes(h + std::string(3, '\0'), data, h.size() + 3), LB_E_FORMAT,
                      {std::string("the JSON header: invalid JSON at byte ") + std::to_string(h.size())});
    {
        testdata::TempDir dir;
        const std::string path = dir.file("padded.safetensors");
        testdata::write_file(path, file_bytes(h + "      ", data, h.size() + 6));
        EXPECT_EQ(st::File(path).tensors().size(), 3u);
    }
}

TEST(Safetensors, BadEntries) {
    const std::vector<uint8_t> d24(24, 0);
    const auto hdr = [](const std::string &body) { return std::string("{") + body + "}"; };
    const std::string ok_a = entry_json("a", "F32", "[2,3]", 0, 24);
    // missing and extra fields, wrong JSON types
    expect_header_error(hdr(R"("a":{"dtype":"F32","data_offsets":[0,24]})"), d24, LB_E_FORMAT,
                        {"tensor 'a' has no field \"shape\""});
    expect_header_error(hdr(R"("a":{"shape":[6],"data_offsets":[0,24]})"), d24, LB_E_FORMAT,
                        {"tensor 'a' has no field \"dtype\""});
    expect_header_error(hdr(R"("a":{"dtype":"F32","shape":[6]})"), d24, LB_E_FORMAT,
                        {"tensor 'a' has no field \"data_offsets\""});
    expect_header_error(hdr(R"("a":{"dtype":"F32","shape":[6],"data_offsets":[0,24],"extra":1})"), d24,
                        LB_E_FORMAT, {"tensor 'a' has an unknown field 'extra'"});
    expect_header_error(hdr(R"("a":[1])"), d24, LB_E_FORMAT, {"tensor 'a' is an array, not an object"});
    expect_header_error(hdr(R"("a":{"dtype":5,"shape":[6],"data_offsets":[0,24]})"), d24, LB_E_FORMAT,
                        {"tensor 'a': \"dtype\" must be a string, not an integer"});
    expect_header_error(hdr(R"("a":{"dtype":"F32","shape":"6","data_offsets":[0,24]})"), d24, LB_E_FORMAT,
                        {"tensor 'a': \"shape\" must be an array of dimensions, not a string"});
    expect_header_error(hdr(R"("a":{"dtype":"F32","shape":[2.0,3],"data_offsets":[0,24]})"), d24, LB_E_FORMAT,
                        {"tensor 'a': dimension 0 of the shape must be a non-negative integer, not 2.0"});
    expect_header_error(hdr(R"("a":{"dtype":"F32","shape":[2,"3"],"data_offsets":[0,24]})"), d24, LB_E_FORMAT,
                        {"tensor 'a': dimension 1", "not the string '3'"});
    expect_header_error(hdr(R"("a":{"dtype":"F32","shape":[6],"data_offsets":[0]})"), d24, LB_E_FORMAT,
                        {"tensor 'a': \"data_offsets\" must be an array [begin, end], not an array of 1"});
    expect_header_error(hdr(R"("a":{"dtype":"F32","shape":[6],"data_offsets":{"b":0}})"), d24, LB_E_FORMAT,
                        {"tensor 'a': \"data_offsets\" must be an array [begin, end], not an object"});
    expect_header_error(hdr(R"("a":{"dtype":"F32","shape":[6],"data_offsets":[-1,23]})"), d24, LB_E_FORMAT,
                        {"tensor 'a': data offset begin must be a non-negative integer, not -1"});
    expect_header_error(hdr(R"("a":{"dtype":"F32","shape":[6],"data_offsets":[0,null]})"), d24, LB_E_FORMAT,
                        {"tensor 'a': data offset end must be a non-negative integer, not null"});
    // dtypes
    for (const char *other : {"F64", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2", "I32", "I64", "U16"})
        expect_header_error(hdr(entry_json("a.weight", other, "[6]", 0, 24)), d24, LB_E_UNSUPPORTED,
                            {std::string("tensor 'a.weight' has dtype ") + other, "only F32, F16 and BF16"});
    expect_header_error(hdr(entry_json("a", "F99", "[6]", 0, 24)), d24, LB_E_FORMAT,
                        {"tensor 'a' has dtype 'F99', which is not a safetensors dtype"});
    expect_header_error(hdr(entry_json("a", "f32", "[6]", 0, 24)), d24, LB_E_FORMAT, {"dtype 'f32'"});
    // shapes
    expect_header_error(hdr(entry_json("a", "F32", "[-2,3]", 0, 24)), d24, LB_E_FORMAT,
                        {"tensor 'a': dimension 0 of the shape must be a non-negative integer, not -2"});
    expect_header_error(hdr(entry_json("a", "F32", "[4294967296,4294967296,2]", 0, 24)), d24, LB_E_FORMAT,
                        {"tensor 'a': the shape [4294967296,4294967296,2] has more elements than 2^64"});
    expect_header_error(
        hdr(entry_json("a", "F32", "[4611686018427387904,2]", 0, 24)), d24, LB_E_FORMAT,
        {"tensor 'a': the shape [4611686018427387904,2] of F32 elements takes more than 2^64 bytes"});
    expect_header_error(hdr(entry_json("a", "F32", "[9223372036854775808]", 0, 24)), d24, LB_E_FORMAT,
                        {"tensor 'a': dimension 0"});
    // a shape of 100,000 dimensions is cut in the message
    std::string zeros = "[0";
    for (int i = 1; i < 100000; ++i) zeros += ",0";
    zeros += "]";
    expect_header_error(
        hdr(entry_json("a", "F32", zeros, 0, 24)), d24, LB_E_FORMAT,
        {"tensor 'a': data offsets [0, 24] hold 24 bytes, but shape [0,0,0", "0,0... of F32 takes 0"});
    // sizes and offsets
    expect_header_error(hdr(entry_json("a", "F32", "[2,3]", 0, 20)), std::vector<uint8_t>(20), LB_E_FORMAT,
                        {"tensor 'a': data offsets [0, 20] hold 20 bytes, but shape [2,3] of F32 takes 24"});
    expect_header_error(hdr(entry_json("a", "BF16", "[2,3]", 0, 24)), d24, LB_E_FORMAT,
                        {"tensor 'a': data offsets [0, 24] hold 24 bytes, but shape [2,3] of BF16 takes 12"});
    expect_header_error(
        hdr(entry_json("a", "F32", "[2,3]", 0, 24)), std::vector<uint8_t>(16), LB_E_FORMAT,
        {"tensor 'a': data offsets [0, 24] run past the end of the data (16 bytes after the header)"});
    expect_header_error(hdr(entry_json("a", "F32", "[1]", 18446744073709551612ull, 18446744073709551615ull)),
                        d24, LB_E_FORMAT, {"tensor 'a'", "run past the end of the data"});
    expect_header_error(hdr(entry_json("a", "F32", "[0]", 8, 0)), d24, LB_E_FORMAT,
                        {"tensor 'a': data offsets [8, 0] end before they begin"});
    // names
    expect_header_error(hdr(ok_a + "," + entry_json("a", "F32", "[2,3]", 0, 24)), d24, LB_E_FORMAT,
                        {"the JSON header: invalid JSON at byte", "duplicate key 'a'"});
    expect_header_error(hdr(entry_json("", "F32", "[2,3]", 0, 24)), d24, LB_E_FORMAT,
                        {"a tensor has an empty name"});
    expect_header_error(hdr(entry_json("a\\u0000b", "F32", "[2,3]", 0, 24)), d24, LB_E_FORMAT,
                        {"tensor 'a\\x00b' has a NUL character in its name"});
    // metadata
    expect_header_error(hdr(std::string(R"("__metadata__":{"format":1},)") + ok_a), d24, LB_E_FORMAT,
                        {"\"__metadata__\" key 'format' must be a string, not an integer"});
    expect_header_error(hdr(std::string(R"("__metadata__":["pt"],)") + ok_a), d24, LB_E_FORMAT,
                        {"\"__metadata__\" must be an object of strings, not an array"});
}

TEST(Safetensors, OverlapsAndHoles) {
    const auto two = [](uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1) {
        const std::string na = std::to_string((a1 - a0) / 4), nb = std::to_string((b1 - b0) / 4);
        return std::string("{") + entry_json("a", "F32", std::string("[") + na + "]", a0, a1) + "," +
               entry_json("b", "F32", std::string("[") + nb + "]", b0, b1) + "}";
    };
    expect_header_error(two(0, 16, 8, 24), std::vector<uint8_t>(24), LB_E_FORMAT,
                        {"tensor 'b' (data offsets [8, 24]) overlaps tensor 'a' (which ends at 16)"});
    expect_header_error(two(0, 16, 0, 16), std::vector<uint8_t>(16), LB_E_FORMAT, {"overlaps tensor"});
    // the offset order, not the name order, is what counts
    expect_header_error(two(8, 24, 0, 16), std::vector<uint8_t>(24), LB_E_FORMAT,
                        {"tensor 'a' (data offsets [8, 24]) overlaps tensor 'b'"});
    expect_header_error(
        two(0, 8, 16, 24), std::vector<uint8_t>(24), LB_E_FORMAT,
        {"bytes [8, 16) of the data belong to no tensor (a hole between tensors 'a' and 'b')"});
    expect_header_error(two(4, 8, 8, 24), std::vector<uint8_t>(24), LB_E_FORMAT,
                        {"bytes [0, 4) of the data belong to no tensor (a hole before tensor 'a')"});
    expect_header_error(
        two(0, 8, 8, 16), std::vector<uint8_t>(24), LB_E_FORMAT,
        {"bytes [16, 24) of the data belong to no tensor (a hole at the end, after tensor 'b')"});
    expect_header_error("{}", std::vector<uint8_t>(3), LB_E_FORMAT,
                        {"the file has no tensors, but 3 bytes of data follow the header"});
    // an empty tensor may sit anywhere inside or at the end of the data
    testdata::TempDir dir;
    const std::string path = dir.file("ok.safetensors");
    testdata::write_file(path, file_bytes(std::string("{") + entry_json("a", "F32", "[4]", 0, 16) + "," +
                                              entry_json("e", "F32", "[0]", 8, 8) + "}",
                                          std::vector<uint8_t>(16)));
    expect_error([&] { st::File f(path); }, LB_E_FORMAT,
                 {"tensor 'e' (data offsets [8, 8]) overlaps tensor 'a'"});
    testdata::write_file(path, file_bytes(std::string("{") + entry_json("a", "F32", "[4]", 0, 16) + "," +
                                              entry_json("e", "F32", "[0]", 16, 16) + "," +
                                              entry_json("f", "F32", "[0]", 0, 0) + "}",
                                          std::vector<uint8_t>(16)));
    const st::File f(path);
    ASSERT_EQ(f.tensors().size(), 3u);
    EXPECT_EQ(f.tensors()[0].name, "f");
    EXPECT_EQ(f.tensors()[1].name, "a");
    EXPECT_EQ(f.tensors()[2].name, "e");
}

TEST(Safetensors, NotAFile) {
    testdata::TempDir dir;
    expect_error([&] { st::File f(dir.file("missing.safetensors")); }, LB_E_IO,
                 {dir.file("missing.safetensors")});
    expect_error([&] { st::File f(dir.path()); }, LB_E_IO, {dir.path(), "not a regular file"});
}

// --- Sharded checkpoints ------------------------------------------------------

std::string index_json(const std::vector<std::pair<std::string, std::string>> &weight_map) {
    std::string s = R"({"metadata":{"total_size":64},"weight_map":{)";
    for (size_t i = 0; i < weight_map.size(); ++i)
        s += std::string(i ? "," : "") + "\"" + weight_map[i].first + "\":\"" + weight_map[i].second + "\"";
    return s + "}}";
}

void write_text(const std::string &path, const std::string &text) {
    testdata::write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

void write_shard(const std::string &path, const std::vector<Spec> &specs) {
    testdata::write_file(path, file_bytes(header_json(specs), data_of(specs)));
}

Spec f32_spec(const std::string &name, size_t n, float offset) {
    return {name, "F32", {static_cast<int64_t>(n)}, f32_bytes(ramp(n, offset))};
}

constexpr const char *kShard1 = "model-00001-of-00002.safetensors";
constexpr const char *kShard2 = "model-00002-of-00002.safetensors";

// Two shards: x and w.0 in the first, w.1 and y in the second.
void write_sharded(const testdata::TempDir &dir) {
    write_shard(dir.file(kShard2), {f32_spec("w.1", 4, 1), f32_spec("y", 2, 3)});
    write_shard(dir.file(kShard1), {f32_spec("x", 2, 0), f32_spec("w.0", 8, 2)});
    write_text(dir.file(st::kIndexFileName),
               index_json({{"y", kShard2}, {"w.0", kShard1}, {"w.1", kShard2}, {"x", kShard1}}));
}

TEST(Shards, SingleAndSharded) {
    testdata::TempDir dir;
    write_sharded(dir);
    const st::Shards s = st::Shards::open(dir.path() + "/");
    EXPECT_EQ(s.folder(), dir.path());
    EXPECT_EQ(s.index_path(), dir.file(st::kIndexFileName));
    std::vector<std::string> names;
    for (const st::Tensor *t : s.tensors()) names.push_back(t->name);
    EXPECT_EQ(names, (std::vector<std::string>{"x", "w.0", "w.1", "y"})); // shard, then offset order
    ASSERT_EQ(s.files().size(), 2u);
    EXPECT_EQ(s.files()[0]->path(), dir.file(kShard1));
    EXPECT_EQ(s.files()[1]->path(), dir.file(kShard2));
    const st::Tensor *w1 = s.find("w.1");
    ASSERT_NE(w1, nullptr);
    EXPECT_EQ(w1->shape, std::vector<int64_t>{4});
    EXPECT_EQ(element(*w1, 3), ramp(4, 1)[3]);
    EXPECT_EQ(&s.file_of(*w1), s.files()[1]);
    EXPECT_EQ(&s.file_of(*s.find("x")), s.files()[0]);
    EXPECT_EQ(s.find("z"), nullptr);
    const st::Tensor stranger = *w1;
    expect_error([&] { s.file_of(stranger); }, LB_E_INVALID_ARG, {"not a tensor of this checkpoint"});

    // model.safetensors beside an index: the single file, as transformers
    write_shard(dir.file(st::kSingleFileName), {f32_spec("only", 3, 0)});
    const st::Shards single = st::Shards::open(dir.path());
    EXPECT_TRUE(single.index_path().empty());
    ASSERT_EQ(single.tensors().size(), 1u);
    EXPECT_EQ(single.tensors()[0]->name, "only");
    EXPECT_EQ(&single.file_of(*single.tensors()[0]), single.files()[0]);
}

void expect_shards_error(const testdata::TempDir &dir, lb_status status,
                         const std::vector<std::string> &words) {
    expect_error([&] { st::Shards::open(dir.path()); }, status, words);
}

TEST(Shards, Errors) {
    {
        testdata::TempDir dir;
        expect_shards_error(dir, LB_E_IO,
                            {dir.path() + ": not a safetensors checkpoint", "model.safetensors.index.json"});
        expect_error([&] { st::Shards::open(dir.file("none")); }, LB_E_IO, {dir.file("none"), "cannot open"});
        write_text(dir.file("f"), "x");
        expect_error([&] { st::Shards::open(dir.file("f")); }, LB_E_IO, {dir.file("f") + ": not a folder"});
    }
    const auto with_index = [](const std::string &index,
                               const std::function<void(const testdata::TempDir &)> &check) {
        testdata::TempDir dir;
        write_sharded(dir);
        write_text(dir.file(st::kIndexFileName), index);
        check(dir);
    };
    const auto index_error = [&](const std::string &index, lb_status status,
                                 const std::vector<std::string> &words) {
        with_index(index, [&](const testdata::TempDir &dir) {
            std::vector<std::string> all = {dir.file(st::kIndexFileName)};
            all.insert(all.end(), words.begin(), words.end());
            expect_shards_error(dir, status, all);
        });
    };
    index_error(R"({"weight_map":{"x":)", LB_E_FORMAT, {": invalid JSON at byte"});
    index_error("[]", LB_E_FORMAT, {": the index is an array, not an object"});
    index_error(R"({"metadata":{}})", LB_E_FORMAT, {": key 'weight_map' is missing"});
    index_error(R"({"weight_map":[]})", LB_E_FORMAT, {": key 'weight_map' must be an object, not an array"});
    index_error(R"({"weight_map":{}})", LB_E_FORMAT, {": the weight_map names no tensor"});
    index_error(R"({"weight_map":{"x":1}})", LB_E_FORMAT, {": the weight_map gives tensor 'x' an integer"});
    index_error(R"({"weight_map":{"x":"a.safetensors","x":"b.safetensors"}})", LB_E_FORMAT,
                {"duplicate key 'x'"});
    // shard names that are not plain file names
    for (const char *name : {"../model-00001-of-00002.safetensors", "/etc/passwd", "sub/model.safetensors",
                             "..", ".", "", "a\\\\b.safetensors"})
        index_error(index_json({{"x", name}, {"w.0", kShard1}, {"w.1", kShard2}, {"y", kShard2}}),
                    LB_E_FORMAT, {": the weight_map places tensor 'x' in", "which is not a plain file name"});
    // a shard missing
    index_error(
        index_json(
            {{"x", kShard1}, {"w.0", kShard1}, {"w.1", kShard2}, {"y", "model-00003-of-00002.safetensors"}}),
        LB_E_IO, {": the weight_map names shard 'model-00003-of-00002.safetensors'", "cannot be opened"});
    // a tensor of the index absent from its shard
    index_error(
        index_json({{"x", kShard1}, {"w.0", kShard1}, {"w.1", kShard2}, {"y", kShard2}, {"z", kShard2}}),
        LB_E_FORMAT,
        {std::string(": the weight_map places tensor 'z' in '") + kShard2 +
         "', but that shard does not hold it"});
    // a tensor of a shard not in the index
    with_index(index_json({{"x", kShard1}, {"w.0", kShard1}, {"w.1", kShard2}}),
               [](const testdata::TempDir &dir) {
                   expect_shards_error(dir, LB_E_FORMAT,
                                       {dir.file(kShard2) + ": tensor 'y' is not in the weight_map of " +
                                        dir.file(st::kIndexFileName)});
               });
    // a tensor in two shards
    with_index(
        index_json({{"x", kShard1}, {"w.0", kShard1}, {"w.1", kShard2}, {"y", kShard2}}),
        [](const testdata::TempDir &dir) {
            write_shard(dir.file(kShard2), {f32_spec("w.1", 4, 1), f32_spec("y", 2, 3), f32_spec("x", 2, 0)});
            expect_shards_error(dir, LB_E_FORMAT,
                                {dir.file(kShard2) +
                                 ": tensor 'x' is in this shard too, but the weight_map of " +
                                 dir.file(st::kIndexFileName) + " places it in '" + kShard1 + "'"});
        });
    // a broken shard is named
    with_index(index_json({{"x", kShard1}, {"w.0", kShard1}, {"w.1", kShard2}, {"y", kShard2}}),
               [](const testdata::TempDir &dir) {
                   testdata::write_file(dir.file(kShard2), file_bytes("{\"y\":{}}", {}));
                   expect_shards_error(dir, LB_E_FORMAT, {dir.file(kShard2) + ": tensor 'y' has no field"});
               });
}

} // namespace
