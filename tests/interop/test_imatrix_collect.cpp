// Importance matrices collected by lowbit (lb_imatrix_collect) against the
// ones llama.cpp collects itself: libllama runs the same model over the same
// chunks with a cb_eval callback summing the squares of every matrix
// product's input rows, as llama-imatrix does (tests/support/llama_peer).
// lowbit's file, read by llama.cpp's own loader (common_imatrix_load), has
// the same tensors, the same counts and every sum within 1e-4; quantizing
// with lowbit's file or the peer-collected one gives the same tensor types,
// and llama_model_quantize takes lowbit's. Then --in-file merging, the legacy
// form, snapshots, and bad input.
#include "ggml_peer.hpp"
#include "imatrix_files.hpp"
#include "llama_peer.hpp"
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <cmath>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr int kCtx = 256;
const std::string kDataset = "tinystories_val.txt";

struct Collected {
    lb_status status = LB_OK;
    lb_imatrix_result result{};
    std::string error;
};

// lb_imatrix_collect on stories260K (F32 cache, as the peer runs).
Collected collect(const std::string &text, const std::string &out, int max_chunks, bool process_output,
                  const std::vector<std::string> &in_files = {}, int legacy = 0, int save_frequency = 0,
                  lb_imatrix_fn progress = nullptr) {
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, testdata::stories_path().c_str()), LB_OK) << lb_last_error();
    lb_session *s = nullptr;
    EXPECT_EQ(lb_session_new(&s, m), LB_OK) << lb_last_error();
    EXPECT_EQ(lb_session_set_param(s, LB_SESSION_CACHE_TYPE, LB_TYPE_F32), LB_OK);
    EXPECT_EQ(lb_session_set_param(s, LB_SESSION_THREADS, 2), LB_OK);
    std::vector<const char *> files;
    for (const std::string &f : in_files) files.push_back(f.c_str());
    lb_imatrix_options o;
    EXPECT_EQ(lb_imatrix_options_init(&o, LB_IMATRIX_OPTIONS_VERSION), LB_OK);
    o.n_ctx = kCtx;
    o.max_chunks = max_chunks;
    o.process_output = process_output;
    o.legacy_format = legacy;
    o.save_frequency = save_frequency;
    o.dataset = kDataset.c_str();
    o.in_files = files.data();
    o.n_in_files = files.size();
    Collected r;
    r.result.version = LB_IMATRIX_RESULT_VERSION;
    r.status = lb_imatrix_collect(s, text.data(), text.size(), &o, out.c_str(), progress, nullptr, &r.result);
    if (r.status != LB_OK) r.error = lb_last_error();
    lb_session_free(s);
    lb_model_close(m);
    return r;
}

using PeerEntries = std::map<std::string, peer::LlamaModel::ImatrixEntry>;

PeerEntries peer_collect(const std::string &text, int chunks, bool process_output) {
    const peer::LlamaModel llama(testdata::stories_path(), false);
    const std::vector<int32_t> tokens = llama.tokenize(text, true, false);
    EXPECT_GE(tokens.size(), static_cast<size_t>(chunks * kCtx));
    peer::LlamaRunOptions o;
    o.threads = 2;
    return llama.imatrix(tokens, kCtx, chunks, process_output, o);
}

// lowbit's file, as llama.cpp's loader reads it, against the peer's sums.
void expect_matches_peer(const imatrix_files::PeerImatrix &mine, const PeerEntries &peer) {
    ASSERT_EQ(mine.entries.size(), peer.size());
    double worst = 0.0;
    std::string worst_at;
    for (const auto &[name, p] : peer) {
        const auto it = mine.entries.find(name);
        ASSERT_NE(it, mine.entries.end()) << name << " is missing from lowbit's imatrix";
        const imatrix_files::PeerEntry &e = it->second;
        ASSERT_EQ(e.counts, (std::vector<int64_t>{p.count})) << name;
        ASSERT_EQ(e.sums.size(), p.sums.size()) << name;
        double largest = 0.0;
        for (double v : p.sums) largest = std::max(largest, v);
        for (size_t j = 0; j < p.sums.size(); ++j) {
            // relative to the entry, and to the column where it is not tiny
            const double diff = std::fabs(static_cast<double>(e.sums[j]) - p.sums[j]);
            const double rel = diff / std::max(p.sums[j], 1e-3 * largest);
            if (rel > worst) {
                worst = rel;
                worst_at = name + "[" + std::to_string(j) + "]";
            }
        }
    }
    std::printf("imatrix: %zu tensors; largest relative difference from llama.cpp's %.3g (at %s)\n",
                peer.size(), worst, worst_at.c_str());
    EXPECT_LE(worst, 1e-4) << worst_at;
}

