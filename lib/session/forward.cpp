#include "session/forward.hpp"

#include "common/error.hpp"
#include "common/fp16.hpp"
#include "common/thread_pool.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace lb::session {

void KvCache::reset(const ModelConfig &c, int n_ctx, lb_type type) {
    n_ctx_ = n_ctx;
    type_ = type;
    layer_bytes_ = static_cast<size_t>(n_ctx) * static_cast<size_t>(c.n_head_kv) *
                   static_cast<size_t>(c.head_dim) * element_bytes();
    keys_.assign(layer_bytes_ * static_cast<size_t>(c.n_layer), 0);
    values_.assign(layer_bytes_ * static_cast<size_t>(c.n_layer), 0);
}

namespace {

// y = x / sqrt(mean(x^2) + eps) * w, the mean summed in double (ggml's rms_norm).
void rms_norm(const float *x, const float *w, int64_t n, float eps, float *y) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
    const float mean = static_cast<float>(sum / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * w[i];
}

void add_bias(float *rows, int64_t n_rows, const std::vector<float> &bias) {
    if (bias.empty()) return;
    const int64_t n = static_cast<int64_t>(bias.size());
    for (int64_t t = 0; t < n_rows; ++t)
        for (int64_t i = 0; i < n; ++i) rows[t * n + i] += bias[static_cast<size_t>(i)];
}

// ggml's YaRN correction range of the rotated dimensions.
void yarn_corr_dims(int n_dims, int n_ctx_orig, float base, float beta_fast, float beta_slow, float dims[2]) {
    auto corr_dim = [&](float n_rot) {
        return static_cast<float>(n_dims) *
               std::log(static_cast<float>(n_ctx_orig) / (n_rot * 2.0f * static_cast<float>(M_PI))) /
               (2.0f * std::log(base));
    };
    dims[0] = std::max(0.0f, std::floor(corr_dim(beta_fast)));
    dims[1] = std::min(static_cast<float>(n_dims - 1), std::ceil(corr_dim(beta_slow)));
}

// cos and sin of each rotated pair at position pos: cache[2i], cache[2i + 1].
void rope_angles(const Rope &r, const std::vector<float> &freq_factors, int pos, float *cache) {
    const float theta_scale = std::pow(r.freq_base, -2.0f / static_cast<float>(r.n_rot));
    float corr[2] = {0.0f, 0.0f};
    if (r.ext_factor != 0.0f)
        yarn_corr_dims(r.n_rot, r.n_ctx_orig, r.freq_base, r.beta_fast, r.beta_slow, corr);
    float theta_extrap = static_cast<float>(pos);
    for (int i0 = 0; i0 < r.n_rot; i0 += 2) {
        const float ff = freq_factors.empty() ? 1.0f : freq_factors[static_cast<size_t>(i0 / 2)];
        const float extrap = theta_extrap / ff;
        float theta = r.freq_scale * extrap, mscale = r.attn_factor;
        if (r.ext_factor != 0.0f) {
            const float y = (static_cast<float>(i0 / 2) - corr[0]) / std::max(0.001f, corr[1] - corr[0]);
            const float ramp = (1.0f - std::min(1.0f, std::max(0.0f, y))) * r.ext_factor;
            theta = theta * (1.0f - ramp) + extrap * ramp;
            mscale *= 1.0f + 0.1f * std::log(1.0f / r.freq_scale);
        }
        cache[i0] = std::cos(theta) * mscale;
        cache[i0 + 1] = std::sin(theta) * mscale;
        theta_extrap *= theta_scale;
    }
}

// Rotates each head of the rows x[t] (n_heads heads of head_dim) at position
// n_past + t.
void apply_rope(const Rope &r, const std::vector<float> &freq_factors, float *x, int n, int n_heads,
                int head_dim, int n_past) {
    std::vector<float> cache(static_cast<size_t>(r.n_rot));
    const int half = r.n_rot / 2;
    for (int t = 0; t < n; ++t) {
        rope_angles(r, freq_factors, n_past + t, cache.data());
        for (int h = 0; h < n_heads; ++h) {
            float *v = x + (static_cast<size_t>(t) * n_heads + h) * head_dim;
            for (int i0 = 0; i0 < r.n_rot; i0 += 2) {
                const float c = cache[static_cast<size_t>(i0)], s = cache[static_cast<size_t>(i0) + 1];
                float *a, *b;
                if (r.order == RopeOrder::Normal)
                    a = v + i0, b = v + i0 + 1;
                else
                    a = v + i0 / 2, b = v + i0 / 2 + half;
                const float x0 = *a, x1 = *b;
                *a = x0 * c - x1 * s;
                *b = x0 * s + x1 * c;
            }
        }
    }
}

float silu(float x) {
    return x / (1.0f + std::exp(-x));
}

void store(uint8_t *dst, float v, lb_type type) {
    if (type == LB_TYPE_F16) {
        const uint16_t h = fp32_to_fp16(v);
        std::memcpy(dst, &h, 2);
    } else {
        std::memcpy(dst, &v, 4);
    }
}

} // namespace

Forward::Forward(const ModelConfig &config, const Weights &weights) : c_(config), w_(weights) {}

