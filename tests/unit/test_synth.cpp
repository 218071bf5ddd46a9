// Synthetic models (lib/synth): the bytes depend on the seed and not on the
// thread count; names, shapes, types and metadata follow the options; the
// weights have the designed statistics; the imatrix has one entry per
// quantizable weight in llama.cpp's layout; a tokenizer is copied whole; bad
// options and cancellation fail cleanly and leave no file.
#include "common/error.hpp"
#include "formats/type_traits.hpp"
#include "gguf/gguf_file.hpp"
#include "synth/synth_model.hpp"
#include "test_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace lb;

lb_synth_options small_options() {
    lb_synth_options o;
    lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
    o.n_layer = 2;
    o.n_embd = 128;
    o.n_head = 8;
    o.n_head_kv = 2;
    o.n_ff = 384;
    return o;
}

uint64_t u32_key(const gguf::Header &h, const std::string &key) {
    const long i = gguf::find_key(h.kvs, key);
    EXPECT_GE(i, 0) << key;
    if (i < 0) return ~0ull;
    const gguf::Value &v = h.kvs[static_cast<size_t>(i)].value;
    EXPECT_EQ(v.type, gguf::ValueType::U32) << key;
    uint32_t x = 0;
    std::memcpy(&x, v.bytes.data(), 4);
    return x;
}

const gguf::TensorInfo *find_tensor(const gguf::Header &h, const std::string &name) {
    for (const gguf::TensorInfo &t : h.tensors)
        if (t.name == name) return &t;
    return nullptr;
}

// The values of tensor i as floats.
std::vector<float> tensor_values(const gguf::GgufFile &f, size_t i) {
    const gguf::TensorInfo &t = f.header().tensors[i];
    std::vector<float> out(static_cast<size_t>(t.n_elements()));
    const size_t row_bytes = formats::row_bytes(t.type, t.ne[0]);
    for (int64_t r = 0; r < t.n_elements() / t.ne[0]; ++r)
        formats::traits(t.type).dequantize(f.tensor_data(i) + static_cast<size_t>(r) * row_bytes,
                                           out.data() + static_cast<size_t>(r * t.ne[0]), t.ne[0]);
    return out;
}

double mean_of(const std::vector<double> &v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}

double std_of(const std::vector<double> &v) {
    const double m = mean_of(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / static_cast<double>(v.size()));
}

TEST(SynthModel, SameBytesForEveryThreadCountAndDifferentForAnotherSeed) {
    testdata::TempDir dir;
    const lb_synth_options o = small_options();
    std::vector<std::vector<uint8_t>> files;
    for (int threads : {1, 2, 5}) {
        const std::string path = dir.file(std::string("threads") + std::to_string(threads));
        synth::WriteOptions w;
        w.n_threads = threads;
        synth::write_model(o, path, w);
        files.push_back(testdata::read_file(path));
    }
    ASSERT_EQ(lb_synth_write_model(&o, dir.file("capi.gguf").c_str(), nullptr, nullptr), LB_OK)
        << lb_last_error();
    files.push_back(testdata::read_file(dir.file("capi.gguf")));
    for (size_t i = 1; i < files.size(); ++i) EXPECT_EQ(files[i], files[0]) << "file " << i;

    lb_synth_options o2 = o;
    o2.seed = 2;
    ASSERT_EQ(lb_synth_write_model(&o2, dir.file("seed2.gguf").c_str(), nullptr, nullptr), LB_OK);
    const gguf::GgufFile a(dir.file("capi.gguf")), b(dir.file("seed2.gguf"));
    ASSERT_EQ(a.header().tensors.size(), b.header().tensors.size());
    for (size_t i = 0; i < a.header().tensors.size(); ++i) {
        const uint64_t size = a.header().tensors[i].size;
        EXPECT_NE(std::memcmp(a.tensor_data(i), b.tensor_data(i), size), 0) << a.header().tensors[i].name;
    }
}