class ImatrixCollect : public ::testing::TestWithParam<bool> {};

TEST_P(ImatrixCollect, EqualsWhatLlamaCppCollects) {
    const bool process_output = GetParam();
    const std::string text = testdata::validation_text(20000);
    testdata::TempDir dir;
    // 8 of the text's 18 chunks: fast enough for the sanitizer build too
    const Collected r = collect(text, dir.file("lowbit.gguf"), 8, process_output);
    ASSERT_EQ(r.status, LB_OK) << r.error;
    const int chunks = static_cast<int>(r.result.n_chunks);
    ASSERT_EQ(chunks, 8);
    EXPECT_EQ(r.result.chunk_count, static_cast<uint32_t>(chunks));
    const imatrix_files::PeerImatrix mine = imatrix_files::peer_load(dir.file("lowbit.gguf"));
    EXPECT_TRUE(mine.has_metadata);
    EXPECT_EQ(mine.datasets, std::vector<std::string>{kDataset});
    EXPECT_EQ(mine.chunk_count, chunks);
    EXPECT_EQ(mine.chunk_size, kCtx);
    EXPECT_EQ(mine.entries.count("output.weight"), process_output ? 1u : 0u);
    // stories260K: 5 layers of q, k, v, output, gate, up, down
    EXPECT_EQ(mine.entries.size(), 35u + (process_output ? 1u : 0u));
    expect_matches_peer(mine, peer_collect(text, chunks, process_output));
}

INSTANTIATE_TEST_SUITE_P(OutputToo, ImatrixCollect, ::testing::Bool(),
                         [](const auto &info) { return info.param ? "ProcessOutput" : "Layers"; });

// The type of each tensor of a model file.
std::map<std::string, lb_type> types_of(const std::string &path) {
    lb_model *m = nullptr;
    EXPECT_EQ(lb_model_open(&m, path.c_str()), LB_OK) << lb_last_error();
    std::map<std::string, lb_type> out;
    for (size_t i = 0; m != nullptr && i < lb_model_tensor_count(m); ++i)
        out.emplace(lb_model_tensor_name(m, i), lb_model_tensor_type(m, i));
    lb_model_close(m);
    return out;
}

void quantize(const std::string &imatrix, const std::string &out) {
    lb_model *m = nullptr;
    ASSERT_EQ(lb_model_open(&m, testdata::stories_path().c_str()), LB_OK) << lb_last_error();
    lb_quantizer *q = nullptr;
    ASSERT_EQ(lb_quantizer_new(&q), LB_OK);
    ASSERT_EQ(lb_quantizer_set_ftype(q, LB_FTYPE_Q4_K_M), LB_OK);
    ASSERT_EQ(lb_quantizer_set_imatrix(q, imatrix.c_str()), LB_OK) << lb_last_error();
    EXPECT_EQ(lb_quantizer_run(q, m, out.c_str()), LB_OK) << lb_last_error();
    lb_quantizer_free(q);
    lb_model_close(m);
}

