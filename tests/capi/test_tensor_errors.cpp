// lb_tensor_errors_* through the shared library: the figures against an
// independent computation in double (the inputs captured by the caller's
// own observer, the weights dequantized with lb_dequantize_rows), zero for an
// identical copy, the order, progress and cancellation, and refusals.
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

struct Session {
    explicit Session(const lb_model *m) {
        EXPECT_EQ(lb_session_new(&s, m), LB_OK) << lb_last_error();
        lb_session_set_param(s, LB_SESSION_THREADS, 2);
    }
    ~Session() { lb_session_free(s); }
    lb_session *s = nullptr;
};

struct Errors {
    ~Errors() { lb_tensor_errors_free(e); }
    lb_tensor_errors *e = nullptr;
};

bool mentions(const char *what) {
    return std::strstr(lb_last_error(), what) != nullptr;
}

lb_kld_options options(int n_ctx, int chunks) {
    lb_kld_options o;
    EXPECT_EQ(lb_kld_options_init(&o, LB_KLD_OPTIONS_VERSION), LB_OK);
    o.n_ctx = n_ctx;
    o.max_chunks = chunks;
    return o;
}

std::vector<lb_tensor_error> entries(const lb_tensor_errors *e) {
    std::vector<lb_tensor_error> out(lb_tensor_errors_count(e));
    for (size_t i = 0; i < out.size(); ++i) {
        out[i].version = LB_TENSOR_ERROR_VERSION;
        EXPECT_EQ(lb_tensor_errors_get(e, i, &out[i]), LB_OK) << lb_last_error();
    }
    return out;
}

// A tensor's elements as F32, through the row API.
std::vector<float> dequantized(const lb_model *m, const std::string &name, int64_t *cols, int64_t *rows) {
    size_t i = 0;
    EXPECT_EQ(lb_model_tensor_find(&i, m, name.c_str()), LB_OK) << name;
    *cols = lb_model_tensor_dim(m, i, 0);
    *rows = lb_model_tensor_dim(m, i, 1);
    const void *data = nullptr;
    uint64_t size = 0;
    EXPECT_EQ(lb_model_tensor_data(&data, &size, m, i), LB_OK);
    std::vector<float> out(static_cast<size_t>(*cols * *rows));
    EXPECT_EQ(lb_dequantize_rows(lb_model_tensor_type(m, i), data, size, *rows, *cols, out.data()), LB_OK)
        << lb_last_error();
    return out;
}

// Every input row of every product, by weight name, as the observer saw it.
struct Inputs {
    std::map<std::string, std::vector<float>> rows;
    std::map<std::string, int64_t> cols;
    int calls = 0;
};

int capture(const lb_matmul_input *in, void *user) {
    Inputs &c = *static_cast<Inputs *>(user);
    ++c.calls;
    std::vector<float> &r = c.rows[in->weight];
    r.insert(r.end(), in->rows, in->rows + in->n_rows * in->n_cols);
    c.cols[in->weight] = in->n_cols;
    return 0;
}