// Pins the generator: any change to the numbers (a different C library, a
// reordered draw) shows up here. Update the constant only on purpose.
TEST(SynthModel, GeneratorIsPinned) {
    synth::Rng rng(42);
    EXPECT_EQ(rng.next(), 0x15780b2e0c2ec716ull);
    const synth::TensorSpec spec{"blk.0.attn_q.weight", 2, 64, 64, LB_TYPE_F32, synth::Kind::Matrix};
    const synth::TensorGenerator gen(spec, 1);
    std::vector<float> row(64);
    gen.row(3, row.data());
    uint32_t bits[2];
    std::memcpy(&bits[0], &row[0], 4);
    std::memcpy(&bits[1], &row[63], 4);
    EXPECT_EQ(bits[0], 0xbac2dbcdu);
    EXPECT_EQ(bits[1], 0xbdf346cau);

    // A whole file: metadata, layout and every value.
    testdata::TempDir dir;
    const lb_synth_options o = small_options();
    ASSERT_EQ(lb_synth_write_model(&o, dir.file("m.gguf").c_str(), nullptr, nullptr), LB_OK)
        << lb_last_error();
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint8_t b : testdata::read_file(dir.file("m.gguf"))) h = (h ^ b) * 0x100000001b3ull;
    EXPECT_EQ(h, 0x11677bba09f2f3c4ull) << std::hex << h;
}

TEST(SynthModel, DefaultsAreAsDocumented) {
    lb_synth_options o;
    std::memset(&o, 0xff, sizeof o);
    lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
    EXPECT_EQ(o.version, static_cast<uint32_t>(LB_SYNTH_OPTIONS_VERSION));
    EXPECT_EQ(o.n_layer, 2u);
    EXPECT_EQ(o.n_embd, 256u);
    EXPECT_EQ(o.n_head, 8u);
    EXPECT_EQ(o.n_head_kv, 4u);
    EXPECT_EQ(o.n_ff, 512u);
    EXPECT_EQ(o.tied_output, 0);
    EXPECT_EQ(o.type, LB_TYPE_F16);
    EXPECT_EQ(o.seed, 1u);
    EXPECT_EQ(o.tokenizer_from, nullptr);
    EXPECT_NO_THROW(synth::validate(o, "test"));
}

struct LayoutCase {
    uint32_t n_head_kv;
    uint32_t n_ff;
    int tied;
    lb_type type;
};

class SynthLayout : public ::testing::TestWithParam<LayoutCase> {};