void Forward::attention(int layer, int n, int n_past, KvCache &cache, const kernels::KernelSet &kernels,
                        int n_threads) {
    const int hd = c_.head_dim, n_kv = c_.n_head_kv, group = c_.n_head / c_.n_head_kv;
    const int n_keys = n_past + n;
    const size_t eb = cache.element_bytes();
    const int64_t q_width = static_cast<int64_t>(c_.n_head) * hd;
    uint8_t *keys = cache.keys(layer), *values = cache.values(layer);
    // the new keys and values into the cache
    for (int t = 0; t < n; ++t) {
        const size_t pos = static_cast<size_t>(n_past + t);
        for (int i = 0; i < n_kv * hd; ++i)
            store(keys + (pos * static_cast<size_t>(n_kv * hd) + static_cast<size_t>(i)) * eb,
                  k_[static_cast<size_t>(t) * static_cast<size_t>(n_kv * hd) + static_cast<size_t>(i)],
                  cache.type());
        for (int g = 0; g < n_kv; ++g)
            for (int d = 0; d < hd; ++d)
                store(values + ((static_cast<size_t>(g) * hd + static_cast<size_t>(d)) *
                                    static_cast<size_t>(cache.n_ctx()) +
                                pos) *
                                   eb,
                      v_[static_cast<size_t>(t) * static_cast<size_t>(n_kv * hd) +
                         static_cast<size_t>(g * hd + d)],
                      cache.type());
    }
    const kernels::WeightKernels &kk = kernels.dot().by_type[cache.type()];
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    // the heads split over the threads
    const int parts = std::max(1, std::min(n_threads, c_.n_head));
    ThreadPool::shared().run(parts, [&](int part) {
        std::vector<float> scores(static_cast<size_t>(n) * static_cast<size_t>(n_keys));
        std::vector<uint8_t> qa(kk.activation_row_bytes(hd) * static_cast<size_t>(n));
        std::vector<uint8_t> pa(kk.activation_row_bytes(n_keys) * static_cast<size_t>(n));
        for (int h = c_.n_head * part / parts; h < c_.n_head * (part + 1) / parts; ++h) {
            const int g = h / group;
            // scores = Q K^T for this head: the keys as the weight rows
            const size_t qa_row = kk.activation_row_bytes(hd);
            for (int t = 0; t < n; ++t)
                kk.quantize_activations(q_.data() + static_cast<size_t>(t) * static_cast<size_t>(q_width) +
                                            static_cast<size_t>(h) * hd,
                                        qa.data() + static_cast<size_t>(t) * qa_row, hd);
            kk.tile({.n = hd,
                     .w = keys + static_cast<size_t>(g) * hd * eb,
                     .w_stride = static_cast<size_t>(n_kv * hd) * eb,
                     .n_rows = n_keys,
                     .a = qa.data(),
                     .a_stride = qa_row,
                     .n_tokens = n,
                     .out = scores.data(),
                     .out_stride = n_keys});
            // causal softmax of the scaled scores
            for (int t = 0; t < n; ++t) {
                float *s = scores.data() + static_cast<size_t>(t) * static_cast<size_t>(n_keys);
                const int last = n_past + t; // keys after it are masked
                float max = -std::numeric_limits<float>::infinity();
                for (int j = 0; j <= last; ++j) max = std::max(max, s[j] * scale);
                double sum = 0.0;
                for (int j = 0; j <= last; ++j) {
                    s[j] = std::exp(s[j] * scale - max);
                    sum += s[j];
                }
                const float inv = static_cast<float>(1.0 / sum);
                for (int j = 0; j <= last; ++j) s[j] *= inv;
                for (int j = last + 1; j < n_keys; ++j) s[j] = 0.0f;
            }
            // out = P V: the transposed values as the weight rows
            const size_t pa_row = kk.activation_row_bytes(n_keys);
            for (int t = 0; t < n; ++t)
                kk.quantize_activations(scores.data() + static_cast<size_t>(t) * static_cast<size_t>(n_keys),
                                        pa.data() + static_cast<size_t>(t) * pa_row, n_keys);
            kk.tile({.n = n_keys,
                     .w = values + static_cast<size_t>(g) * hd * static_cast<size_t>(cache.n_ctx()) * eb,
                     .w_stride = static_cast<size_t>(cache.n_ctx()) * eb,
                     .n_rows = hd,
                     .a = pa.data(),
                     .a_stride = pa_row,
                     .n_tokens = n,
                     .out = att_.data() + static_cast<size_t>(h) * hd,
                     .out_stride = q_width});
        }
    });
}