TEST(TensorErrorsApi, MatchesAnIndependentComputation) {
    const testdata::TempDir dir;
    const std::string quant = dir.file("q4_0.gguf");
    testdata::quantize_with_lowbit(testdata::stories_path(), quant, LB_FTYPE_Q4_0);
    Model base_model(testdata::stories_path()), quant_model(quant);
    Session base(base_model.m);
    const std::string text = testdata::validation_text(6000);
    const lb_kld_options o = options(64, 3);
    Inputs inputs;
    ASSERT_EQ(lb_session_set_observer(base.s, capture, &inputs), LB_OK);
    std::vector<std::pair<uint64_t, uint64_t>> progress;
    Errors r;
    ASSERT_EQ(
        lb_tensor_errors_measure(
            &r.e, base.s, quant_model.m, text.data(), text.size(), &o,
            [](uint64_t done, uint64_t total, void *user) {
                static_cast<std::vector<std::pair<uint64_t, uint64_t>> *>(user)->push_back({done, total});
                return 0;
            },
            &progress),
        LB_OK)
        << lb_last_error();
    ASSERT_EQ(progress.size(), 3u);
    EXPECT_EQ(progress.back(), std::make_pair(uint64_t{3}, uint64_t{3}));
    // the caller's observer saw every product of the run
    EXPECT_EQ(inputs.calls, 3 * (5 * 7 + 1));
    const std::vector<lb_tensor_error> got = entries(r.e);
    ASSERT_EQ(got.size(), 36u) << "5 layers of 7 matrices, and the output";
    ASSERT_EQ(inputs.rows.size(), got.size());
    for (size_t i = 0; i < got.size(); ++i) {
        const lb_tensor_error &e = got[i];
        SCOPED_TRACE(e.name);
        if (i > 0) {
            EXPECT_GE(got[i - 1].relative, e.relative) << "worst first";
        }
        ASSERT_EQ(inputs.rows.count(e.name), 1u);
        const std::vector<float> &x = inputs.rows[e.name];
        int64_t n = 0, m = 0, qn = 0, qm = 0;
        const std::vector<float> w = dequantized(base_model.m, e.name, &n, &m);
        const std::vector<float> q = dequantized(quant_model.m, e.name, &qn, &qm);
        ASSERT_EQ(n, inputs.cols[e.name]);
        ASSERT_EQ(qn, n);
        ASSERT_EQ(qm, m);
        const int64_t t_rows = static_cast<int64_t>(x.size()) / n;
        EXPECT_EQ(e.n_rows, static_cast<uint64_t>(t_rows));
        // the output sees the scored half of each chunk, every other weight all 64 tokens
        EXPECT_EQ(e.n_rows, std::string(e.name) == "output.weight" ? 3u * 31u : 3u * 64u);
        EXPECT_EQ(e.layer,
                  std::string(e.name) == "output.weight" ? -1 : std::stoi(std::string(e.name).substr(4)));
        double err = 0, ref = 0;
        for (int64_t t = 0; t < t_rows; ++t)
            for (int64_t j = 0; j < m; ++j) {
                double y = 0, yq = 0;
                for (int64_t k = 0; k < n; ++k) {
                    const double xv = x[static_cast<size_t>(t * n + k)];
                    y += static_cast<double>(w[static_cast<size_t>(j * n + k)]) * xv;
                    yq += static_cast<double>(q[static_cast<size_t>(j * n + k)]) * xv;
                }
                ref += y * y;
                err += (yq - y) * (yq - y);
            }
        EXPECT_NEAR(e.reference, ref, 1e-5 * ref);
        EXPECT_NEAR(e.error, err, 1e-4 * err);
        EXPECT_NEAR(e.relative, err / ref, 1e-4 * err / ref);
        EXPECT_GT(e.error, 0.0);
        size_t qi = 0;
        ASSERT_EQ(lb_model_tensor_find(&qi, quant_model.m, e.name), LB_OK);
        EXPECT_EQ(e.type, lb_model_tensor_type(quant_model.m, qi));
        EXPECT_EQ(e.base_type, LB_TYPE_F32);
    }
    // the caller's observer is back in place
    inputs.calls = 0;
    const int32_t token = 1;
    ASSERT_EQ(lb_session_eval(base.s, &token, 1, nullptr), LB_OK);
    EXPECT_EQ(inputs.calls, 36);
}

TEST(TensorErrorsApi, AnIdenticalCopyHasNoError) {
    const testdata::TempDir dir;
    const std::string copy = dir.file("f32.gguf");
    testdata::quantize_with_lowbit(testdata::stories_path(), copy, LB_FTYPE_ALL_F32);
    Model base_model(testdata::stories_path()), copy_model(copy);
    Session base(base_model.m);
    const std::string text = testdata::validation_text(6000);
    const lb_kld_options o = options(64, 2);
    Errors r;
    ASSERT_EQ(
        lb_tensor_errors_measure(&r.e, base.s, copy_model.m, text.data(), text.size(), &o, nullptr, nullptr),
        LB_OK)
        << lb_last_error();
    const std::vector<lb_tensor_error> got = entries(r.e);
    ASSERT_EQ(got.size(), 36u);
    for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].error, 0.0) << got[i].name;
        EXPECT_EQ(got[i].relative, 0.0) << got[i].name;
        EXPECT_GT(got[i].reference, 0.0) << got[i].name;
        if (i > 0) {
            EXPECT_LT(std::string(got[i - 1].name), std::string(got[i].name)) << "ties in name order";
        }
    }
}

