// KL-divergence (lib/eval) on stories260K against the figures of
// ../shared/data/PROVENANCE.md (an independent float32 reference, scored as
// llama-perplexity --kl-divergence scores: the first 20,000 characters of
// tinystories_val.txt, ctx 256) for llama.cpp's own Q8_0 and Q4_0 files of the
// F32 model, and against the same measurement made from libllama's logits.
// Seconds of forward passes: the release build only.
#include "eval/kld.hpp"
#include "ggml_peer.hpp"
#include "llama_peer.hpp"
#include "model/model.hpp"
#include "session/session.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace {

// llama.cpp's own quantization of stories260K.
std::string llama_quantized(const testdata::TempDir &dir, lb_ftype ftype) {
    const std::string out = dir.file(std::string(lb_ftype_name(ftype)) + ".gguf");
    const peer::Llama &llama = peer::Llama::get();
    llama.log_set([](int, const char *, void *) {}, nullptr);
    peer::Llama::QuantizeParams p = llama.model_quantize_default_params();
    p.ftype = ftype;
    p.nthread = 2;
    if (llama.model_quantize(testdata::stories_path().c_str(), out.c_str(), &p) != 0)
        throw std::runtime_error("llama_model_quantize failed");
    return out;
}

std::string lowbit_quantized(const testdata::TempDir &dir, lb_ftype ftype) {
    const std::string out = dir.file(std::string("lowbit-") + lb_ftype_name(ftype) + ".gguf");
    testdata::quantize_with_lowbit(testdata::stories_path(), out, ftype);
    return out;
}

// F32 caches on both sides, as the float reference.
lb::eval::KldReport one_step(const std::string &base_path, const std::string &model_path,
                             const std::string &text) {
    const lb::Model base_model(base_path), model_model(model_path);
    lb::session::Session base(base_model), model(model_model);
    base.params.n_threads = model.params.n_threads = 2;
    base.params.kv_type = model.params.kv_type = LB_TYPE_F32;
    lb::eval::KldOptions o;
    o.n_ctx = 256;
    return lb::eval::kl_divergence(base, model, text, o, nullptr);
}

// The same measurement made from libllama's own logits of both files (its
// forward pass, its F16 cache, its activation quantization), with the
// divergence computed here in double precision: an oracle independent of
// lib/eval and of lowbit's forward pass.
struct Reference {
    double kld = 0.0, same_top = 0.0;
    size_t n = 0;
};

Reference llama_reference(const std::string &base_path, const std::string &model_path,
                          const std::string &text, int n_ctx) {
    const peer::LlamaModel base(base_path, false), model(model_path, false);
    const std::vector<int32_t> tokens = base.tokenize(text, true, false);
    const int64_t V = base.n_vocab();
    peer::LlamaRunOptions o;
    o.n_ctx = n_ctx;
    o.f32_kv = true;
    Reference r;
    for (size_t c = 0; c + 1 <= tokens.size() / static_cast<size_t>(n_ctx); ++c) {
        std::vector<int32_t> chunk(tokens.begin() + static_cast<std::ptrdiff_t>(c * n_ctx),
                                   tokens.begin() + static_cast<std::ptrdiff_t>((c + 1) * n_ctx));
        chunk[0] = base.bos();
        const std::vector<float> lb = base.logits(chunk, o), lm = model.logits(chunk, o);
        for (int i = n_ctx / 2; i < n_ctx - 1; ++i) {
            const float *pb = lb.data() + static_cast<size_t>(i) * V,
                        *pm = lm.data() + static_cast<size_t>(i) * V;
            auto log_norm = [V](const float *l, int64_t *best) {
                *best = 0;
                for (int64_t k = 1; k < V; ++k)
                    if (l[k] > l[*best]) *best = k;
                double s = 0;
                for (int64_t k = 0; k < V; ++k) s += std::exp(static_cast<double>(l[k]) - l[*best]);
                return l[*best] + std::log(s);
            };
            int64_t best_b, best_m;
            const double nb = log_norm(pb, &best_b), nm = log_norm(pm, &best_m);
            double kld = 0;
            for (int64_t k = 0; k < V; ++k) {
                const double lpb = pb[k] - nb, lpm = pm[k] - nm;
                kld += std::exp(lpb) * (lpb - lpm);
            }
            r.kld += kld;
            r.same_top += best_b == best_m ? 1 : 0;
            ++r.n;
        }
    }
    r.kld /= static_cast<double>(r.n);
    r.same_top /= static_cast<double>(r.n);
    return r;
}