TEST(ImatrixCollectQuantize, EitherFileGivesTheSameTypesAndLlamaQuantizeTakesLowbits) {
    const std::string text = testdata::validation_text(20000);
    testdata::TempDir dir;
    const Collected r = collect(text, dir.file("lowbit.gguf"), 8, false);
    ASSERT_EQ(r.status, LB_OK) << r.error;
    // the peer's sums written as llama-imatrix writes them (ggml's writer)
    std::vector<imatrix_files::GgufEntry> entries;
    for (const auto &[name, e] : peer_collect(text, 8, false))
        entries.push_back({name,
                           static_cast<int64_t>(e.sums.size()),
                           std::vector<float>(e.sums.begin(), e.sums.end()),
                           {static_cast<float>(e.count)}});
    testdata::write_file(dir.file("peer.gguf"),
                         imatrix_files::ggml_bytes(imatrix_files::gguf_model(entries, {kDataset}, 8, kCtx)));
    quantize(dir.file("lowbit.gguf"), dir.file("with_lowbit.gguf"));
    quantize(dir.file("peer.gguf"), dir.file("with_peer.gguf"));
    const auto mine = types_of(dir.file("with_lowbit.gguf"));
    EXPECT_EQ(mine, types_of(dir.file("with_peer.gguf")));
    ASSERT_EQ(mine.size(), 48u);

    // llama_model_quantize with lowbit's file, read by llama.cpp's loader and
    // turned into importances by llama-quantize's rule
    const auto means = imatrix_files::quantize_means(imatrix_files::peer_load(dir.file("lowbit.gguf")));
    struct Entry {
        const char *name;
        const float *data;
        size_t size;
    };
    std::vector<Entry> data;
    for (const auto &[name, v] : means) data.push_back({name.c_str(), v.data(), v.size()});
    data.push_back({nullptr, nullptr, 0});
    const peer::Llama &llama = peer::Llama::get();
    peer::Llama::QuantizeParams p = llama.model_quantize_default_params();
    p.ftype = LB_FTYPE_Q4_K_M;
    p.nthread = 2;
    p.imatrix = data.data();
    ASSERT_EQ(llama.model_quantize(testdata::stories_path().c_str(), dir.file("llama.gguf").c_str(), &p), 0u);
    EXPECT_EQ(types_of(dir.file("llama.gguf")), mine);
}

TEST(ImatrixCollectMerge, InFilesAddTheirSumsCountsAndDatasets) {
    const std::string text = testdata::validation_text(20000);
    testdata::TempDir dir;
    ASSERT_EQ(collect(text, dir.file("a.gguf"), 4, false).status, LB_OK);
    const Collected twice = collect(text, dir.file("b.gguf"), 4, false, {dir.file("a.gguf")});
    ASSERT_EQ(twice.status, LB_OK) << twice.error;
    EXPECT_EQ(twice.result.chunk_count, 8u);
    const auto a = imatrix_files::peer_load(dir.file("a.gguf")),
               b = imatrix_files::peer_load(dir.file("b.gguf"));
    EXPECT_EQ(b.datasets, (std::vector<std::string>{kDataset, kDataset}));
    EXPECT_EQ(b.chunk_count, 8);
    ASSERT_EQ(a.entries.size(), b.entries.size());
    for (const auto &[name, e] : a.entries) {
        const imatrix_files::PeerEntry &f = b.entries.at(name);
        EXPECT_EQ(f.counts, (std::vector<int64_t>{2 * e.counts[0]})) << name;
        for (size_t j = 0; j < e.sums.size(); ++j)
            ASSERT_NEAR(f.sums[j], 2.0 * e.sums[j], 1e-6 * e.sums[j] + 1e-30) << name << "[" << j << "]";
    }

    // a legacy file merged in: its means times ncall go back to sums
    ASSERT_EQ(collect(text, dir.file("a.dat"), 4, false, {}, 1).status, LB_OK);
    const Collected from_dat = collect(text, dir.file("c.gguf"), 4, false, {dir.file("a.dat")});
    ASSERT_EQ(from_dat.status, LB_OK) << from_dat.error;
    const auto c = imatrix_files::quantize_means(imatrix_files::peer_load(dir.file("c.gguf")));
    const auto direct = imatrix_files::quantize_means(a);
    for (const auto &[name, v] : direct)
        for (size_t j = 0; j < v.size(); ++j) ASSERT_NEAR(c.at(name)[j], v[j], 1e-5 * v[j]) << name;
}

TEST(ImatrixCollectLegacy, DatFileGivesLlamaQuantizeTheSameImportances) {
    const std::string text = testdata::validation_text(20000);
    testdata::TempDir dir;
    ASSERT_EQ(collect(text, dir.file("m.gguf"), 5, false).status, LB_OK);
    ASSERT_EQ(collect(text, dir.file("m.dat"), 5, false, {}, 1).status, LB_OK);
    const auto dat = imatrix_files::peer_load(dir.file("m.dat"));
    EXPECT_TRUE(dat.is_legacy);
    EXPECT_EQ(dat.chunk_count, 5);
    EXPECT_EQ(dat.datasets, std::vector<std::string>{kDataset});
    const auto from_dat = imatrix_files::quantize_means(dat);
    const auto from_gguf = imatrix_files::quantize_means(imatrix_files::peer_load(dir.file("m.gguf")));
    ASSERT_EQ(from_dat.size(), from_gguf.size());
    for (const auto &[name, v] : from_gguf)
        for (size_t j = 0; j < v.size(); ++j) ASSERT_NEAR(from_dat.at(name)[j], v[j], 1e-6 * v[j]) << name;
}

