// lb_tensor_errors_*: each weight tensor's relative output error in a
// quantized model (lib/eval/tensor_errors).
#include "eval/tensor_errors.hpp"
#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "common/error.hpp"

#include <memory>
#include <vector>

using lb::fail;
using lb::capi::guard;
using lb::capi::require;

struct lb_tensor_errors {
    std::vector<lb::eval::TensorError> entries;
};

extern "C" {

lb_status lb_tensor_errors_measure(lb_tensor_errors **out, lb_session *base, const lb_model *quantized,
                                   const char *text, size_t len, const lb_kld_options *o,
                                   lb_chunks_fn progress, void *user) {
    return guard([&] {
        const char *fn = "lb_tensor_errors_measure";
        require(out, fn, "out");
        require(base, fn, "base");
        require(quantized, fn, "quantized");
        if (len > 0) require(text, fn, "text");
        lb::eval::KldOptions k;
        if (o != nullptr) {
            if (o->version != LB_KLD_OPTIONS_VERSION)
                fail(LB_E_INVALID_ARG,
                     "%s: options version is %u, expected %u: initialise them with lb_kld_options_init()", fn,
                     o->version, static_cast<unsigned>(LB_KLD_OPTIONS_VERSION));
            if (o->n_ctx < 2 || o->n_ctx > (1 << 20))
                fail(LB_E_INVALID_ARG, "%s: n_ctx must be 2..%d, not %d", fn, 1 << 20, o->n_ctx);
            if (o->max_chunks < 0) fail(LB_E_INVALID_ARG, "%s: max_chunks is %d", fn, o->max_chunks);
            k.n_ctx = o->n_ctx;
            k.max_chunks = o->max_chunks;
        }
        lb::eval::ChunkProgress on_chunk;
        if (progress != nullptr)
            on_chunk = [&](uint64_t done, uint64_t total) { return progress(done, total, user) == 0; };
        auto result = std::make_unique<lb_tensor_errors>();
        result->entries = lb::eval::tensor_errors(*base->session, *quantized->model,
                                                  std::string(len > 0 ? text : "", len), k, on_chunk);
        *out = result.release();
    });
}

void lb_tensor_errors_free(lb_tensor_errors *errors) {
    delete errors;
}

size_t lb_tensor_errors_count(const lb_tensor_errors *errors) {
    return errors != nullptr ? errors->entries.size() : 0;
}

lb_status lb_tensor_errors_get(const lb_tensor_errors *errors, size_t i, lb_tensor_error *out) {
    return guard([&] {
        const char *fn = "lb_tensor_errors_get";
        require(errors, fn, "errors");
        require(out, fn, "out");
        if (out->version != LB_TENSOR_ERROR_VERSION)
            fail(LB_E_INVALID_ARG,
                 "%s: out->version is %u: set it to LB_TENSOR_ERROR_VERSION (%u) before the call", fn,
                 out->version, static_cast<unsigned>(LB_TENSOR_ERROR_VERSION));
        if (i >= errors->entries.size())
            fail(LB_E_INVALID_ARG, "%s: entry %zu is out of range (the result has %zu)", fn, i,
                 errors->entries.size());
        const lb::eval::TensorError &e = errors->entries[i];
        lb_tensor_error c{};
        c.version = LB_TENSOR_ERROR_VERSION;
        c.name = e.name.c_str();
        c.layer = e.layer;
        c.base_type = e.base_type;
        c.type = e.type;
        c.n_rows = e.n_rows;
        c.error = e.error;
        c.reference = e.reference;
        c.relative = e.relative();
        *out = c;
    });
}

} // extern "C"
