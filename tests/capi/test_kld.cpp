// lb_kld, lb_kld_save_base, lb_kld_from_file through the shared library:
// options and result versions, one step against two steps, progress and
// cancellation, and refusals (another vocabulary, a missing or corrupt file).
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <cstring>
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

struct Session {
    explicit Session(const lb_model *m) {
        EXPECT_EQ(lb_session_new(&s, m), LB_OK) << lb_last_error();
        lb_session_set_param(s, LB_SESSION_THREADS, 2);
    }
    ~Session() { lb_session_free(s); }
    lb_session *s = nullptr;
};

bool mentions(const char *what) {
    return std::strstr(lb_last_error(), what) != nullptr;
}

lb_kld_result fresh() {
    lb_kld_result r{};
    r.version = LB_KLD_RESULT_VERSION;
    return r;
}

TEST(KldApi, OneStepAndTwoStepsAgree) {
    const testdata::TempDir dir;
    const std::string quant = dir.file("q4_0.gguf"), saved = dir.file("base.logits");
    testdata::quantize_with_lowbit(testdata::stories_path(), quant, LB_FTYPE_Q4_0);
    Model base_model(testdata::stories_path()), quant_model(quant);
    Session base(base_model.m), model(quant_model.m);
    const std::string text = testdata::validation_text(12000);
    lb_kld_options o;
    ASSERT_EQ(lb_kld_options_init(&o, LB_KLD_OPTIONS_VERSION), LB_OK);
    EXPECT_EQ(o.n_ctx, 512);
    EXPECT_EQ(o.max_chunks, 0);
    o.n_ctx = 128;
    std::vector<uint64_t> chunks_seen;
    lb_kld_result one = fresh();
    ASSERT_EQ(lb_kld(
                  base.s, model.s, text.data(), text.size(), &o,
                  [](const lb_kld_result *r, void *user) {
                      static_cast<std::vector<uint64_t> *>(user)->push_back(r->n_chunks);
                      return 0;
                  },
                  &chunks_seen, &one),
              LB_OK)
        << lb_last_error();
    ASSERT_GT(one.n_chunks, 3u);
    EXPECT_EQ(chunks_seen.size(), one.n_chunks);
    EXPECT_EQ(chunks_seen.back(), one.n_chunks);
    EXPECT_EQ(one.n_scored, one.n_chunks * 63);
    EXPECT_GT(one.kld.value, 0.01);
    EXPECT_GT(one.kld.uncertainty, 0.0);
    EXPECT_LT(one.same_top.value, 1.0);
    EXPECT_GT(one.seconds, 0.0);
    uint64_t written = 0;
    uint64_t last_done = 0;
    ASSERT_EQ(lb_kld_save_base(
                  base.s, text.data(), text.size(), &o, saved.c_str(),
                  [](uint64_t done, uint64_t total, void *user) {
                      *static_cast<uint64_t *>(user) = done;
                      return done > total ? 1 : 0;
                  },
                  &last_done, &written),
              LB_OK)
        << lb_last_error();
    EXPECT_EQ(written, one.n_chunks);
    EXPECT_EQ(last_done, written);
    lb_kld_result two = fresh();
    ASSERT_EQ(lb_kld_from_file(model.s, saved.c_str(), nullptr, nullptr, &two), LB_OK) << lb_last_error();
    EXPECT_EQ(two.n_scored, one.n_scored);
    EXPECT_EQ(two.kld.value, one.kld.value);
    EXPECT_EQ(two.kld_quantiles.p99, one.kld_quantiles.p99);
    EXPECT_EQ(two.ppl.value, one.ppl.value);
    EXPECT_EQ(two.ppl_base.value, one.ppl_base.value);
    EXPECT_EQ(two.delta_p_rms.value, one.delta_p_rms.value);
    EXPECT_EQ(two.same_top.value, one.same_top.value);
    // the base's perplexity is the session's own
    lb_perplexity p{};
    p.version = LB_PERPLEXITY_VERSION;
    ASSERT_EQ(lb_session_perplexity(base.s, text.data(), text.size(), 128, 0, nullptr, nullptr, &p), LB_OK);
    EXPECT_NEAR(one.ppl_base.value, p.perplexity, 1e-4 * p.perplexity);
}

