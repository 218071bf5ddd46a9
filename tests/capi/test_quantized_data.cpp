// End to end, the quantizer writes exactly what the row API computes: for
// every file type, every tensor of the output equals lb_quantize_rows() of
// the input tensor's rows (dequantized with lb_dequantize_rows()), with the
// importance matrix slice of its tensor (and of its expert) when one is given,
// or the input's bytes for a tensor the plan keeps as it is. The imatrix
// slices are derived here from the imatrix file (sum / count per expert), as
// llama.cpp's quantize derives them, not taken from lowbit.
#include "gguf_builder.hpp"
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

struct Model {
    explicit Model(const std::string &path) {
        EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();
    }
    ~Model() { lb_model_close(m); }
    lb_model *m = nullptr;
};

const float *floats(const lb_model *m, size_t i) {
    const void *p = nullptr;
    EXPECT_EQ(lb_model_tensor_data(&p, nullptr, m, i), LB_OK);
    return static_cast<const float *>(p);
}

// name -> per-column importance, one row of ne0 values per expert.
std::map<std::string, std::vector<float>> imatrix_means(const std::string &path) {
    Model f(path);
    std::map<std::string, std::vector<float>> means;
    const std::string suffix = ".in_sum2";
    for (size_t i = 0; i < lb_model_tensor_count(f.m); ++i) {
        const std::string name = lb_model_tensor_name(f.m, i);
        if (name.size() <= suffix.size() ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string stem = name.substr(0, name.size() - suffix.size());
        size_t c = 0;
        EXPECT_EQ(lb_model_tensor_find(&c, f.m, (stem + ".counts").c_str()), LB_OK) << stem;
        const int64_t ne0 = lb_model_tensor_dim(f.m, i, 0), n_mat = lb_model_tensor_dim(f.m, i, 1);
        const float *sums = floats(f.m, i), *counts = floats(f.m, c);
        std::vector<float> m(static_cast<size_t>(ne0 * n_mat));
        for (int64_t e = 0; e < n_mat; ++e)
            for (int64_t j = 0; j < ne0; ++j)
                m[static_cast<size_t>(e * ne0 + j)] = sums[e * ne0 + j] / (counts[e] > 0 ? counts[e] : 1.0f);
        means[stem] = m;
    }
    return means;
}

// Quantizes `in` to `ftype` (with `imatrix` if not empty), then checks every
// output tensor against the row API. Returns how many tensors were converted.
size_t check_file_type(const std::string &in, lb_ftype ftype, const std::string &imatrix,
                       const std::string &out) {
    lb_quantizer *q = nullptr;
    EXPECT_EQ(lb_quantizer_new(&q), LB_OK);
    EXPECT_EQ(lb_quantizer_set_ftype(q, ftype), LB_OK);
    EXPECT_EQ(lb_quantizer_set_threads(q, 2), LB_OK);
    if (!imatrix.empty()) {
        EXPECT_EQ(lb_quantizer_set_imatrix(q, imatrix.c_str()), LB_OK) << lb_last_error();
    }
    Model input(in);
    const lb_status st = lb_quantizer_run(q, input.m, out.c_str());
    lb_quantizer_free(q);
    if (st != LB_OK) {
        ADD_FAILURE() << lb_ftype_name(ftype) << ": " << lb_last_error();
        return 0;
    }
    const std::map<std::string, std::vector<float>> means =
        imatrix.empty() ? std::map<std::string, std::vector<float>>{} : imatrix_means(imatrix);
    Model output(out);
    size_t converted = 0;
    EXPECT_EQ(lb_model_tensor_count(output.m), lb_model_tensor_count(input.m));
    for (size_t o = 0; o < lb_model_tensor_count(output.m); ++o) {
        const std::string name = lb_model_tensor_name(output.m, o);
        size_t i = 0;
        EXPECT_EQ(lb_model_tensor_find(&i, input.m, name.c_str()), LB_OK) << name;
        const void *got = nullptr, *src = nullptr;
        uint64_t got_size = 0, src_size = 0;
        EXPECT_EQ(lb_model_tensor_data(&got, &got_size, output.m, o), LB_OK);
        EXPECT_EQ(lb_model_tensor_data(&src, &src_size, input.m, i), LB_OK);
        const lb_type from = lb_model_tensor_type(input.m, i), to = lb_model_tensor_type(output.m, o);
        const std::string what = std::string(lb_ftype_name(ftype)) +
                                 (imatrix.empty() ? "" : " with imatrix") + ": " + name + " (" +
                                 lb_type_name(from) + " -> " + lb_type_name(to) + ")";
        if (from == to) {
            EXPECT_TRUE(got_size == src_size && std::memcmp(got, src, got_size) == 0)
                << what << " was not copied";
            continue;
        }
        ++converted;
        const int64_t ne0 = lb_model_tensor_dim(input.m, i, 0);
        const int64_t rows = lb_model_tensor_n_elements(input.m, i) / ne0;
        const int64_t rows_per_expert = lb_model_tensor_dim(input.m, i, 1);
        const int64_t experts = rows / rows_per_expert;
        std::vector<float> x(static_cast<size_t>(rows * ne0));
        EXPECT_EQ(lb_dequantize_rows(from, src, src_size, rows, ne0, x.data()), LB_OK) << what;
        size_t row_bytes = 0;
        EXPECT_EQ(lb_row_size(&row_bytes, to, ne0), LB_OK);
        std::vector<uint8_t> want(static_cast<size_t>(rows) * row_bytes);
        // the entry's values for this tensor, if it has the right count
        const auto it = means.find(name);
        const bool has_imatrix = it != means.end() && it->second.size() == static_cast<size_t>(ne0 * experts);
        for (int64_t e = 0; e < experts; ++e) {
            const float *imat = has_imatrix ? it->second.data() + e * ne0 : nullptr;
            EXPECT_EQ(lb_quantize_rows(to, x.data() + e * rows_per_expert * ne0, rows_per_expert, ne0, imat,
                                       want.data() + static_cast<size_t>(e * rows_per_expert) * row_bytes,
                                       static_cast<size_t>(rows_per_expert) * row_bytes),
                      LB_OK)
                << what;
        }
        EXPECT_EQ(got_size, want.size()) << what;
        EXPECT_TRUE(got_size == want.size() && std::memcmp(got, want.data(), want.size()) == 0)
            << what << ": the quantizer's bytes differ from lb_quantize_rows'";
    }
    return converted;
}

// The file types whose mixtures give some tensor a type that needs an
// importance matrix (llama.cpp's tensor_requires_imatrix; the refusal
// without one is tested against llama_model_quantize in the interop tests).
bool needs_imatrix(lb_ftype f) {
    return f == LB_FTYPE_Q2_K_S || f == LB_FTYPE_IQ2_XXS || f == LB_FTYPE_IQ2_XS || f == LB_FTYPE_IQ2_S ||
           f == LB_FTYPE_IQ2_M || f == LB_FTYPE_IQ3_XXS || f == LB_FTYPE_IQ3_XS || f == LB_FTYPE_IQ1_S ||
           f == LB_FTYPE_IQ1_M;
}

// Every file type lowbit produces.
std::vector<lb_ftype> file_types() {
    std::vector<lb_ftype> all;
    for (int id = 0; id < 64; ++id)
        if (lb_ftype_name(static_cast<lb_ftype>(id)) != nullptr &&
            lb_ftype_is_supported(static_cast<lb_ftype>(id)))
            all.push_back(static_cast<lb_ftype>(id));
    return all;
}

TEST(QuantizedData, LowbitProducesEveryFileTypeItNames) {
    EXPECT_GE(file_types().size(), 28u);
}

// Each file type, without an importance matrix (where it allows that) and
// with one.
class EveryFileType : public ::testing::TestWithParam<lb_ftype> {};

TEST_P(EveryFileType, EveryTensorIsTheRowApisResult) {
    testdata::TempDir dir;
    const std::string model = dir.file("synth.gguf"), imatrix = dir.file("synth.imatrix.gguf");
    lb_synth_options o;
    lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
    o.n_layer = 2;
    o.n_embd = 256;
    o.n_ff = 512;
    o.seed = 11;
    ASSERT_EQ(lb_synth_write_model(&o, model.c_str(), nullptr, nullptr), LB_OK) << lb_last_error();
    ASSERT_EQ(lb_synth_write_imatrix(&o, imatrix.c_str()), LB_OK) << lb_last_error();
    const lb_ftype ftype = GetParam();
    const std::string name = lb_ftype_name(ftype);
    if (!needs_imatrix(ftype)) check_file_type(model, ftype, "", dir.file(name + ".gguf"));
    const size_t converted = check_file_type(model, ftype, imatrix, dir.file(name + "-imatrix.gguf"));
    if (lb_ftype_default_type(ftype) != LB_TYPE_F16) { // the model is F16
        EXPECT_GT(converted, 0u) << name;
    }
}

INSTANTIATE_TEST_SUITE_P(QuantizedData, EveryFileType, ::testing::ValuesIn(file_types()),
                         [](const ::testing::TestParamInfo<lb_ftype> &info) {
                             return std::string(lb_ftype_name(info.param));
                         });

// A mixture-of-experts model: 3-D expert tensors, whose rows take the
// importances of their own expert.
TEST(QuantizedData, ExpertRowsUseTheirExpertsImportance) {
    using namespace gguf_builder;
    constexpr int64_t kEmbd = 256, kFf = 256, kExperts = 4, kVocab = 32;
    testdata::Rng rng(17);
    auto random_f32 = [&](int64_t n) {
        Bytes b;
        for (int64_t i = 0; i < n; ++i) b.f32(static_cast<float>(rng.normal()));
        return std::vector<uint8_t>(b);
    };
    gguf_builder::Model m;
    m.kvs = {{.key = "general.architecture", .value = string_value("llama")},
             {.key = "llama.block_count", .value = u32_value(1)},
             {.key = "llama.expert_count", .value = u32_value(kExperts)},
             {.key = "llama.attention.head_count", .value = u32_value(4)}};
    m.tensors = {
        {.name = "token_embd.weight", .ne = {kEmbd, kVocab}, .type = 0, .data = random_f32(kEmbd * kVocab)},
        {.name = "blk.0.attn_q.weight", .ne = {kEmbd, kEmbd}, .type = 0, .data = random_f32(kEmbd * kEmbd)},
        {.name = "blk.0.ffn_gate_exps.weight",
         .ne = {kEmbd, kFf, kExperts},
         .type = 0,
         .data = random_f32(kEmbd * kFf * kExperts)},
        {.name = "blk.0.ffn_up_exps.weight",
         .ne = {kEmbd, kFf, kExperts},
         .type = 0,
         .data = random_f32(kEmbd * kFf * kExperts)},
        {.name = "blk.0.ffn_down_exps.weight",
         .ne = {kFf, kEmbd, kExperts},
         .type = 0,
         .data = random_f32(kFf * kEmbd * kExperts)},
        {.name = "output_norm.weight", .ne = {kEmbd}, .type = 0, .data = random_f32(kEmbd)},
        {.name = "output.weight", .ne = {kEmbd, kVocab}, .type = 0, .data = random_f32(kEmbd * kVocab)},
    };
    // the imatrix: every expert its own sums and its own token count
    gguf_builder::Model im;
    im.kvs = {{.key = "general.type", .value = string_value("imatrix")},
              {.key = "imatrix.datasets", .value = string_array_value({"test"})},
              {.key = "imatrix.chunk_count", .value = u32_value(3)},
              {.key = "imatrix.chunk_size", .value = u32_value(64)}};
    for (const char *name : {"blk.0.attn_q.weight", "blk.0.ffn_down_exps.weight",
                             "blk.0.ffn_gate_exps.weight", "blk.0.ffn_up_exps.weight"}) {
        const bool exps = std::strstr(name, "exps") != nullptr;
        const int64_t n_mat = exps ? kExperts : 1, ne0 = kEmbd;
        Bytes sums, counts;
        for (int64_t e = 0; e < n_mat; ++e) {
            counts.f32(static_cast<float>(10 * (e + 1)));
            for (int64_t j = 0; j < ne0; ++j)
                sums.f32(static_cast<float>(10 * (e + 1)) * std::exp(rng.normal()));
        }
        im.tensors.push_back(
            {.name = std::string(name) + ".in_sum2", .ne = {ne0, n_mat}, .type = 0, .data = sums});
        im.tensors.push_back(
            {.name = std::string(name) + ".counts", .ne = {1, n_mat}, .type = 0, .data = counts});
    }
    testdata::TempDir dir;
    const std::string model = dir.file("moe.gguf"), imatrix = dir.file("moe.imatrix.gguf");
    testdata::write_file(model, m.build());
    testdata::write_file(imatrix, im.build());
    for (const lb_ftype ftype : {LB_FTYPE_Q4_K_M, LB_FTYPE_Q2_K, LB_FTYPE_Q4_0, LB_FTYPE_Q6_K}) {
        const std::string name = lb_ftype_name(ftype);
        EXPECT_GE(check_file_type(model, ftype, imatrix, dir.file(name + ".gguf")), 4u) << name;
    }
}

} // namespace
