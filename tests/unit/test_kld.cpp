// KL-divergence (lib/eval) on stories260K: a model against itself, the saved
// base-logits file (the two-step figures equal the one-step ones to the bit,
// bad files are refused naming the file), cancellation. The known figures are
// in tests/e2e/test_kld_figures.cpp.
#include "common/error.hpp"
#include "eval/base_file.hpp"
#include "eval/kld.hpp"
#include "model/model.hpp"
#include "session/session.hpp"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace {

std::string lowbit_quantized(const testdata::TempDir &dir, lb_ftype ftype) {
    const std::string out = dir.file(std::string("lowbit-") + lb_ftype_name(ftype) + ".gguf");
    testdata::quantize_with_lowbit(testdata::stories_path(), out, ftype);
    return out;
}

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

TEST(Kld, AModelAgainstItselfDivergesByTheRoundingOfTheSavedLogProbsOnly) {
    const std::string text = testdata::validation_text(6000);
    const lb::eval::KldReport r = one_step(testdata::stories_path(), testdata::stories_path(), text);
    // log-probabilities kept to 1/4096 nat: the divergence of that rounding
    EXPECT_LT(r.kld.value, 1e-8);
    EXPECT_GE(r.kld_quantiles.min, -1e-6);
    EXPECT_DOUBLE_EQ(r.same_top.value, 1.0);
    EXPECT_NEAR(r.ppl.value, r.ppl_base.value, 1e-5 * r.ppl.value);
    EXPECT_NEAR(r.delta_p_rms.value, 0.0, 1e-6);
}

void expect_same(const lb::eval::KldReport &a, const lb::eval::KldReport &b) {
    EXPECT_EQ(a.n_scored, b.n_scored);
    EXPECT_EQ(a.n_chunks, b.n_chunks);
    EXPECT_EQ(a.ppl.value, b.ppl.value);
    EXPECT_EQ(a.ppl_base.value, b.ppl_base.value);
    EXPECT_EQ(a.ln_ppl_correlation, b.ln_ppl_correlation);
    EXPECT_EQ(a.kld.value, b.kld.value);
    EXPECT_EQ(a.kld.uncertainty, b.kld.uncertainty);
    EXPECT_EQ(a.kld_quantiles.max, b.kld_quantiles.max);
    EXPECT_EQ(a.kld_quantiles.median, b.kld_quantiles.median);
    EXPECT_EQ(a.kld_quantiles.p99, b.kld_quantiles.p99);
    EXPECT_EQ(a.delta_p.value, b.delta_p.value);
    EXPECT_EQ(a.delta_p_rms.value, b.delta_p_rms.value);
    EXPECT_EQ(a.delta_p_quantiles.p0_1, b.delta_p_quantiles.p0_1);
    EXPECT_EQ(a.same_top.value, b.same_top.value);
}

TEST(Kld, SavedBaseLogitsGiveTheOneStepFiguresExactly) {
    const testdata::TempDir dir;
    const std::string text = testdata::validation_text(12000), quant = lowbit_quantized(dir, LB_FTYPE_Q4_0);
    const std::string saved = dir.file("base.logits");
    const lb::Model base_model(testdata::stories_path()), model_model(quant);
    lb::session::Session base(base_model), model(model_model);
    base.params.n_threads = model.params.n_threads = 2;
    lb::eval::KldOptions o;
    o.n_ctx = 256;
    std::vector<uint64_t> seen;
    const uint64_t n = lb::eval::save_base_logits(base, text, o, saved, [&](uint64_t done, uint64_t total) {
        seen.push_back(done);
        return total > 0;
    });
    EXPECT_EQ(seen.size(), n);
    const lb::eval::KldReport two = lb::eval::kl_divergence_from_file(saved, model, nullptr);
    const lb::eval::KldReport one = lb::eval::kl_divergence(base, model, text, o, nullptr);
    expect_same(one, two);
    EXPECT_GT(two.kld.value, 0.01);
    std::ifstream f(saved, std::ios::binary | std::ios::ate);
    const double bytes = static_cast<double>(f.tellg());
    // llama.cpp's kld-base file: the tokens, then 2 * ceil(V / 2) + 4 uint16 per scored token
    const double llama_bytes =
        4.0 * static_cast<double>(n) * 256 + 2.0 * (512 + 4) * static_cast<double>(two.n_scored);
    std::printf("saved base logits: %.0f bytes for %llu positions (llama.cpp's file: %.0f bytes, %.2fx)\n",
                bytes, static_cast<unsigned long long>(two.n_scored), llama_bytes, bytes / llama_bytes);
    EXPECT_LT(bytes, llama_bytes);
}