TEST(KldApi, Refusals) {
    const testdata::TempDir dir;
    Model base_model(testdata::stories_path());
    Session base(base_model.m), model(base_model.m);
    const std::string text = testdata::validation_text(6000);
    lb_kld_options o;
    ASSERT_EQ(lb_kld_options_init(&o, LB_KLD_OPTIONS_VERSION), LB_OK);
    o.n_ctx = 128;
    lb_kld_result r = fresh();
    EXPECT_EQ(lb_kld_options_init(nullptr, LB_KLD_OPTIONS_VERSION), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_kld_options_init(&o, 99), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_kld(nullptr, model.s, text.data(), text.size(), &o, nullptr, nullptr, &r), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_kld(base.s, model.s, text.data(), text.size(), &o, nullptr, nullptr, nullptr),
              LB_E_INVALID_ARG);
    lb_kld_result unset{};
    EXPECT_EQ(lb_kld(base.s, model.s, text.data(), text.size(), &o, nullptr, nullptr, &unset),
              LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("out->version")) << lb_last_error();
    lb_kld_options bad = o;
    bad.version = 0;
    EXPECT_EQ(lb_kld(base.s, model.s, text.data(), text.size(), &bad, nullptr, nullptr, &r),
              LB_E_INVALID_ARG);
    bad = o;
    bad.n_ctx = 1;
    EXPECT_EQ(lb_kld(base.s, model.s, text.data(), text.size(), &bad, nullptr, nullptr, &r),
              LB_E_INVALID_ARG);
    EXPECT_EQ(lb_kld(base.s, model.s, "", 0, &o, nullptr, nullptr, &r), LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("tokens long")) << lb_last_error();
    // cancelled by the progress callback, or from the session
    EXPECT_EQ(lb_kld(
                  base.s, model.s, text.data(), text.size(), &o,
                  [](const lb_kld_result *, void *) { return 1; }, nullptr, &r),
              LB_E_CANCELLED);
    // another vocabulary
    lb_synth_options so;
    ASSERT_EQ(lb_synth_options_init(&so, LB_SYNTH_OPTIONS_VERSION), LB_OK);
    const std::string other = dir.file("other.gguf");
    ASSERT_EQ(lb_synth_write_model(&so, other.c_str(), nullptr, nullptr), LB_OK);
    Model other_model(other);
    Session other_session(other_model.m);
    EXPECT_EQ(lb_kld(base.s, other_session.s, text.data(), text.size(), &o, nullptr, nullptr, &r),
              LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("vocabulary")) << lb_last_error();
    const std::string saved = dir.file("base.logits");
    ASSERT_EQ(
        lb_kld_save_base(base.s, text.data(), text.size(), &o, saved.c_str(), nullptr, nullptr, nullptr),
        LB_OK);
    EXPECT_EQ(lb_kld_from_file(other_session.s, saved.c_str(), nullptr, nullptr, &r), LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("base.logits")) << lb_last_error();
    // missing, not a base file, a folder that does not exist
    EXPECT_EQ(lb_kld_from_file(model.s, dir.file("missing.logits").c_str(), nullptr, nullptr, &r), LB_E_IO);
    EXPECT_TRUE(mentions("missing.logits")) << lb_last_error();
    EXPECT_EQ(lb_kld_from_file(model.s, testdata::stories_path().c_str(), nullptr, nullptr, &r), LB_E_FORMAT);
    EXPECT_TRUE(mentions("not a lowbit base-logits file")) << lb_last_error();
    EXPECT_EQ(lb_kld_save_base(base.s, text.data(), text.size(), &o, dir.file("no/such/folder/x").c_str(),
                               nullptr, nullptr, nullptr),
              LB_E_IO);
    EXPECT_EQ(dir.entries().size(), 2u) << "only other.gguf and base.logits";
}

} // namespace
