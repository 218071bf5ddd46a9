// Mixtures against llama.cpp's own quantizer (libllama's llama_model_quantize):
// on synthetic llama models of several shapes (8, 26 and 32 layers; GQA 1, 4
// and 8; tied and untied output; a 172-wide FFN that forces fallbacks), for
// every file type lowbit supports, with and without an importance matrix,
// with --pure, --output-tensor-type, --token-embedding-type and
// --tensor-type: every tensor gets the same type from both.
//
// llama.cpp's choice is read from its dry run (each tensor's log line names
// the type it would write); a few cases also quantize for real with both and
// compare the files.
#include "ggml_peer.hpp"
#include "lowbit/lowbit.h"
#include "peer_imatrix.hpp"
#include "test_data.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace {

struct Shape {
    const char *name;
    uint32_t layers, embd, heads, kv_heads, ff;
    bool tied;
};

const Shape kShapes[] = {
    {"l8_gqa1_untied", 8, 256, 8, 8, 512, false},
    {"l26_gqa4_tied", 26, 256, 8, 2, 512, true},
    {"l32_gqa8_untied", 32, 256, 16, 2, 256, false},
    {"l4_ff172_untied", 4, 256, 4, 1, 172, false},
};

const lb_ftype kFtypes[] = {
    LB_FTYPE_ALL_F32, LB_FTYPE_F16, LB_FTYPE_BF16, LB_FTYPE_Q4_0, LB_FTYPE_Q4_1, LB_FTYPE_Q5_0, LB_FTYPE_Q5_1,
    LB_FTYPE_Q8_0, LB_FTYPE_Q2_K, LB_FTYPE_Q2_K_S, LB_FTYPE_Q3_K_S, LB_FTYPE_Q3_K_M, LB_FTYPE_Q3_K_L,
    LB_FTYPE_Q4_K_S, LB_FTYPE_Q4_K_M, LB_FTYPE_Q5_K_S, LB_FTYPE_Q5_K_M, LB_FTYPE_Q6_K,
    // the newer formats' file types (NVFP4 is no quantization target for
    // either, see MixtureRefusals)
    LB_FTYPE_IQ4_NL, LB_FTYPE_IQ4_XS, LB_FTYPE_TQ1_0, LB_FTYPE_TQ2_0, LB_FTYPE_MXFP4_MOE, LB_FTYPE_Q1_0,
    LB_FTYPE_Q2_0,
    // the lattice I-quants' (most need an imatrix for a real run; the dry
    // runs compared here plan without one, as llama.cpp's do)
    LB_FTYPE_IQ2_XXS, LB_FTYPE_IQ2_XS, LB_FTYPE_IQ2_S, LB_FTYPE_IQ2_M, LB_FTYPE_IQ3_XXS, LB_FTYPE_IQ3_XS,
    LB_FTYPE_IQ3_S, LB_FTYPE_IQ3_M, LB_FTYPE_IQ1_S, LB_FTYPE_IQ1_M};

// Q1_0 needs rows of whole 128-blocks and llama.cpp defines it no fallback:
// both tools refuse the 172-wide FFN (MixtureRefusals).
bool refused_by_both(const Shape &s, lb_ftype ftype) {
    return ftype == LB_FTYPE_Q1_0 && (s.ff % 128 != 0 || s.embd % 128 != 0);
}

// The synthetic models and imatrices, written once for the whole suite.
class Models : public ::testing::Environment {
  public:
    static testdata::TempDir *dir;
    static std::string model(const Shape &s) { return dir->file(std::string(s.name) + ".gguf"); }
    static std::string imatrix(const Shape &s) { return dir->file(std::string(s.name) + ".imatrix.gguf"); }