TEST(ImatrixCollectSnapshots, SaveFrequencyWritesAtEachMultiple) {
    const std::string text = testdata::validation_text(20000);
    testdata::TempDir dir;
    const std::string out = dir.file("m.gguf");
    ASSERT_EQ(collect(text, out, 5, false, {}, 0, 2).status, LB_OK);
    namespace fs = std::filesystem;
    EXPECT_TRUE(fs::exists(out + ".at_2"));
    EXPECT_TRUE(fs::exists(out + ".at_4"));
    EXPECT_FALSE(fs::exists(out + ".at_5"));
    const auto at2 = imatrix_files::peer_load(out + ".at_2");
    EXPECT_EQ(at2.chunk_count, 2);
    EXPECT_EQ(at2.entries.at("blk.0.attn_q.weight").counts, std::vector<int64_t>{2 * kCtx});
}

TEST(ImatrixCollectErrors, BadInputIsRefusedNamingItAndWritesNothing) {
    const std::string text = testdata::validation_text(20000);
    testdata::TempDir dir;
    const std::string out = dir.file("out.gguf");

    // an importance matrix of another model
    lb_synth_options so;
    ASSERT_EQ(lb_synth_options_init(&so, LB_SYNTH_OPTIONS_VERSION), LB_OK);
    so.n_embd = 128;
    ASSERT_EQ(lb_synth_write_imatrix(&so, dir.file("other.gguf").c_str()), LB_OK) << lb_last_error();
    Collected r = collect(text, out, 2, false, {dir.file("other.gguf")});
    EXPECT_EQ(r.status, LB_E_INVALID_ARG);
    EXPECT_NE(r.error.find("other.gguf"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("another model"), std::string::npos) << r.error;

    // not an importance matrix at all
    testdata::write_file(dir.file("junk.gguf"), std::vector<uint8_t>(100, 7));
    r = collect(text, out, 2, false, {dir.file("junk.gguf")});
    EXPECT_EQ(r.status, LB_E_FORMAT);
    EXPECT_NE(r.error.find("junk.gguf"), std::string::npos) << r.error;

    // an empty text, a text of less than two chunks
    r = collect("", out, 0, false);
    EXPECT_EQ(r.status, LB_E_INVALID_ARG);
    EXPECT_NE(r.error.find("imatrix"), std::string::npos) << r.error;
    r = collect(text.substr(0, 300), out, 0, false);
    EXPECT_EQ(r.status, LB_E_INVALID_ARG);
    EXPECT_NE(r.error.find("two contexts"), std::string::npos) << r.error;

    // cancelled after the second chunk
    r = collect(text, out, 0, false, {}, 0, 0,
                [](const lb_imatrix_result *so_far, void *) { return so_far->n_chunks == 2 ? 1 : 0; });
    EXPECT_EQ(r.status, LB_E_CANCELLED);

    // a folder that does not exist
    r = collect(text, dir.file("missing/out.gguf"), 2, false);
    EXPECT_EQ(r.status, LB_E_IO);
    EXPECT_NE(r.error.find("missing/out.gguf"), std::string::npos) << r.error;

    EXPECT_FALSE(std::filesystem::exists(out));
    size_t left = 0;
    for (const auto &entry : std::filesystem::directory_iterator(dir.path()))
        left += entry.path().filename().string().rfind("out.gguf") != std::string::npos;
    EXPECT_EQ(left, 0u);

    // options of an unknown version, a result of an unknown version
    lb_imatrix_options o;
    EXPECT_EQ(lb_imatrix_options_init(&o, 99), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_imatrix_collect(nullptr, "x", 1, nullptr, out.c_str(), nullptr, nullptr, nullptr),
              LB_E_INVALID_ARG);
}

} // namespace