void Forward::eval(const int32_t *tokens, int n, int n_past, const std::vector<int> &outputs, float *logits,
                   KvCache &cache, const kernels::KernelSet &kernels, int n_threads,
                   const MatmulObserver &observer) {
    if (n <= 0) return;
    if (n_past + n > cache.n_ctx())
        fail(LB_E_INVALID_ARG, "the batch ends at position %d, past the context of %d tokens", n_past + n,
             cache.n_ctx());
    const int64_t E = c_.n_embd, Q = static_cast<int64_t>(c_.n_head) * c_.head_dim,
                  KV = static_cast<int64_t>(c_.n_head_kv) * c_.head_dim, F = c_.n_ff;
    const size_t un = static_cast<size_t>(n);
    x_.resize(un * static_cast<size_t>(E));
    h_.resize(un * static_cast<size_t>(std::max(E, F)));
    q_.resize(un * static_cast<size_t>(Q));
    k_.resize(un * static_cast<size_t>(KV));
    v_.resize(un * static_cast<size_t>(KV));
    att_.resize(un * static_cast<size_t>(Q));
    gate_.resize(un * static_cast<size_t>(F));
    up_.resize(un * static_cast<size_t>(F));
    const kernels::DotKernels &dot = kernels.dot();
    // per-token work (norms, the gated activation) over the threads: each
    // token's values are computed as on one thread
    auto each_token = [&](const std::function<void(int64_t)> &fn) {
        parallel_for(n_threads, n, 16, [&](int64_t b, int64_t e) {
            for (int64_t t = b; t < e; ++t) fn(t);
        });
    };
    auto product = [&](const Matrix &m, const float *in, int64_t rows, float *out) {
        if (observer && !observer(m, in, rows)) fail(LB_E_CANCELLED, "evaluation cancelled");
        kernels::matmul(dot, layout_for(m, dot), in, rows, out, n_threads, matmul_scratch_);
    };

    // token embeddings
    const formats::DequantizeRowFn embed = kernels::dequantizer(kernels, w_.token_embd.w.type);
    for (int t = 0; t < n; ++t) {
        const int32_t id = tokens[t];
        if (id < 0 || id >= w_.token_embd.w.rows)
            fail(LB_E_INVALID_ARG, "token %d is outside the vocabulary of %lld tokens", id,
                 static_cast<long long>(w_.token_embd.w.rows));
        embed(w_.token_embd.w.data + static_cast<size_t>(id) * w_.token_embd.w.row_bytes,
              x_.data() + static_cast<size_t>(t) * static_cast<size_t>(E), E);
    }

    for (int l = 0; l < c_.n_layer; ++l) {
        const Layer &L = w_.layers[static_cast<size_t>(l)];
        each_token([&](int64_t t) {
            rms_norm(x_.data() + static_cast<size_t>(t) * E, L.attn_norm.data(), E, c_.rms_eps,
                     h_.data() + static_cast<size_t>(t) * E);
        });
        product(L.q, h_.data(), n, q_.data());
        product(L.k, h_.data(), n, k_.data());
        product(L.v, h_.data(), n, v_.data());
        add_bias(q_.data(), n, L.q_bias);
        add_bias(k_.data(), n, L.k_bias);
        add_bias(v_.data(), n, L.v_bias);
        if (!L.q_norm.empty()) { // qwen3: RMSNorm of every head
            for (int64_t i = 0; i < n * static_cast<int64_t>(c_.n_head); ++i)
                rms_norm(q_.data() + i * c_.head_dim, L.q_norm.data(), c_.head_dim, c_.rms_eps,
                         q_.data() + i * c_.head_dim);
            for (int64_t i = 0; i < n * static_cast<int64_t>(c_.n_head_kv); ++i)
                rms_norm(k_.data() + i * c_.head_dim, L.k_norm.data(), c_.head_dim, c_.rms_eps,
                         k_.data() + i * c_.head_dim);
        }
        apply_rope(c_.rope, w_.rope_freqs, q_.data(), n, c_.n_head, c_.head_dim, n_past);
        apply_rope(c_.rope, w_.rope_freqs, k_.data(), n, c_.n_head_kv, c_.head_dim, n_past);
        attention(l, n, n_past, cache, kernels, n_threads);
        product(L.o, att_.data(), n, h_.data());
        add_bias(h_.data(), n, L.o_bias);
        for (size_t i = 0; i < un * static_cast<size_t>(E); ++i) x_[i] += h_[i];

        each_token([&](int64_t t) {
            rms_norm(x_.data() + static_cast<size_t>(t) * E, L.ffn_norm.data(), E, c_.rms_eps,
                     h_.data() + static_cast<size_t>(t) * E);
        });
        product(L.gate, h_.data(), n, gate_.data());
        product(L.up, h_.data(), n, up_.data());
        each_token([&](int64_t t) {
            for (size_t i = static_cast<size_t>(t * F); i < static_cast<size_t>((t + 1) * F); ++i)
                gate_[i] = silu(gate_[i]) * up_[i];
        });
        product(L.down, gate_.data(), n, h_.data());
        for (size_t i = 0; i < un * static_cast<size_t>(E); ++i) x_[i] += h_[i];
    }

    // the output rows only
    const int64_t n_out = static_cast<int64_t>(outputs.size());
    if (n_out == 0) return;
    for (int64_t j = 0; j < n_out; ++j)
        rms_norm(x_.data() + static_cast<size_t>(outputs[static_cast<size_t>(j)]) * E, w_.output_norm.data(),
                 E, c_.rms_eps, h_.data() + static_cast<size_t>(j) * E);
    product(w_.output, h_.data(), n_out, logits);
}

} // namespace lb::session
