// lb_kld*: KL-divergence of a model from a base model (lib/eval).
#include "eval/kld.hpp"
#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "common/error.hpp"

#include <chrono>

using lb::fail;
using lb::capi::guard;
using lb::capi::require;

namespace {

lb::session::Session &get(lb_session *s, const char *fn, const char *name) {
    require(s, fn, name);
    return *s->session;
}

lb_estimate to_c(const lb::eval::Estimate &e) {
    return {e.value, e.uncertainty};
}

lb_quantiles to_c(const lb::eval::Quantiles &q) {
    return {q.min, q.p0_1, q.p1, q.p5, q.p10, q.p25, q.median, q.p75, q.p90, q.p95, q.p99, q.p99_9, q.max};
}

lb_kld_result to_c(const lb::eval::KldReport &r, double seconds) {
    lb_kld_result c{};
    c.version = LB_KLD_RESULT_VERSION;
    c.n_scored = r.n_scored;
    c.n_chunks = r.n_chunks;
    c.n_chunks_total = r.n_chunks_total;
    c.n_ctx = r.n_ctx;
    c.ppl = to_c(r.ppl);
    c.ppl_base = to_c(r.ppl_base);
    c.ln_ppl_correlation = r.ln_ppl_correlation;
    c.ln_ppl_ratio = to_c(r.ln_ppl_ratio);
    c.ppl_ratio = to_c(r.ppl_ratio);
    c.ppl_difference = to_c(r.ppl_difference);
    c.kld = to_c(r.kld);
    c.kld_quantiles = to_c(r.kld_quantiles);
    c.delta_p = to_c(r.delta_p);
    c.delta_p_quantiles = to_c(r.delta_p_quantiles);
    c.delta_p_rms = to_c(r.delta_p_rms);
    c.same_top = to_c(r.same_top);
    c.seconds = seconds;
    return c;
}

lb::eval::KldOptions options(const lb_kld_options *o, const char *fn) {
    lb::eval::KldOptions k;
    if (o == nullptr) return k;
    if (o->version != LB_KLD_OPTIONS_VERSION)
        fail(LB_E_INVALID_ARG,
             "%s: options version is %u, expected %u: initialise them with lb_kld_options_init()", fn,
             o->version, static_cast<unsigned>(LB_KLD_OPTIONS_VERSION));
    if (o->n_ctx < 2 || o->n_ctx > (1 << 20))
        fail(LB_E_INVALID_ARG, "%s: n_ctx must be 2..%d, not %d", fn, 1 << 20, o->n_ctx);
    if (o->max_chunks < 0) fail(LB_E_INVALID_ARG, "%s: max_chunks is %d", fn, o->max_chunks);
    k.n_ctx = o->n_ctx;
    k.max_chunks = o->max_chunks;
    return k;
}

void check_out(const lb_kld_result *out, const char *fn) {
    require(out, fn, "out");
    if (out->version != LB_KLD_RESULT_VERSION)
        fail(LB_E_INVALID_ARG, "%s: out->version is %u: set it to LB_KLD_RESULT_VERSION (%u) before the call",
             fn, out->version, static_cast<unsigned>(LB_KLD_RESULT_VERSION));
}

// The progress callback in C++ terms, with the time since start.
struct Progress {
    lb_kld_fn fn;
    void *user;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    lb::eval::KldProgress wrap() const {
        if (fn == nullptr) return nullptr;
        return [this](const lb::eval::KldReport &r) {
            const lb_kld_result c = to_c(r, seconds());
            return fn(&c, user) == 0;
        };
    }
};

} // namespace

extern "C" {

lb_status lb_kld_options_init(lb_kld_options *o, uint32_t version) {
    return guard([&] {
        require(o, "lb_kld_options_init", "o");
        if (version != LB_KLD_OPTIONS_VERSION)
            fail(LB_E_INVALID_ARG,
                 "lb_kld_options_init: options version %u is unknown to this library (it knows %u)", version,
                 static_cast<unsigned>(LB_KLD_OPTIONS_VERSION));
        const lb::eval::KldOptions d;
        *o = lb_kld_options{};
        o->version = LB_KLD_OPTIONS_VERSION;
        o->n_ctx = d.n_ctx;
        o->max_chunks = d.max_chunks;
    });
}

lb_status lb_kld(lb_session *base, lb_session *model, const char *text, size_t len, const lb_kld_options *o,
                 lb_kld_fn progress, void *user, lb_kld_result *out) {
    return guard([&] {
        lb::session::Session &b = get(base, "lb_kld", "base");
        lb::session::Session &m = get(model, "lb_kld", "model");
        if (len > 0) require(text, "lb_kld", "text");
        check_out(out, "lb_kld");
        const lb::eval::KldOptions k = options(o, "lb_kld");
        const Progress p{progress, user};
        const lb::eval::KldReport r =
            lb::eval::kl_divergence(b, m, std::string(len > 0 ? text : "", len), k, p.wrap());
        *out = to_c(r, p.seconds());
    });
}

lb_status lb_kld_save_base(lb_session *base, const char *text, size_t len, const lb_kld_options *o,
                           const char *path, lb_chunks_fn progress, void *user, uint64_t *n_chunks) {
    return guard([&] {
        lb::session::Session &b = get(base, "lb_kld_save_base", "base");
        if (len > 0) require(text, "lb_kld_save_base", "text");
        require(path, "lb_kld_save_base", "path");
        const lb::eval::KldOptions k = options(o, "lb_kld_save_base");
        lb::eval::ChunkProgress on_chunk;
        if (progress != nullptr)
            on_chunk = [&](uint64_t done, uint64_t total) { return progress(done, total, user) == 0; };
        const uint64_t n =
            lb::eval::save_base_logits(b, std::string(len > 0 ? text : "", len), k, path, on_chunk);
        if (n_chunks != nullptr) *n_chunks = n;
    });
}

lb_status lb_kld_from_file(lb_session *model, const char *base_path, lb_kld_fn progress, void *user,
                           lb_kld_result *out) {
    return guard([&] {
        lb::session::Session &m = get(model, "lb_kld_from_file", "model");
        require(base_path, "lb_kld_from_file", "base_path");
        check_out(out, "lb_kld_from_file");
        const Progress p{progress, user};
        const lb::eval::KldReport r = lb::eval::kl_divergence_from_file(base_path, m, p.wrap());
        *out = to_c(r, p.seconds());
    });
}

} // extern "C"