lb_status status_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const lb::Error &e) {
        return e.status();
    }
    return LB_OK;
}

std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const lb::Error &e) {
        return e.what();
    }
    return "";
}

TEST(Kld, BadBaseFilesAreRefusedNamingTheFile) {
    const testdata::TempDir dir;
    const std::string text = testdata::validation_text(6000), saved = dir.file("base.logits");
    const lb::Model base_model(testdata::stories_path());
    lb::session::Session base(base_model);
    base.params.n_threads = 2;
    lb::eval::KldOptions o;
    o.n_ctx = 128;
    lb::eval::save_base_logits(base, text, o, saved, nullptr);
    std::ifstream in(saved, std::ios::binary);
    const std::vector<uint8_t> good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto run_on = [&](const std::vector<uint8_t> &bytes) {
        const std::string path = dir.file("bad.logits");
        testdata::write_file(path, bytes);
        return [&base, path] { lb::eval::kl_divergence_from_file(path, base, nullptr); };
    };
    EXPECT_EQ(status_of(run_on(good)), LB_OK);
    // cut anywhere: in the header, the tokens, a chunk, the trailer
    for (size_t cut : {size_t(0), size_t(20), size_t(60), good.size() / 2, good.size() - 3}) {
        const std::vector<uint8_t> truncated(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
        const std::string e = error_of(run_on(truncated));
        EXPECT_NE(e.find("bad.logits"), std::string::npos) << cut << ": " << e;
        EXPECT_EQ(status_of(run_on(truncated)), LB_E_FORMAT) << cut;
    }
    // a flipped byte inside the compressed data, a wrong magic, another version
    std::vector<uint8_t> flipped = good;
    flipped[good.size() / 2] ^= 0x5a;
    EXPECT_EQ(status_of(run_on(flipped)), LB_E_FORMAT);
    std::vector<uint8_t> magic = good;
    magic[0] = 'X';
    EXPECT_NE(error_of(run_on(magic)).find("not a lowbit base-logits file"), std::string::npos);
    std::vector<uint8_t> version = good;
    version[8] = 7;
    EXPECT_NE(error_of(run_on(version)).find("version 7"), std::string::npos);
    // a header claiming a huge text: refused before anything is allocated
    std::vector<uint8_t> huge = good;
    huge[20] = huge[21] = huge[22] = 0xff;
    EXPECT_EQ(status_of(run_on(huge)), LB_E_FORMAT);
    // the model of another vocabulary
    lb_synth_options so;
    lb_synth_options_init(&so, LB_SYNTH_OPTIONS_VERSION);
    const std::string other = dir.file("other.gguf");
    ASSERT_EQ(lb_synth_write_model(&so, other.c_str(), nullptr, nullptr), LB_OK);
    const lb::Model other_model(other);
    lb::session::Session other_session(other_model);
    const std::string e = error_of([&] { lb::eval::kl_divergence_from_file(saved, other_session, nullptr); });
    EXPECT_NE(e.find("another vocabulary"), std::string::npos) << e;
    EXPECT_EQ(status_of([&] { lb::eval::kl_divergence(base, other_session, text, o, nullptr); }),
              LB_E_INVALID_ARG);
    // empty text, a text shorter than two contexts
    EXPECT_EQ(status_of([&] { lb::eval::save_base_logits(base, "", o, dir.file("x.logits"), nullptr); }),
              LB_E_INVALID_ARG);
    std::ifstream none(dir.file("x.logits"));
    EXPECT_FALSE(none.good()) << "no partial output";
}

TEST(Kld, ProgressCancels) {
    const testdata::TempDir dir;
    const std::string text = testdata::validation_text(6000);
    const lb::Model base_model(testdata::stories_path());
    lb::session::Session base(base_model), model(base_model);
    lb::eval::KldOptions o;
    o.n_ctx = 128;
    int calls = 0;
    EXPECT_EQ(status_of([&] {
                  lb::eval::kl_divergence(base, model, text, o, [&](const lb::eval::KldReport &r) {
                      ++calls;
                      return r.n_chunks < 2;
                  });
              }),
              LB_E_CANCELLED);
    EXPECT_EQ(calls, 2);
    const std::string path = dir.file("cancelled.logits");
    EXPECT_EQ(status_of([&] {
                  lb::eval::save_base_logits(base, text, o, path,
                                             [](uint64_t done, uint64_t) { return done < 1; });
              }),
              LB_E_CANCELLED);
    std::ifstream none(path);
    EXPECT_FALSE(none.good()) << "no partial output";
}

} // namespace