TEST_P(SynthLayout, NamesShapesTypesAndMetadataFollowTheOptions) {
    const LayoutCase c = GetParam();
    lb_synth_options o = small_options();
    o.n_layer = 3;
    o.n_head = 8;
    o.n_head_kv = c.n_head_kv;
    o.n_ff = c.n_ff;
    o.tied_output = c.tied;
    o.type = c.type;
    testdata::TempDir dir;
    ASSERT_EQ(lb_synth_write_model(&o, dir.file("m.gguf").c_str(), nullptr, nullptr), LB_OK)
        << lb_last_error();
    const gguf::GgufFile f(dir.file("m.gguf"));
    const gguf::Header &h = f.header();

    const int64_t embd = 128, kv = 128 / 8 * c.n_head_kv, ff = c.n_ff, vocab = 259;
    struct Expected {
        std::string name;
        uint32_t n_dims;
        int64_t ne0, ne1;
    };
    std::vector<Expected> want = {{"token_embd.weight", 2, embd, vocab}, {"output_norm.weight", 1, embd, 1}};
    if (!c.tied) want.push_back({"output.weight", 2, embd, vocab});
    for (int l = 0; l < 3; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        want.push_back({p + "attn_q.weight", 2, embd, embd});
        want.push_back({p + "attn_k.weight", 2, embd, kv});
        want.push_back({p + "attn_v.weight", 2, embd, kv});
        want.push_back({p + "attn_output.weight", 2, embd, embd});
        want.push_back({p + "attn_norm.weight", 1, embd, 1});
        want.push_back({p + "ffn_gate.weight", 2, embd, ff});
        want.push_back({p + "ffn_down.weight", 2, ff, embd});
        want.push_back({p + "ffn_up.weight", 2, embd, ff});
        want.push_back({p + "ffn_norm.weight", 1, embd, 1});
    }
    ASSERT_EQ(h.tensors.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        const gguf::TensorInfo &t = h.tensors[i];
        EXPECT_EQ(t.name, want[i].name);
        EXPECT_EQ(t.n_dims, want[i].n_dims) << t.name;
        EXPECT_EQ(t.ne[0], want[i].ne0) << t.name;
        EXPECT_EQ(t.ne[1], want[i].ne1) << t.name;
        EXPECT_EQ(t.type, static_cast<uint32_t>(want[i].n_dims == 1 ? LB_TYPE_F32 : c.type)) << t.name;
    }
    const gguf::TensorInfo &last = h.tensors.back();
    EXPECT_EQ(h.data_offset + last.offset + last.size, f.file_size());

    const long arch = gguf::find_key(h.kvs, "general.architecture");
    ASSERT_GE(arch, 0);
    EXPECT_EQ(h.kvs[static_cast<size_t>(arch)].value.strings.at(0), "llama");
    EXPECT_EQ(u32_key(h, "general.file_type"), c.type == LB_TYPE_F32 ? 0u : c.type == LB_TYPE_F16 ? 1u : 32u);
    EXPECT_EQ(u32_key(h, "llama.block_count"), 3u);
    EXPECT_EQ(u32_key(h, "llama.embedding_length"), 128u);
    EXPECT_EQ(u32_key(h, "llama.feed_forward_length"), c.n_ff);
    EXPECT_EQ(u32_key(h, "llama.attention.head_count"), 8u);
    EXPECT_EQ(u32_key(h, "llama.attention.head_count_kv"), c.n_head_kv);
    EXPECT_EQ(u32_key(h, "llama.rope.dimension_count"), 16u);
    EXPECT_EQ(u32_key(h, "llama.context_length"), 2048u);
    EXPECT_EQ(u32_key(h, "llama.vocab_size"), 259u);
    const long eps = gguf::find_key(h.kvs, "llama.attention.layer_norm_rms_epsilon");
    ASSERT_GE(eps, 0);
    float e = 0;
    std::memcpy(&e, h.kvs[static_cast<size_t>(eps)].value.bytes.data(), 4);
    EXPECT_EQ(e, 1e-5f);

    // The built-in vocabulary.
    const long tokens = gguf::find_key(h.kvs, "tokenizer.ggml.tokens");
    ASSERT_GE(tokens, 0);
    const gguf::Value &tv = h.kvs[static_cast<size_t>(tokens)].value;
    ASSERT_EQ(tv.count, 259u);
    EXPECT_EQ(tv.strings[0], "<unk>");
    EXPECT_EQ(tv.strings[1], "<s>");
    EXPECT_EQ(tv.strings[2], "</s>");
    EXPECT_EQ(tv.strings[3], "<0x00>");
    EXPECT_EQ(tv.strings[3 + 0x0A], "<0x0A>");
    EXPECT_EQ(tv.strings[258], "<0xFF>");
    const long types = gguf::find_key(h.kvs, "tokenizer.ggml.token_type");
    ASSERT_GE(types, 0);
    const gguf::Value &ty = h.kvs[static_cast<size_t>(types)].value;
    ASSERT_EQ(ty.elem_type, gguf::ValueType::I32);
    std::vector<int32_t> tt(259);
    std::memcpy(tt.data(), ty.bytes.data(), 259 * 4);
    EXPECT_EQ(tt[0], 2);
    EXPECT_EQ(tt[1], 3);
    EXPECT_EQ(tt[2], 3);
    EXPECT_TRUE(std::all_of(tt.begin() + 3, tt.end(), [](int32_t t) { return t == 6; }));
    EXPECT_EQ(u32_key(h, "tokenizer.ggml.bos_token_id"), 1u);
    EXPECT_EQ(u32_key(h, "tokenizer.ggml.eos_token_id"), 2u);
    EXPECT_EQ(u32_key(h, "tokenizer.ggml.unknown_token_id"), 0u);

    // Untied and tied models share the token embeddings.
    lb_synth_options other = o;
    other.tied_output = !c.tied;
    ASSERT_EQ(lb_synth_write_model(&other, dir.file("other.gguf").c_str(), nullptr, nullptr), LB_OK);
    const gguf::GgufFile g(dir.file("other.gguf"));
    EXPECT_EQ(std::memcmp(f.tensor_data(0), g.tensor_data(0), h.tensors[0].size), 0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, SynthLayout,
                         ::testing::Values(LayoutCase{8, 384, 0, LB_TYPE_F16},
                                           LayoutCase{2, 384, 1, LB_TYPE_F16},
                                           LayoutCase{1, 172, 0, LB_TYPE_BF16},
                                           LayoutCase{1, 172, 1, LB_TYPE_F32},
                                           LayoutCase{2, 172, 0, LB_TYPE_F32}),
                         [](const ::testing::TestParamInfo<LayoutCase> &info) {
                             const LayoutCase &c = info.param;
                             return "Gqa" + std::to_string(8 / c.n_head_kv) + "Ff" + std::to_string(c.n_ff) +
                                    (c.tied ? "Tied" : "Untied") + lb_type_name(c.type);
                         });

TEST(SynthModel, WeightsHaveTheDesignedStatistics) {
    lb_synth_options o = small_options();
    o.n_embd = 256;
    o.n_ff = 1024;
    o.type = LB_TYPE_F32;
    o.seed = 7;
    testdata::TempDir dir;
    ASSERT_EQ(lb_synth_write_model(&o, dir.file("m.gguf").c_str(), nullptr, nullptr), LB_OK)
        << lb_last_error();
    const gguf::GgufFile f(dir.file("m.gguf"));
    const std::vector<synth::TensorSpec> specs = synth::model_tensors(o, 259);
    ASSERT_EQ(specs.size(), f.header().tensors.size());

    int64_t matrix_values = 0, outliers = 0, norms = 0;
    for (size_t i = 0; i < specs.size(); ++i) {
        const synth::TensorSpec &s = specs[i];
        const std::vector<float> v = tensor_values(f, i);
        ASSERT_EQ(v.size(), static_cast<size_t>(s.n_elements()));
        if (s.kind == synth::Kind::Norm) {
            ++norms;
            std::vector<double> d(v.begin(), v.end());
            EXPECT_NEAR(mean_of(d), 1.0, 0.03) << s.name;
            EXPECT_GT(std_of(d), 0.01) << s.name;
            for (float x : v) ASSERT_TRUE(x > 0.7f && x < 1.4f) << s.name << ": " << x;
            continue;
        }
        // The file holds exactly what the generator makes.
        const synth::TensorGenerator gen(s, o.seed);
        std::vector<float> row(static_cast<size_t>(s.ne0));
        gen.row(s.ne1 - 1, row.data());
        EXPECT_EQ(std::memcmp(row.data(), v.data() + (s.ne1 - 1) * s.ne0, row.size() * 4), 0) << s.name;

        // Tensor standard deviation near 1/sqrt(fan_in).
        double sum2 = 0;
        for (float x : v) sum2 += static_cast<double>(x) * x;
        const double sd = std::sqrt(sum2 / static_cast<double>(v.size()));
        EXPECT_NEAR(sd * std::sqrt(static_cast<double>(s.ne0)), 1.0, 0.15) << s.name;

        // Spread of per-row and per-column scales (log space), measured on
        // tensors with enough rows and columns for a stable estimate.
        if (s.ne0 >= 256 && s.ne1 >= 256) {
            std::vector<double> row_log, col_sum2(static_cast<size_t>(s.ne0), 0.0), col_log;
            for (int64_t r = 0; r < s.ne1; ++r) {
                double rs = 0;
                for (int64_t c = 0; c < s.ne0; ++c) {
                    const double x = v[static_cast<size_t>(r * s.ne0 + c)];
                    rs += x * x;
                    col_sum2[static_cast<size_t>(c)] += x * x;
                }
                row_log.push_back(0.5 * std::log(rs / static_cast<double>(s.ne0)));
            }
            for (double cs : col_sum2) col_log.push_back(0.5 * std::log(cs / static_cast<double>(s.ne1)));
            EXPECT_NEAR(std_of(row_log), synth::kRowLogStd, 0.08) << s.name;
            EXPECT_NEAR(std_of(col_log), synth::kColLogStd, 0.08) << s.name;
        }

        // Outliers: values far beyond what their row and column scales give.
        for (int64_t r = 0; r < s.ne1; ++r) {
            const double rs = gen.sigma() * gen.row_scale(r);
            for (int64_t c = 0; c < s.ne0; ++c) {
                const double z = v[static_cast<size_t>(r * s.ne0 + c)] / (rs * gen.col_scale(c));
                if (std::fabs(z) > 7.0) ++outliers;
                EXPECT_LT(std::fabs(z), 6.0 * synth::kOutlierMax) << s.name;
            }
        }
        matrix_values += s.n_elements();
    }
    EXPECT_EQ(norms, 1 + 2 * 2);
    // About 1e-4 of the values are outliers; most of them exceed 7 sigma.
    const double rate = static_cast<double>(outliers) / static_cast<double>(matrix_values);
    EXPECT_GT(outliers, 20) << matrix_values << " values";
    EXPECT_GT(rate, 0.3 * synth::kOutlierRate);
    EXPECT_LT(rate, 1.5 * synth::kOutlierRate);
}

TEST(SynthImatrix, OneEntryPerQuantizableWeightInLlamaCppsLayout) {
    for (int tied : {0, 1}) {
        lb_synth_options o = small_options();
        o.n_ff = 172;
        o.tied_output = tied;
        testdata::TempDir dir;
        ASSERT_EQ(lb_synth_write_model(&o, dir.file("m.gguf").c_str(), nullptr, nullptr), LB_OK);
        ASSERT_EQ(lb_synth_write_imatrix(&o, dir.file("m.imatrix.gguf").c_str()), LB_OK) << lb_last_error();
        const gguf::GgufFile model(dir.file("m.gguf")), im(dir.file("m.imatrix.gguf"));
        const gguf::Header &h = im.header();

        ASSERT_EQ(h.kvs.size(), 4u);
        EXPECT_EQ(h.kvs[0].key, "general.type");
        EXPECT_EQ(h.kvs[0].value.strings.at(0), "imatrix");
        EXPECT_EQ(h.kvs[1].key, "imatrix.datasets");
        EXPECT_EQ(h.kvs[1].value.elem_type, gguf::ValueType::STRING);
        EXPECT_EQ(h.kvs[1].value.strings, std::vector<std::string>{"synthetic"});
        EXPECT_EQ(h.kvs[2].key, "imatrix.chunk_count");
        EXPECT_EQ(u32_key(h, "imatrix.chunk_count"), 100u);
        EXPECT_EQ(h.kvs[3].key, "imatrix.chunk_size");
        EXPECT_EQ(u32_key(h, "imatrix.chunk_size"), 512u);

        std::vector<std::string> weights;
        for (const gguf::TensorInfo &t : model.header().tensors)
            if (t.n_dims == 2) weights.push_back(t.name);
        std::sort(weights.begin(), weights.end());
        ASSERT_EQ(h.tensors.size(), 2 * weights.size());
        std::map<std::string, std::vector<float>> means;
        for (size_t i = 0; i < weights.size(); ++i) {
            const gguf::TensorInfo &sums = h.tensors[2 * i], &counts = h.tensors[2 * i + 1];
            const gguf::TensorInfo *w = find_tensor(model.header(), weights[i]);
            ASSERT_NE(w, nullptr);
            EXPECT_EQ(sums.name, weights[i] + ".in_sum2");
            EXPECT_EQ(counts.name, weights[i] + ".counts");
            EXPECT_EQ(sums.type, static_cast<uint32_t>(LB_TYPE_F32));
            EXPECT_EQ(counts.type, static_cast<uint32_t>(LB_TYPE_F32));
            EXPECT_EQ(sums.ne[0], w->ne[0]) << weights[i];
            EXPECT_EQ(sums.n_elements(), w->ne[0]);
            EXPECT_EQ(counts.n_elements(), 1);
            float count = 0;
            std::memcpy(&count, im.tensor_data(2 * i + 1), 4);
            EXPECT_EQ(count, 51200.0f);
            std::vector<float> m(static_cast<size_t>(sums.ne[0]));
            std::memcpy(m.data(), im.tensor_data(2 * i), m.size() * 4);
            for (float &x : m) {
                ASSERT_TRUE(std::isfinite(x) && x > 0.0f) << weights[i];
                x /= count;
            }
            // A log-normal spread with a few large columns.
            std::vector<double> logs;
            for (float x : m) logs.push_back(std::log(x));
            EXPECT_GT(std_of(logs), 0.6) << weights[i];
            std::vector<float> sorted = m;
            std::sort(sorted.begin(), sorted.end());
            EXPECT_GT(sorted.back() / sorted[sorted.size() / 2], 10.0f) << weights[i];
            means[weights[i]] = m;
        }
        // Weights that read the same activations have the same profile.
        EXPECT_EQ(means["blk.1.attn_q.weight"], means["blk.1.attn_k.weight"]);
        EXPECT_EQ(means["blk.1.attn_q.weight"], means["blk.1.attn_v.weight"]);
        EXPECT_EQ(means["blk.1.ffn_gate.weight"], means["blk.1.ffn_up.weight"]);
        EXPECT_NE(means["blk.0.attn_q.weight"], means["blk.1.attn_q.weight"]);
        EXPECT_NE(means["blk.0.attn_q.weight"], means["blk.0.attn_output.weight"]);
        EXPECT_EQ(means.count("output.weight"), tied ? 0u : 1u);
        EXPECT_EQ(means.count("token_embd.weight"), 1u);
    }
}

TEST(SynthModel, CopiesTheTokenizerOfAnotherModel) {
    lb_synth_options o = small_options();
    const std::string stories = testdata::stories_path();
    o.tokenizer_from = stories.c_str();
    testdata::TempDir dir;
    ASSERT_EQ(lb_synth_write_model(&o, dir.file("m.gguf").c_str(), nullptr, nullptr), LB_OK)
        << lb_last_error();
    const gguf::GgufFile f(dir.file("m.gguf")), src(stories);
    std::vector<const gguf::KeyValue *> theirs, ours;
    for (const gguf::KeyValue &kv : src.header().kvs)
        if (kv.key.rfind("tokenizer.", 0) == 0) theirs.push_back(&kv);
    for (const gguf::KeyValue &kv : f.header().kvs)
        if (kv.key.rfind("tokenizer.", 0) == 0) ours.push_back(&kv);
    ASSERT_EQ(ours.size(), theirs.size());
    ASSERT_EQ(ours.size(), 9u);
    for (size_t i = 0; i < ours.size(); ++i) {
        EXPECT_EQ(ours[i]->key, theirs[i]->key);
        EXPECT_EQ(ours[i]->value.type, theirs[i]->value.type) << ours[i]->key;
        EXPECT_EQ(ours[i]->value.elem_type, theirs[i]->value.elem_type) << ours[i]->key;
        EXPECT_EQ(ours[i]->value.count, theirs[i]->value.count) << ours[i]->key;
        EXPECT_EQ(ours[i]->value.bytes, theirs[i]->value.bytes) << ours[i]->key;
        EXPECT_EQ(ours[i]->value.strings, theirs[i]->value.strings) << ours[i]->key;
    }
    EXPECT_EQ(find_tensor(f.header(), "token_embd.weight")->ne[1], 512);
    EXPECT_EQ(find_tensor(f.header(), "output.weight")->ne[1], 512);
    EXPECT_EQ(u32_key(f.header(), "llama.vocab_size"), 512u);
}

struct BadCase {
    const char *what;
    void (*change)(lb_synth_options &);
    const char *message;
};

TEST(SynthModel, BadOptionsNameTheField) {
    const BadCase cases[] = {
        {"version", [](lb_synth_options &o) { o.version = 0; }, "version"},
        {"no layers", [](lb_synth_options &o) { o.n_layer = 0; }, "n_layer is 0"},
        {"too many layers", [](lb_synth_options &o) { o.n_layer = 513; }, "n_layer is 513"},
        {"no embd", [](lb_synth_options &o) { o.n_embd = 0; }, "n_embd is 0"},
        {"no ff", [](lb_synth_options &o) { o.n_ff = 0; }, "n_ff is 0"},
        {"no heads", [](lb_synth_options &o) { o.n_head = 0; }, "n_head is 0"},
        {"no kv heads", [](lb_synth_options &o) { o.n_head_kv = 0; }, "n_head_kv is 0"},
        {"embd % heads", [](lb_synth_options &o) { o.n_head = 3; },
         "n_embd (256) is not a multiple of n_head (3)"},
        {"odd head size", [](lb_synth_options &o) { o.n_embd = 40, o.n_head = 8, o.n_head_kv = 8; },
         "odd head size"},
        {"heads % kv", [](lb_synth_options &o) { o.n_head_kv = 3; },
         "n_head (8) is not a multiple of n_head_kv (3)"},
        {"quantized type", [](lb_synth_options &o) { o.type = LB_TYPE_Q4_0; }, "type is Q4_0"},
        {"not a type", [](lb_synth_options &o) { o.type = static_cast<lb_type>(4); },
         "type is 4 (not a type)"},
    };
    testdata::TempDir dir;
    for (const BadCase &c : cases) {
        lb_synth_options o;
        lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
        c.change(o);
        EXPECT_EQ(lb_synth_write_model(&o, dir.file("m.gguf").c_str(), nullptr, nullptr), LB_E_INVALID_ARG)
            << c.what;
        EXPECT_NE(std::string(lb_last_error()).find(c.message), std::string::npos)
            << c.what << ": " << lb_last_error();
        EXPECT_NE(std::string(lb_last_error()).find("lb_synth_write_model"), std::string::npos)
            << lb_last_error();
        EXPECT_EQ(lb_synth_write_imatrix(&o, dir.file("m.imatrix.gguf").c_str()), LB_E_INVALID_ARG) << c.what;
        EXPECT_NE(std::string(lb_last_error()).find(c.message), std::string::npos)
            << c.what << ": " << lb_last_error();
    }
    lb_synth_options o;
    lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
    EXPECT_EQ(lb_synth_write_model(nullptr, dir.file("m.gguf").c_str(), nullptr, nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_synth_write_model(&o, nullptr, nullptr, nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_synth_write_imatrix(nullptr, dir.file("m.gguf").c_str()), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_synth_write_imatrix(&o, nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_synth_options_init(nullptr, LB_SYNTH_OPTIONS_VERSION), LB_E_INVALID_ARG);
    lb_synth_options unknown;
    EXPECT_EQ(lb_synth_options_init(&unknown, LB_SYNTH_OPTIONS_VERSION + 1), LB_E_INVALID_ARG);
    EXPECT_NE(std::string(lb_last_error()).find("unknown"), std::string::npos) << lb_last_error();
    EXPECT_EQ(lb_synth_write_model(&o, dir.path().c_str(), nullptr, nullptr), LB_E_INVALID_ARG);
    EXPECT_NE(std::string(lb_last_error()).find("is a folder"), std::string::npos) << lb_last_error();
    EXPECT_EQ(lb_synth_write_imatrix(&o, dir.path().c_str()), LB_E_INVALID_ARG);

    // Bad tokenizer sources: missing, not GGUF, GGUF without a vocabulary.
    const std::string missing = dir.file("missing.gguf"), junk = dir.file("junk.gguf");
    testdata::write_file(junk, std::vector<uint8_t>(100, 'x'));
    o.tokenizer_from = missing.c_str();
    EXPECT_EQ(lb_synth_write_model(&o, dir.file("m.gguf").c_str(), nullptr, nullptr), LB_E_IO);
    EXPECT_NE(std::string(lb_last_error()).find("missing.gguf"), std::string::npos) << lb_last_error();
    EXPECT_EQ(lb_synth_write_imatrix(&o, dir.file("m.imatrix.gguf").c_str()), LB_E_IO);
    o.tokenizer_from = junk.c_str();
    EXPECT_EQ(lb_synth_write_model(&o, dir.file("m.gguf").c_str(), nullptr, nullptr), LB_E_FORMAT);
    lb_synth_options plain;
    lb_synth_options_init(&plain, LB_SYNTH_OPTIONS_VERSION);
    plain.n_embd = 64;
    ASSERT_EQ(lb_synth_write_imatrix(&plain, dir.file("vocabless.gguf").c_str()), LB_OK);
    const std::string vocabless = dir.file("vocabless.gguf");
    o.tokenizer_from = vocabless.c_str();
    EXPECT_EQ(lb_synth_write_model(&o, dir.file("m.gguf").c_str(), nullptr, nullptr), LB_E_FORMAT);
    EXPECT_NE(std::string(lb_last_error()).find("tokenizer.ggml.tokens"), std::string::npos)
        << lb_last_error();

    // Nothing was written but the files made on purpose.
    std::vector<std::string> entries = dir.entries();
    std::sort(entries.begin(), entries.end());
    EXPECT_EQ(entries, (std::vector<std::string>{"junk.gguf", "vocabless.gguf"}));
}

struct ProgressLog {
    std::vector<lb_progress> calls;
    std::vector<std::string> names;
    size_t cancel_after = SIZE_MAX;
};

int record(const lb_progress *p, void *user) {
    ProgressLog *log = static_cast<ProgressLog *>(user);
    log->calls.push_back(*p);
    log->names.push_back(p->tensor_name);
    return log->calls.size() > log->cancel_after ? 1 : 0;
}

TEST(SynthModel, ReportsProgressAndCancelsWithoutAFile) {
    lb_synth_options o = small_options();
    testdata::TempDir dir;
    ProgressLog log;
    ASSERT_EQ(lb_synth_write_model(&o, dir.file("m.gguf").c_str(), record, &log), LB_OK) << lb_last_error();
    ASSERT_GE(log.calls.size(), 21u);
    const uint64_t total = log.calls[0].total_elements;
    for (size_t i = 1; i < log.calls.size(); ++i) {
        EXPECT_GE(log.calls[i].done_elements, log.calls[i - 1].done_elements);
        EXPECT_EQ(log.calls[i].total_elements, total);
        EXPECT_EQ(log.calls[i].tensor_count, 21u);
    }
    EXPECT_EQ(log.calls.back().done_elements, total);
    EXPECT_EQ(log.names.front(), "token_embd.weight");
    EXPECT_EQ(log.names.back(), "blk.1.ffn_norm.weight");

    for (size_t after : {0, 5}) {
        ProgressLog cancel;
        cancel.cancel_after = after;
        EXPECT_EQ(lb_synth_write_model(&o, dir.file("c.gguf").c_str(), record, &cancel), LB_E_CANCELLED);
        EXPECT_NE(std::string(lb_last_error()).find("cancelled"), std::string::npos) << lb_last_error();
        EXPECT_EQ(cancel.calls.size(), after + 1);
        EXPECT_EQ(dir.entries(), std::vector<std::string>{"m.gguf"});
    }
}

} // namespace