    void SetUp() override {
        dir = new testdata::TempDir();
        for (const Shape &s : kShapes) {
            lb_synth_options o;
            lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
            o.n_layer = s.layers;
            o.n_embd = s.embd;
            o.n_head = s.heads;
            o.n_head_kv = s.kv_heads;
            o.n_ff = s.ff;
            o.tied_output = s.tied;
            o.type = LB_TYPE_F16;
            o.seed = 7;
            ASSERT_EQ(lb_synth_write_model(&o, model(s).c_str(), nullptr, nullptr), LB_OK) << lb_last_error();
            ASSERT_EQ(lb_synth_write_imatrix(&o, imatrix(s).c_str()), LB_OK) << lb_last_error();
        }
    }
    void TearDown() override { delete dir; }
};
testdata::TempDir *Models::dir = nullptr;
const auto *const kModels = ::testing::AddGlobalTestEnvironment(new Models);

// Options of one comparison, in both tools' terms.
struct Options {
    bool imatrix = false, pure = false;
    lb_type output_type = LB_TYPE_NONE, embedding_type = LB_TYPE_NONE;
    std::vector<std::pair<std::string, lb_type>> tensor_types;
};

// The imatrix of a shape as llama.cpp's llama_model_imatrix_data entries,
// read back from lowbit's file by llama.cpp's own rule (peer_imatrix.hpp).
peer::ImatrixEntries imatrix_data(const Shape &s) {
    peer::ImatrixEntries d;
    std::string error;
    EXPECT_TRUE(peer::read_imatrix_entries(Models::imatrix(s), d, &error)) << error;
    return d;
}

// llama.cpp's log, collected; its dry run prints one line per tensor.
std::string g_log;

std::map<std::string, std::string> llama_types(const Shape &s, lb_ftype ftype, const Options &o, bool dry_run,
                                               const std::string &out) {
    const peer::Llama &llama = peer::Llama::get();
    llama.log_set([](int, const char *text, void *) { g_log += text; }, nullptr);
    g_log.clear();
    peer::Llama::QuantizeParams p = llama.model_quantize_default_params();
    p.ftype = ftype;
    p.nthread = 2; // the CI machine's cores (the output does not depend on it)
    p.dry_run = dry_run;
    p.pure = o.pure;
    // llama.cpp's "no type" is GGML_TYPE_COUNT
    p.output_tensor_type = o.output_type == LB_TYPE_NONE ? peer::kGgmlTypeCount : o.output_type;
    p.token_embedding_type = o.embedding_type == LB_TYPE_NONE ? peer::kGgmlTypeCount : o.embedding_type;
    peer::ImatrixEntries imatrix;
    if (o.imatrix) {
        imatrix = imatrix_data(s);
        p.imatrix = imatrix.entries.data();
    }
    struct Override {
        const char *pattern;
        int type;
    };
    std::vector<Override> overrides;
    for (const auto &[pattern, type] : o.tensor_types) overrides.push_back({pattern.c_str(), type});
    overrides.push_back({nullptr, peer::kGgmlTypeCount});
    if (!o.tensor_types.empty()) p.tt_overrides = overrides.data();
    const uint32_t status = llama.model_quantize(Models::model(s).c_str(), out.c_str(), &p);
    llama.log_set([](int, const char *, void *) {}, nullptr);
    EXPECT_EQ(status, 0u) << "llama_model_quantize failed:\n"
                          << g_log.substr(g_log.size() > 3000 ? g_log.size() - 3000 : 0);

    // "[  12/  48] blk.0.attn_v.weight - [...], type =    f16, converting to q6_K .. size = ..." (a real
    // run),
    // "... type =    f16, size = ... MiB -> ... MiB (q6_K)" (a dry run) or, for a tensor kept as it is,
    // "... type =    f32, size = ..."
    std::map<std::string, std::string> types;
    std::istringstream lines(g_log);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("[", 0) != 0 || line.find("] ") == std::string::npos) continue;
        std::istringstream words(line.substr(line.find("] ") + 2));
        std::string name;
        words >> name;
        std::string type;
        const size_t converting = line.find("converting to ");
        const size_t arrow = line.find("MiB ->");
        if (converting != std::string::npos) {
            std::istringstream cw(line.substr(converting + 14));
            cw >> type;
        } else if (arrow != std::string::npos && line.find('(', arrow) != std::string::npos) {
            const size_t open = line.find('(', arrow);
            type = line.substr(open + 1, line.find(')', open) - open - 1);
        } else {
            const size_t t = line.find("type = ");
            std::istringstream tw(line.substr(t + 7));
            tw >> type;
            if (!type.empty() && type.back() == ',') type.pop_back();
        }
        types[name] = type;
    }
    return types;
}

