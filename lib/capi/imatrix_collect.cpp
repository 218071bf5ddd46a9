// lb_imatrix_collect: an importance matrix gathered by a session
// (lib/eval/collect_imatrix).
#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "common/error.hpp"
#include "eval/collect_imatrix.hpp"

#include <chrono>

using lb::fail;
using lb::capi::guard;
using lb::capi::require;

namespace {

lb::eval::ImatrixOptions options(const lb_imatrix_options *o) {
    lb::eval::ImatrixOptions k;
    if (o == nullptr) return k;
    if (o->version != LB_IMATRIX_OPTIONS_VERSION)
        fail(LB_E_INVALID_ARG,
             "lb_imatrix_collect: options version is %u, expected %u: initialise them with "
             "lb_imatrix_options_init()",
             o->version, static_cast<unsigned>(LB_IMATRIX_OPTIONS_VERSION));
    if (o->n_ctx < 2 || o->n_ctx > (1 << 20))
        fail(LB_E_INVALID_ARG, "lb_imatrix_collect: n_ctx must be 2..%d, not %d", 1 << 20, o->n_ctx);
    if (o->max_chunks < 0) fail(LB_E_INVALID_ARG, "lb_imatrix_collect: max_chunks is %d", o->max_chunks);
    if (o->save_frequency < 0)
        fail(LB_E_INVALID_ARG, "lb_imatrix_collect: save_frequency is %d", o->save_frequency);
    if (o->n_in_files > 0) require(o->in_files, "lb_imatrix_collect", "o->in_files");
    k.n_ctx = o->n_ctx;
    k.max_chunks = o->max_chunks;
    k.process_output = o->process_output != 0;
    k.with_in_sum = o->with_in_sum != 0;
    k.save_frequency = o->save_frequency;
    k.legacy = o->legacy_format != 0;
    if (o->dataset != nullptr) k.dataset = o->dataset;
    for (size_t i = 0; i < o->n_in_files; ++i) {
        if (o->in_files[i] == nullptr)
            fail(LB_E_INVALID_ARG, "lb_imatrix_collect: o->in_files[%zu] is NULL", i);
        k.in_files.emplace_back(o->in_files[i]);
    }
    return k;
}

lb_imatrix_result to_c(const lb::eval::ImatrixReport &r, double seconds) {
    lb_imatrix_result c{};
    c.version = LB_IMATRIX_RESULT_VERSION;
    c.n_chunks = r.n_chunks;
    c.n_chunks_total = r.n_chunks_total;
    c.n_ctx = r.n_ctx;
    c.chunk_count = r.chunk_count;
    c.n_entries = r.n_entries;
    c.ppl = {r.ppl, r.ppl_uncertainty};
    c.seconds = seconds;
    return c;
}

} // namespace

extern "C" {

lb_status lb_imatrix_options_init(lb_imatrix_options *o, uint32_t version) {
    return guard([&] {
        require(o, "lb_imatrix_options_init", "o");
        if (version != LB_IMATRIX_OPTIONS_VERSION)
            fail(LB_E_INVALID_ARG,
                 "lb_imatrix_options_init: options version %u is unknown to this library (it knows %u)",
                 version, static_cast<unsigned>(LB_IMATRIX_OPTIONS_VERSION));
        const lb::eval::ImatrixOptions d;
        *o = lb_imatrix_options{};
        o->version = LB_IMATRIX_OPTIONS_VERSION;
        o->n_ctx = d.n_ctx;
        o->max_chunks = d.max_chunks;
        o->save_frequency = d.save_frequency;
    });
}

lb_status lb_imatrix_collect(lb_session *session, const char *text, size_t len, const lb_imatrix_options *o,
                             const char *out_path, lb_imatrix_fn progress, void *user,
                             lb_imatrix_result *out) {
    return guard([&] {
        require(session, "lb_imatrix_collect", "session");
        if (len > 0) require(text, "lb_imatrix_collect", "text");
        require(out_path, "lb_imatrix_collect", "out_path");
        require(out, "lb_imatrix_collect", "out");
        if (out->version != LB_IMATRIX_RESULT_VERSION)
            fail(
                LB_E_INVALID_ARG,
                "lb_imatrix_collect: out->version is %u: set it to LB_IMATRIX_RESULT_VERSION (%u) before the "
                "call",
                out->version, static_cast<unsigned>(LB_IMATRIX_RESULT_VERSION));
        const lb::eval::ImatrixOptions k = options(o);
        const auto start = std::chrono::steady_clock::now();
        const auto seconds = [&] {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        };
        lb::eval::ImatrixProgress on_chunk;
        if (progress != nullptr)
            on_chunk = [&](const lb::eval::ImatrixReport &r) {
                const lb_imatrix_result c = to_c(r, seconds());
                return progress(&c, user) == 0;
            };
        const lb::eval::ImatrixReport r = lb::eval::collect_imatrix(
            *session->session, std::string(len > 0 ? text : "", len), k, out_path, on_chunk);
        *out = to_c(r, seconds());
    });
}

} // extern "C"