struct Known {
    lb_ftype ftype;
    double kld, same_top; // PROVENANCE.md (a float32 reference: activations not quantized)
};

// PROVENANCE's figures come from a float32 forward pass; lowbit and llama.cpp
// quantize the activations of each matrix product to 8 bits as llama.cpp's
// CPU backend does. On Q4_0 that adds little to the weights' own error and the
// figures agree within their uncertainty; on Q8_0 it is as large as the
// weights' error (libllama's own figure is twice PROVENANCE's), so there the
// oracle is libllama's forward pass on the same files.
class KldOfLlamaCppsFile : public ::testing::TestWithParam<Known> {};

TEST_P(KldOfLlamaCppsFile, GivesTheKnownFigures) {
    const testdata::TempDir dir;
    const std::string text = testdata::validation_text(20000);
    const Known k = GetParam();
    const std::string file = llama_quantized(dir, k.ftype);
    const lb::eval::KldReport r = one_step(testdata::stories_path(), file, text);
    const Reference ref = llama_reference(testdata::stories_path(), file, text, 256);
    const lb::eval::KldReport own = one_step(testdata::stories_path(), lowbit_quantized(dir, k.ftype), text);
    std::printf("%s, llama.cpp's file: lowbit: KLD %.6f +/- %.6f, same top %.2f%% +/- %.2f%%, PPL %.4f (base "
                "%.4f); libllama: KLD %.6f, same top %.2f%%; PROVENANCE (float32): KLD %.6f, same top "
                "%.2f%%\n",
                lb_ftype_name(k.ftype), r.kld.value, r.kld.uncertainty, 100 * r.same_top.value,
                100 * r.same_top.uncertainty, r.ppl.value, r.ppl_base.value, ref.kld, 100 * ref.same_top,
                k.kld, 100 * k.same_top);
    std::printf("%s, lowbit's file: KLD %.6f +/- %.6f, same top %.2f%%, PPL %.4f\n", lb_ftype_name(k.ftype),
                own.kld.value, own.kld.uncertainty, 100 * own.same_top.value, own.ppl.value);
    EXPECT_EQ(r.n_scored, 4699u);
    EXPECT_EQ(r.n_chunks, 37u);
    EXPECT_EQ(ref.n, r.n_scored);
    // against libllama on the same files: well inside the uncertainty
    EXPECT_NEAR(r.kld.value, ref.kld, r.kld.uncertainty) << lb_ftype_name(k.ftype);
    EXPECT_NEAR(r.same_top.value, ref.same_top, r.same_top.uncertainty) << lb_ftype_name(k.ftype);
    if (k.ftype == LB_FTYPE_Q4_0) {
        EXPECT_NEAR(r.kld.value, k.kld, r.kld.uncertainty);
        EXPECT_NEAR(r.same_top.value, k.same_top, r.same_top.uncertainty);
    }
    EXPECT_NEAR(r.ppl_base.value, 3.7783, 3.7783e-3);
    // the figures hang together
    EXPECT_NEAR(r.ppl_ratio.value, r.ppl.value / r.ppl_base.value, 1e-9);
    EXPECT_NEAR(r.ppl_difference.value, r.ppl.value - r.ppl_base.value, 1e-9);
    EXPECT_LE(r.kld_quantiles.min, r.kld_quantiles.p0_1);
    EXPECT_LE(r.kld_quantiles.p0_1, r.kld_quantiles.median);
    EXPECT_LE(r.kld_quantiles.median, r.kld_quantiles.p99);
    EXPECT_LE(r.kld_quantiles.p99, r.kld_quantiles.max);
    EXPECT_GT(r.ln_ppl_correlation, 0.9);
    EXPECT_LE(r.ln_ppl_correlation, 1.0 + 1e-9);
}

// one test per file type, so that ctest spreads them over the cores
INSTANTIATE_TEST_SUITE_P(FileTypes, KldOfLlamaCppsFile,
                         ::testing::Values(Known{LB_FTYPE_Q8_0, 0.000338, 0.9874},
                                           Known{LB_FTYPE_Q4_0, 0.0762, 0.8640}),
                         [](const ::testing::TestParamInfo<Known> &info) {
                             return std::string(lb_ftype_name(info.param.ftype));
                         });

} // namespace