std::map<std::string, std::string> lowbit_types(const Shape &s, lb_ftype ftype, const Options &o) {
    std::map<std::string, std::string> types;
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, Models::model(s).c_str()), LB_OK) << lb_last_error();
    lb_quantizer *q = nullptr;
    EXPECT_EQ(lb_quantizer_new(&q), LB_OK);
    EXPECT_EQ(lb_quantizer_set_ftype(q, ftype), LB_OK) << lb_last_error();
    EXPECT_EQ(lb_quantizer_set_dry_run(q, 1), LB_OK);
    EXPECT_EQ(lb_quantizer_set_pure(q, o.pure), LB_OK);
    EXPECT_EQ(lb_quantizer_set_output_tensor_type(q, o.output_type), LB_OK) << lb_last_error();
    EXPECT_EQ(lb_quantizer_set_token_embedding_type(q, o.embedding_type), LB_OK) << lb_last_error();
    for (const auto &[pattern, type] : o.tensor_types)
        EXPECT_EQ(lb_quantizer_add_tensor_type(q, pattern.c_str(), type), LB_OK) << lb_last_error();
    if (o.imatrix) {
        EXPECT_EQ(lb_quantizer_set_imatrix(q, Models::imatrix(s).c_str()), LB_OK) << lb_last_error();
    }
    EXPECT_EQ(lb_quantizer_run(q, m, "/dev/null"), LB_OK) << lb_last_error();
    for (size_t i = 0; i < lb_quantizer_plan_count(q); ++i) {
        std::string t = lb_type_name(lb_quantizer_plan_type(q, i));
        for (char &c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (t.size() > 2 && t[t.size() - 1] == 'k' && t[t.size() - 2] == '_') t.back() = 'K'; // ggml's "q4_K"
        types[lb_quantizer_plan_name(q, i)] = t;
    }
    lb_quantizer_free(q);
    lb_model_close(m);
    return types;
}

void expect_same_types(const Shape &s, lb_ftype ftype, const Options &o) {
    testdata::TempDir dir;
    const auto theirs = llama_types(s, ftype, o, true, dir.file("llama.gguf"));
    const auto ours = lowbit_types(s, ftype, o);
    ASSERT_FALSE(theirs.empty()) << "no tensor lines in llama.cpp's log";
    ASSERT_EQ(ours.size(), theirs.size());
    int differ = 0;
    for (const auto &[name, type] : theirs) {
        ASSERT_TRUE(ours.count(name)) << name;
        if (ours.at(name) != type && ++differ <= 5)
            ADD_FAILURE() << s.name << " " << lb_ftype_name(ftype) << ": " << name << ": lowbit "
                          << ours.at(name) << ", llama.cpp " << type;
    }
    EXPECT_EQ(differ, 0) << s.name << " " << lb_ftype_name(ftype);
}

class Mixture : public ::testing::TestWithParam<lb_ftype> {};

TEST_P(Mixture, SameTypesAsLlamaCpp) {
    for (const Shape &s : kShapes)
        if (!refused_by_both(s, GetParam())) expect_same_types(s, GetParam(), {});
}

TEST_P(Mixture, SameTypesAsLlamaCppWithImatrix) {
    for (const Shape &s : kShapes) {
        if (refused_by_both(s, GetParam())) continue;
        Options o;
        o.imatrix = true;
        expect_same_types(s, GetParam(), o);
    }
}

TEST_P(Mixture, SameTypesAsLlamaCppPure) {
    Options o;
    o.pure = true;
    expect_same_types(kShapes[1], GetParam(), o);
}

INSTANTIATE_TEST_SUITE_P(FileTypes, Mixture, ::testing::ValuesIn(kFtypes),
                         [](const ::testing::TestParamInfo<lb_ftype> &info) {
                             return std::string(lb_ftype_name(info.param));
                         });

