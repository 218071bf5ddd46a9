// lb_session through the shared library: options, tokens, evaluation and its
// logits, the observer, cancellation, perplexity, generation, and every
// refusal a clear error.
#include "lowbit/lowbit.h"
#include "test_data.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
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
    explicit Session(const lb_model *m) { EXPECT_EQ(lb_session_new(&s, m), LB_OK) << lb_last_error(); }
    ~Session() { lb_session_free(s); }
    lb_session *s = nullptr;
};

std::string validation_text(size_t n) {
    std::ifstream f(testdata::source_path("tests/data/tinystories_val.txt"), std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str().substr(0, n);
}

std::vector<int32_t> tokenize(const lb_session *s, const std::string &text,
                              uint32_t flags = LB_TOKENIZE_ADD_SPECIAL) {
    size_t n = 0;
    EXPECT_EQ(lb_session_tokenize(s, text.data(), text.size(), flags, nullptr, 0, &n),
              text.empty() && !(flags & LB_TOKENIZE_ADD_SPECIAL) ? LB_OK : LB_E_INVALID_ARG);
    std::vector<int32_t> t(n);
    EXPECT_EQ(lb_session_tokenize(s, text.data(), text.size(), flags, t.data(), t.size(), &n), LB_OK)
        << lb_last_error();
    return t;
}

bool mentions(const char *what) {
    return std::strstr(lb_last_error(), what) != nullptr;
}

TEST(SessionApi, ParamsAreCheckedAndReadBack) {
    Model model(testdata::stories_path());
    Session s(model.m);
    int64_t v = -1;
    for (const auto &[param, value] :
         std::map<lb_session_param, int64_t>{{LB_SESSION_THREADS, 2},
                                             {LB_SESSION_CONTEXT, 128},
                                             {LB_SESSION_BATCH, 32},
                                             {LB_SESSION_CACHE_TYPE, LB_TYPE_F32}}) {
        ASSERT_EQ(lb_session_set_param(s.s, param, value), LB_OK) << lb_last_error();
        ASSERT_EQ(lb_session_get_param(&v, s.s, param), LB_OK);
        EXPECT_EQ(v, value);
    }
    EXPECT_EQ(lb_session_set_param(s.s, LB_SESSION_THREADS, -1), LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("LB_SESSION_THREADS")) << lb_last_error();
    EXPECT_EQ(lb_session_set_param(s.s, LB_SESSION_BATCH, 0), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_session_set_param(s.s, LB_SESSION_CACHE_TYPE, LB_TYPE_Q8_0), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_session_set_param(s.s, static_cast<lb_session_param>(77), 1), LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("unknown parameter")) << lb_last_error();
    EXPECT_EQ(lb_session_set_param(nullptr, LB_SESSION_THREADS, 1), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_session_get_param(nullptr, s.s, LB_SESSION_THREADS), LB_E_INVALID_ARG);
}

TEST(SessionApi, TokensAndTheirText) {
    Model model(testdata::stories_path());
    Session s(model.m);
    EXPECT_EQ(lb_session_vocab_size(s.s), 512u);
    EXPECT_EQ(lb_session_special_token(s.s, LB_TOKEN_BOS), 1);
    EXPECT_EQ(lb_session_special_token(s.s, LB_TOKEN_EOS), 2);
    EXPECT_EQ(lb_session_special_token(s.s, LB_TOKEN_UNK), 0);
    EXPECT_EQ(lb_session_special_token(s.s, LB_TOKEN_PAD), -1);
    const std::string text = "Once upon a time, Lily saw a cat.";
    const std::vector<int32_t> with = tokenize(s.s, text), without = tokenize(s.s, text, 0);
    ASSERT_EQ(with.size(), without.size() + 1);
    EXPECT_EQ(with[0], 1);
    // the pieces spell the text (with the space SentencePiece puts first)
    size_t len = 0;
    EXPECT_EQ(lb_session_detokenize(s.s, without.data(), without.size(), 0, nullptr, 0, &len),
              LB_E_INVALID_ARG);
    std::string back(len, '\0');
    ASSERT_EQ(lb_session_detokenize(s.s, without.data(), without.size(), 0, back.data(), back.size(), &len),
              LB_OK);
    EXPECT_EQ(back, " " + text);
    // control tokens: shown only when asked
    const int32_t bos = 1;
    EXPECT_EQ(lb_session_detokenize(s.s, &bos, 1, 0, nullptr, 0, &len), LB_OK);
    EXPECT_EQ(len, 0u);
    char buf[16];
    ASSERT_EQ(lb_session_detokenize(s.s, &bos, 1, 1, buf, sizeof buf, &len), LB_OK);
    EXPECT_EQ(std::string(buf, len), "<s>");
    // parse_special turns "<s>" in the text into the token
    const std::vector<int32_t> parsed = tokenize(s.s, "<s>", LB_TOKENIZE_PARSE_SPECIAL);
    EXPECT_EQ(parsed, std::vector<int32_t>{1});
    EXPECT_GT(tokenize(s.s, "<s>", 0).size(), 1u);
    // refusals
    const int32_t outside = 512;
    EXPECT_EQ(lb_session_detokenize(s.s, &outside, 1, 0, buf, sizeof buf, &len), LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("512")) << lb_last_error();
    EXPECT_EQ(lb_session_tokenize(s.s, nullptr, 3, 0, nullptr, 0, &len), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_session_tokenize(s.s, "abc", 3, 0, nullptr, 0, nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_session_vocab_size(nullptr), 0u);
    EXPECT_EQ(lb_session_special_token(nullptr, LB_TOKEN_BOS), -1);
}

// Evaluating in steps gives the logits of evaluating at once; the outputs
// chosen are those kept; position advances.
TEST(SessionApi, EvalInStepsEqualsEvalAtOnce) {
    Model model(testdata::stories_path());
    const std::vector<int32_t> tokens = [&] {
        Session s(model.m);
        return tokenize(s.s, validation_text(600));
    }();
    ASSERT_GT(tokens.size(), 100u);
    const size_t n = 100, V = 512;
    std::vector<float> once;
    {
        Session s(model.m);
        ASSERT_EQ(lb_session_set_param(s.s, LB_SESSION_CACHE_TYPE, LB_TYPE_F32), LB_OK);
        std::vector<uint8_t> all(n, 1);
        ASSERT_EQ(lb_session_eval(s.s, tokens.data(), n, all.data()), LB_OK) << lb_last_error();
        ASSERT_EQ(lb_session_n_logits(s.s), n);
        for (size_t k = 0; k < n; ++k)
            once.insert(once.end(), lb_session_logits(s.s, k), lb_session_logits(s.s, k) + V);
        EXPECT_EQ(lb_session_logits(s.s, n), nullptr);
        EXPECT_EQ(lb_session_position(s.s), n);
    }
    Session s(model.m);
    ASSERT_EQ(lb_session_set_param(s.s, LB_SESSION_CACHE_TYPE, LB_TYPE_F32), LB_OK);
    ASSERT_EQ(lb_session_set_param(s.s, LB_SESSION_BATCH, 7), LB_OK);
    size_t at = 0;
    for (size_t step : {1, 30, 9, 60}) {
        ASSERT_EQ(lb_session_eval(s.s, tokens.data() + at, step, nullptr), LB_OK) << lb_last_error();
        at += step;
        ASSERT_EQ(lb_session_n_logits(s.s), 1u);
        const float *l = lb_session_logits(s.s, 0);
        for (size_t i = 0; i < V; ++i)
            ASSERT_NEAR(l[i], once[(at - 1) * V + i], 1e-4) << "after " << at << " tokens";
    }
    EXPECT_EQ(lb_session_position(s.s), n);
    ASSERT_EQ(lb_session_clear(s.s), LB_OK);
    EXPECT_EQ(lb_session_position(s.s), 0u);
}

TEST(SessionApi, EvalRefusals) {
    Model model(testdata::stories_path());
    Session s(model.m);
    ASSERT_EQ(lb_session_set_param(s.s, LB_SESSION_CONTEXT, 16), LB_OK);
    const std::vector<int32_t> tokens(10, 5);
    EXPECT_EQ(lb_session_eval(s.s, tokens.data(), 0, nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_session_eval(s.s, nullptr, 3, nullptr), LB_E_INVALID_ARG);
    const int32_t bad[] = {1, 600};
    EXPECT_EQ(lb_session_eval(s.s, bad, 2, nullptr), LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("600")) << lb_last_error();
    ASSERT_EQ(lb_session_eval(s.s, tokens.data(), 10, nullptr), LB_OK);
    EXPECT_EQ(lb_session_eval(s.s, tokens.data(), 10, nullptr), LB_E_INVALID_ARG); // 20 > 16
    EXPECT_TRUE(mentions("context")) << lb_last_error();
    EXPECT_EQ(lb_session_position(s.s), 10u) << "a refused eval leaves the cache as it was";
}

// The observer sees every matrix product's input rows with the weight's name,
// in order, and can cancel.
TEST(SessionApi, ObserverSeesEveryMatmulInput) {
    Model model(testdata::stories_path());
    Session s(model.m);
    struct Seen {
        std::vector<std::string> names;
        std::vector<int64_t> rows, cols;
        double first_sum = 0.0;
        int cancel_after = -1;
    } seen;
    ASSERT_EQ(lb_session_set_observer(
                  s.s,
                  [](const lb_matmul_input *in, void *user) {
                      auto *v = static_cast<Seen *>(user);
                      if (in->version != LB_MATMUL_INPUT_VERSION) return 1;
                      v->names.push_back(in->weight);
                      v->rows.push_back(in->n_rows);
                      v->cols.push_back(in->n_cols);
                      if (v->names.size() == 1)
                          for (int64_t i = 0; i < in->n_rows * in->n_cols; ++i)
                              v->first_sum += std::fabs(in->rows[i]);
                      return v->cancel_after >= 0 && static_cast<int>(v->names.size()) > v->cancel_after ? 1
                                                                                                         : 0;
                  },
                  &seen),
              LB_OK);
    const std::vector<int32_t> tokens = tokenize(s.s, "Once upon a time");
    ASSERT_EQ(lb_session_eval(s.s, tokens.data(), tokens.size(), nullptr), LB_OK) << lb_last_error();
    // 5 layers x (q, k, v, output, gate, up, down) + output
    ASSERT_EQ(seen.names.size(), 5u * 7u + 1u);
    EXPECT_EQ(seen.names[0], "blk.0.attn_q.weight");
    EXPECT_EQ(seen.names[6], "blk.0.ffn_down.weight");
    EXPECT_EQ(seen.cols[6], 172);
    EXPECT_EQ(seen.names.back(), "output.weight");
    EXPECT_EQ(seen.rows[0], static_cast<int64_t>(tokens.size()));
    EXPECT_EQ(seen.rows.back(), 1) << "only the output rows wanted";
    EXPECT_GT(seen.first_sum, 0.0);
    // cancel from the observer: the eval fails, the cache is as it was
    seen = Seen{};
    seen.cancel_after = 3;
    EXPECT_EQ(lb_session_eval(s.s, tokens.data(), tokens.size(), nullptr), LB_E_CANCELLED);
    EXPECT_EQ(lb_session_position(s.s), tokens.size());
    ASSERT_EQ(lb_session_set_observer(s.s, nullptr, nullptr), LB_OK);
}

// lb_session_cancel() from another thread stops a perplexity run: the
// progress callback waits for the cancel, so this needs no timing.
TEST(SessionApi, CancelFromAnotherThread) {
    Model model(testdata::stories_path());
    Session s(model.m);
    struct Handshake {
        lb_session *s;
        std::atomic<bool> started{false}, cancelled{false};
    } hs{s.s};
    std::thread canceller([&] {
        while (!hs.started.load()) std::this_thread::yield();
        lb_session_cancel(hs.s);
        hs.cancelled.store(true);
    });
    const std::string text = validation_text(20000);
    lb_perplexity r{};
    r.version = LB_PERPLEXITY_VERSION;
    const lb_status st = lb_session_perplexity(
        s.s, text.data(), text.size(), 256, 0,
        [](const lb_perplexity *, void *user) {
            auto *h = static_cast<Handshake *>(user);
            h->started.store(true);
            while (!h->cancelled.load()) std::this_thread::yield();
            return 0;
        },
        &hs, &r);
    canceller.join();
    EXPECT_EQ(st, LB_E_CANCELLED);
}

TEST(SessionApi, PerplexityAndItsRefusals) {
    Model model(testdata::stories_path());
    Session s(model.m);
    const std::string text = validation_text(20000);
    std::vector<double> estimates;
    lb_perplexity r{};
    r.version = LB_PERPLEXITY_VERSION;
    ASSERT_EQ(lb_session_perplexity(
                  s.s, text.data(), text.size(), 256, 5,
                  [](const lb_perplexity *p, void *user) {
                      static_cast<std::vector<double> *>(user)->push_back(p->perplexity);
                      return 0;
                  },
                  &estimates, &r),
              LB_OK)
        << lb_last_error();
    EXPECT_EQ(r.version, static_cast<uint32_t>(LB_PERPLEXITY_VERSION));
    EXPECT_EQ(r.n_chunks, 5u);
    EXPECT_EQ(r.n_scored, 5u * 127u);
    EXPECT_EQ(estimates.size(), 5u);
    EXPECT_EQ(estimates.back(), r.perplexity);
    EXPECT_GT(r.uncertainty, 0.0);
    // a text shorter than two contexts, a context beyond the model's, bad values
    EXPECT_EQ(lb_session_perplexity(s.s, text.data(), 500, 256, 0, nullptr, nullptr, &r), LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("tokens long")) << lb_last_error();
    EXPECT_EQ(lb_session_perplexity(s.s, "", 0, 256, 0, nullptr, nullptr, &r), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_session_perplexity(s.s, text.data(), text.size(), 4096, 0, nullptr, nullptr, &r),
              LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("larger than the model")) << lb_last_error();
    EXPECT_EQ(lb_session_perplexity(s.s, text.data(), text.size(), 1, 0, nullptr, nullptr, &r),
              LB_E_INVALID_ARG);
    EXPECT_EQ(lb_session_perplexity(s.s, text.data(), text.size(), 256, 0, nullptr, nullptr, nullptr),
              LB_E_INVALID_ARG);
    lb_perplexity unset{}; // version 0
    EXPECT_EQ(lb_session_perplexity(s.s, text.data(), text.size(), 256, 1, nullptr, nullptr, &unset),
              LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("out->version")) << lb_last_error();
    // cancelled by its progress callback
    EXPECT_EQ(lb_session_perplexity(
                  s.s, text.data(), text.size(), 256, 0, [](const lb_perplexity *, void *) { return 1; },
                  nullptr, &r),
              LB_E_CANCELLED);
}

// Greedy generation is deterministic and follows the argmax of the logits;
// the callback sees each token and can stop.
TEST(SessionApi, GenerateGreedyIsTheArgmaxChain) {
    Model model(testdata::stories_path());
    Session s(model.m);
    lb_generate_options o;
    ASSERT_EQ(lb_generate_options_init(&o, LB_GENERATE_OPTIONS_VERSION), LB_OK);
    EXPECT_EQ(o.temperature, 0.0f);
    o.max_tokens = 12;
    std::vector<int32_t> got;
    ASSERT_EQ(lb_session_generate(
                  s.s, "Once upon a time", 16, &o,
                  [](int32_t t, const char *, size_t, void *user) {
                      static_cast<std::vector<int32_t> *>(user)->push_back(t);
                      return 0;
                  },
                  &got),
              LB_OK)
        << lb_last_error();
    ASSERT_EQ(got.size(), 12u);
    // the same chain by hand: argmax, evaluate it, argmax ...
    std::vector<int32_t> chain = tokenize(s.s, "Once upon a time");
    ASSERT_EQ(lb_session_clear(s.s), LB_OK);
    ASSERT_EQ(lb_session_eval(s.s, chain.data(), chain.size(), nullptr), LB_OK);
    for (size_t i = 0; i < got.size(); ++i) {
        const float *l = lb_session_logits(s.s, 0);
        const int32_t best = static_cast<int32_t>(std::max_element(l, l + 512) - l);
        EXPECT_EQ(best, got[i]) << "token " << i;
        ASSERT_EQ(lb_session_eval(s.s, &best, 1, nullptr), LB_OK);
    }
    // stopping from the callback
    std::vector<int32_t> two;
    ASSERT_EQ(lb_session_generate(
                  s.s, "Once upon a time", 16, &o,
                  [](int32_t t, const char *, size_t, void *user) {
                      auto *v = static_cast<std::vector<int32_t> *>(user);
                      v->push_back(t);
                      return v->size() >= 2 ? 1 : 0;
                  },
                  &two),
              LB_OK);
    EXPECT_EQ(two.size(), 2u);
    // sampling: the same seed, the same text; options checked
    o.temperature = 0.8f;
    o.seed = 42;
    std::vector<int32_t> a, b;
    auto collect = [](int32_t t, const char *, size_t, void *user) {
        static_cast<std::vector<int32_t> *>(user)->push_back(t);
        return 0;
    };
    ASSERT_EQ(lb_session_generate(s.s, "Once", 4, &o, collect, &a), LB_OK);
    ASSERT_EQ(lb_session_generate(s.s, "Once", 4, &o, collect, &b), LB_OK);
    EXPECT_EQ(a, b);
    o.top_p = 0.0f;
    EXPECT_EQ(lb_session_generate(s.s, "Once", 4, &o, nullptr, nullptr), LB_E_INVALID_ARG);
    o.top_p = 0.9f;
    o.max_tokens = 100000;
    EXPECT_EQ(lb_session_generate(s.s, "Once", 4, &o, nullptr, nullptr), LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("context")) << lb_last_error();
    o.version = 99;
    EXPECT_EQ(lb_session_generate(s.s, "Once", 4, &o, nullptr, nullptr), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_generate_options_init(&o, 99), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_session_generate(s.s, nullptr, 0, nullptr, nullptr, nullptr), LB_E_INVALID_ARG);
}

// Several sessions on one model, on several threads at once, each with its
// own cache: the same logits as one session alone.
TEST(SessionApi, SessionsShareAModelAcrossThreads) {
    Model model(testdata::stories_path());
    const std::string text = validation_text(400);
    std::vector<float> alone;
    {
        Session s(model.m);
        const std::vector<int32_t> t = tokenize(s.s, text);
        ASSERT_EQ(lb_session_eval(s.s, t.data(), t.size(), nullptr), LB_OK);
        alone.assign(lb_session_logits(s.s, 0), lb_session_logits(s.s, 0) + 512);
    }
    std::vector<std::vector<float>> got(3);
    std::vector<std::thread> threads;
    for (size_t k = 0; k < got.size(); ++k)
        threads.emplace_back([&, k] {
            lb_session *s = nullptr;
            if (lb_session_new(&s, model.m) != LB_OK) return;
            lb_session_set_param(s, LB_SESSION_THREADS, 1);
            size_t n = 0;
            lb_session_tokenize(s, text.data(), text.size(), LB_TOKENIZE_ADD_SPECIAL, nullptr, 0, &n);
            std::vector<int32_t> t(n);
            lb_session_tokenize(s, text.data(), text.size(), LB_TOKENIZE_ADD_SPECIAL, t.data(), n, &n);
            if (lb_session_eval(s, t.data(), t.size(), nullptr) == LB_OK)
                got[k].assign(lb_session_logits(s, 0), lb_session_logits(s, 0) + 512);
            lb_session_free(s);
        });
    for (std::thread &t : threads) t.join();
    for (const std::vector<float> &g : got) {
        ASSERT_EQ(g.size(), alone.size());
        for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], alone[i], 1e-4);
    }
}

} // namespace