TEST(TensorErrorsApi, Refusals) {
    const testdata::TempDir dir;
    Model base_model(testdata::stories_path());
    Session base(base_model.m);
    const std::string text = testdata::validation_text(6000);
    const lb_kld_options o = options(64, 2);
    Errors r;
    EXPECT_EQ(lb_tensor_errors_measure(nullptr, base.s, base_model.m, text.data(), text.size(), &o, nullptr,
                                       nullptr),
              LB_E_INVALID_ARG);
    EXPECT_EQ(
        lb_tensor_errors_measure(&r.e, nullptr, base_model.m, text.data(), text.size(), &o, nullptr, nullptr),
        LB_E_INVALID_ARG);
    EXPECT_EQ(lb_tensor_errors_measure(&r.e, base.s, nullptr, text.data(), text.size(), &o, nullptr, nullptr),
              LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("quantized")) << lb_last_error();
    lb_kld_options bad = o;
    bad.version = 7;
    EXPECT_EQ(lb_tensor_errors_measure(&r.e, base.s, base_model.m, text.data(), text.size(), &bad, nullptr,
                                       nullptr),
              LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("lb_kld_options_init")) << lb_last_error();
    EXPECT_EQ(lb_tensor_errors_measure(&r.e, base.s, base_model.m, "", 0, &o, nullptr, nullptr),
              LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("tokens long")) << lb_last_error();
    EXPECT_EQ(r.e, nullptr) << "out untouched on failure";
    // cancelled by the progress callback
    EXPECT_EQ(lb_tensor_errors_measure(
                  &r.e, base.s, base_model.m, text.data(), text.size(), &o,
                  [](uint64_t, uint64_t, void *) { return 1; }, nullptr),
              LB_E_CANCELLED);
    EXPECT_EQ(r.e, nullptr);
    // a model of other shapes: the first weight that differs is named
    lb_synth_options so;
    ASSERT_EQ(lb_synth_options_init(&so, LB_SYNTH_OPTIONS_VERSION), LB_OK);
    const std::string other = dir.file("other.gguf");
    ASSERT_EQ(lb_synth_write_model(&so, other.c_str(), nullptr, nullptr), LB_OK);
    Model other_model(other);
    EXPECT_EQ(
        lb_tensor_errors_measure(&r.e, base.s, other_model.m, text.data(), text.size(), &o, nullptr, nullptr),
        LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("blk.0.attn_q.weight") && mentions("other.gguf") && mentions("shape"))
        << lb_last_error();
    // the getters
    ASSERT_EQ(
        lb_tensor_errors_measure(&r.e, base.s, base_model.m, text.data(), text.size(), &o, nullptr, nullptr),
        LB_OK)
        << lb_last_error();
    EXPECT_EQ(lb_tensor_errors_count(nullptr), 0u);
    lb_tensor_error e{};
    EXPECT_EQ(lb_tensor_errors_get(r.e, 0, &e), LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("LB_TENSOR_ERROR_VERSION")) << lb_last_error();
    e.version = LB_TENSOR_ERROR_VERSION;
    EXPECT_EQ(lb_tensor_errors_get(r.e, lb_tensor_errors_count(r.e), &e), LB_E_INVALID_ARG);
    EXPECT_TRUE(mentions("out of range")) << lb_last_error();
    EXPECT_EQ(lb_tensor_errors_get(nullptr, 0, &e), LB_E_INVALID_ARG);
    EXPECT_EQ(lb_tensor_errors_get(r.e, 0, nullptr), LB_E_INVALID_ARG);
    ASSERT_EQ(lb_tensor_errors_get(r.e, 0, &e), LB_OK);
    EXPECT_EQ(e.relative, 0.0) << "the base against itself";
    lb_tensor_errors_free(nullptr);
}

} // namespace