TEST(MixtureOptions, OutputAndEmbeddingTypes) {
    Options o;
    o.output_type = LB_TYPE_Q8_0;
    o.embedding_type = LB_TYPE_Q4_K;
    for (const Shape &s : {kShapes[0], kShapes[1]})
        for (lb_ftype f : {LB_FTYPE_Q4_K_M, LB_FTYPE_Q3_K_S}) expect_same_types(s, f, o);
}

TEST(MixtureOptions, TensorTypePatterns) {
    Options o;
    o.tensor_types = {
        {"attn_v", LB_TYPE_Q8_0}, {"blk\\.1[0-9]\\.ffn_down", LB_TYPE_Q5_K}, {"ffn_(up|gate)", LB_TYPE_Q3_K}};
    for (const Shape &s : kShapes)
        for (lb_ftype f : {LB_FTYPE_Q4_K_M, LB_FTYPE_Q5_K_M, LB_FTYPE_Q4_0}) expect_same_types(s, f, o);
}

// Real files from both tools: same tensors, same types and sizes, same keys.
void expect_same_files(const Shape &s, lb_ftype ftype, const Options &o) {
    SCOPED_TRACE(std::string(s.name) + " " + lb_ftype_name(ftype) + (o.imatrix ? " with imatrix" : ""));
    testdata::TempDir dir;
    const auto theirs_log = llama_types(s, ftype, o, false, dir.file("llama.gguf"));
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, Models::model(s).c_str()), LB_OK);
    lb_quantizer *q = nullptr;
    ASSERT_EQ(lb_quantizer_new(&q), LB_OK);
    ASSERT_EQ(lb_quantizer_set_ftype(q, ftype), LB_OK) << lb_last_error();
    if (o.imatrix) {
        ASSERT_EQ(lb_quantizer_set_imatrix(q, Models::imatrix(s).c_str()), LB_OK) << lb_last_error();
    }
    ASSERT_EQ(lb_quantizer_run(q, m, dir.file("lowbit.gguf").c_str()), LB_OK) << lb_last_error();
    lb_quantizer_free(q);
    lb_model_close(m);
    lb_model *a = nullptr, *b = nullptr;
    ASSERT_EQ(lb_model_open(&a, dir.file("llama.gguf").c_str()), LB_OK) << lb_last_error();
    ASSERT_EQ(lb_model_open(&b, dir.file("lowbit.gguf").c_str()), LB_OK) << lb_last_error();
    // the same metadata keys, in the same order (ggml's set_val removes
    // and appends a key; lowbit writes llama-quantize's order)
    std::vector<std::string> keys_a, keys_b;
    for (size_t i = 0; i < lb_model_kv_count(a); ++i) keys_a.push_back(lb_model_kv_key(a, i));
    // (with an imatrix, lowbit also records it as the llama-quantize
    // program does: llama_model_quantize leaves that to its caller)
    for (size_t i = 0; i < lb_model_kv_count(b); ++i)
        if (!o.imatrix || std::string(lb_model_kv_key(b, i)).rfind("quantize.imatrix.", 0) != 0)
            keys_b.push_back(lb_model_kv_key(b, i));
    EXPECT_EQ(keys_a, keys_b);
    ASSERT_EQ(lb_model_tensor_count(a), lb_model_tensor_count(b));
    for (size_t i = 0; i < lb_model_tensor_count(a); ++i) {
        size_t j = 0;
        ASSERT_EQ(lb_model_tensor_find(&j, b, lb_model_tensor_name(a, i)), LB_OK);
        EXPECT_EQ(lb_model_tensor_type(a, i), lb_model_tensor_type(b, j)) << lb_model_tensor_name(a, i);
        EXPECT_EQ(lb_model_tensor_size(a, i), lb_model_tensor_size(b, j)) << lb_model_tensor_name(a, i);
    }
    EXPECT_FALSE(theirs_log.empty());
    lb_model_close(a);
    lb_model_close(b);
}

TEST(MixtureFiles, Q4_K_MFilesHaveTheSameTypes) {
    for (const Shape &s : {kShapes[1], kShapes[3]}) expect_same_files(s, LB_FTYPE_Q4_K_M, {});
}

// The newer formats' file types, written for real with an importance matrix,
// on the small shape whose 172-wide FFN makes every 256-block type fall back
// (Q1_0, which has no fallback, on the 8-layer one); the plans of every shape
// are compared above.
TEST(MixtureFiles, NewerFileTypesWithImatrixHaveTheSameTypes) {
    Options o;
    o.imatrix = true;
    for (lb_ftype f : {LB_FTYPE_IQ4_NL, LB_FTYPE_IQ4_XS, LB_FTYPE_TQ1_0, LB_FTYPE_TQ2_0, LB_FTYPE_MXFP4_MOE,
                       LB_FTYPE_Q1_0, LB_FTYPE_Q2_0})
        expect_same_files(refused_by_both(kShapes[3], f) ? kShapes[0] : kShapes[3], f, o);
}

// The lattice I-quants' file types likewise, on the same small shape (its
// 172-wide FFN takes llama.cpp's fallbacks), one test each.
class LatticeFiles : public ::testing::TestWithParam<lb_ftype> {};

TEST_P(LatticeFiles, WithImatrixHaveTheSameTypes) {
    Options o;
    o.imatrix = true;
    expect_same_files(kShapes[3], GetParam(), o);
}

INSTANTIATE_TEST_SUITE_P(MixtureFiles, LatticeFiles,
                         ::testing::Values(LB_FTYPE_IQ2_XXS, LB_FTYPE_IQ2_XS, LB_FTYPE_IQ2_S, LB_FTYPE_IQ2_M,
                                           LB_FTYPE_IQ3_XXS, LB_FTYPE_IQ3_XS, LB_FTYPE_IQ3_S, LB_FTYPE_IQ3_M,
                                           LB_FTYPE_IQ1_S, LB_FTYPE_IQ1_M),
                         [](const ::testing::TestParamInfo<lb_ftype> &info) {
                             return std::string(lb_ftype_name(info.param));
                         });

// What llama_model_quantize refuses, lowbit refuses, with an error that names
// the reason: NVFP4 as a file type, Q1_0 for rows no 128-block fits, the
// lattice I-quants without an importance matrix (saying how to make one).
TEST(MixtureRefusals, NoFileWhereLlamaCppWritesNone) {
    const peer::Llama &llama = peer::Llama::get();
    llama.log_set([](int, const char *text, void *) { g_log += text; }, nullptr);
    for (const auto &[ftype, shape, reason] :
         {std::tuple{LB_FTYPE_NVFP4, kShapes[1], std::string("not a quantization target")},
          std::tuple{LB_FTYPE_Q1_0, kShapes[3], std::string("row width 172 does not fit type Q1_0")},
          std::tuple{LB_FTYPE_IQ2_XXS, kShapes[0], std::string("make one with: lowbit imatrix")},
          std::tuple{LB_FTYPE_IQ1_M, kShapes[0], std::string("needs an importance matrix")}}) {
        SCOPED_TRACE(std::string(shape.name) + " " + lb_ftype_name(ftype));
        testdata::TempDir dir;
        peer::Llama::QuantizeParams p = llama.model_quantize_default_params();
        p.ftype = ftype;
        p.nthread = 1;
        g_log.clear();
        EXPECT_NE(llama.model_quantize(Models::model(shape).c_str(), dir.file("llama.gguf").c_str(), &p), 0u);

        lb_model *m = nullptr;
        ASSERT_EQ(lb_model_open(&m, Models::model(shape).c_str()), LB_OK);
        lb_quantizer *q = nullptr;
        ASSERT_EQ(lb_quantizer_new(&q), LB_OK);
        lb_status st = lb_quantizer_set_ftype(q, ftype);
        if (st == LB_OK) st = lb_quantizer_run(q, m, dir.file("lowbit.gguf").c_str());
        EXPECT_NE(st, LB_OK);
        EXPECT_NE(std::string(lb_last_error()).find(reason), std::string::npos) << lb_last_error();
        EXPECT_NE(::access(dir.file("lowbit.gguf").c_str(), F_OK), 0) << "a file was written";
        lb_quantizer_free(q);
        lb_model_close(m);
    }
    llama.log_set([](int, const char *, void *) {}, nullptr);
}

} // namespace
