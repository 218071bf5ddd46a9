// lb_quantizer: a quantization job.
#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "recipes/ftype.hpp"

using lb::fail;
using lb::capi::guard;
using lb::capi::require;

extern "C" {

const char *lb_ftype_name(lb_ftype ftype) {
    const lb::recipes::FtypeInfo *f = lb::recipes::ftype_info(ftype);
    return f != nullptr ? f->name : nullptr;
}

lb_status lb_ftype_from_name(lb_ftype *out, const char *name) {
    return guard([&] {
        require(out, "lb_ftype_from_name", "out");
        require(name, "lb_ftype_from_name", "name");
        const lb::recipes::FtypeInfo *f = lb::recipes::ftype_from_name(name);
        if (f == nullptr) fail(LB_E_INVALID_ARG, "'%s' is not a quantization type", name);
        *out = f->id;
    });
}

int lb_ftype_is_supported(lb_ftype ftype) { return lb::recipes::ftype_supported(ftype) ? 1 : 0; }

lb_type lb_ftype_default_type(lb_ftype ftype) {
    const lb::recipes::FtypeInfo *f = lb::recipes::ftype_info(ftype);
    return f != nullptr ? f->default_type : LB_TYPE_COUNT;
}

lb_status lb_quantizer_new(lb_quantizer **out) {
    return guard([&] {
        require(out, "lb_quantizer_new", "out");
        *out = new lb_quantizer();
    });
}

void lb_quantizer_free(lb_quantizer *quantizer) { delete quantizer; }

lb_status lb_quantizer_set_ftype(lb_quantizer *quantizer, lb_ftype ftype) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_ftype", "quantizer");
        const lb::recipes::FtypeInfo *f = lb::recipes::ftype_info(ftype);
        if (f == nullptr) fail(LB_E_INVALID_ARG, "lb_quantizer_set_ftype: %d is not a file type", static_cast<int>(ftype));
        if (!lb::recipes::ftype_supported(ftype))
            fail(LB_E_UNSUPPORTED, "quantization type %s is not implemented in this build of lowbit", f->name);
        quantizer->job.options.plan.ftype = ftype;
    });
}

lb_status lb_quantizer_set_threads(lb_quantizer *quantizer, int n_threads) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_threads", "quantizer");
        if (n_threads < 0 || n_threads > 1024)
            fail(LB_E_INVALID_ARG, "lb_quantizer_set_threads: %d threads is not in [0, 1024]", n_threads);
        quantizer->job.options.n_threads = n_threads;
    });
}

lb_status lb_quantizer_set_allow_requantize(lb_quantizer *quantizer, int allow) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_allow_requantize", "quantizer");
        quantizer->job.options.allow_requantize = allow != 0;
    });
}

lb_status lb_quantizer_set_progress(lb_quantizer *quantizer, lb_progress_fn fn, void *user) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_progress", "quantizer");
        quantizer->job.options.progress = fn;
        quantizer->job.options.progress_user = user;
    });
}

lb_status lb_quantizer_set_log(lb_quantizer *quantizer, lb_log_fn fn, void *user) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_log", "quantizer");
        quantizer->job.options.log = fn;
        quantizer->job.options.log_user = user;
    });
}

void lb_quantizer_cancel(lb_quantizer *quantizer) {
    if (quantizer != nullptr) quantizer->job.cancel();
}

lb_status lb_quantizer_run(lb_quantizer *quantizer, const lb_model *model, const char *out_path) {
    return guard([&] {
        require(quantizer, "lb_quantizer_run", "quantizer");
        require(model, "lb_quantizer_run", "model");
        require(out_path, "lb_quantizer_run", "out_path");
        quantizer->stats = quantizer->job.run(*model->file, out_path);
    });
}

uint64_t lb_quantizer_stat(const lb_quantizer *quantizer, lb_stat stat) {
    if (quantizer == nullptr) return 0;
    const lb::QuantizeStats &s = quantizer->stats;
    switch (stat) {
    case LB_STAT_TENSORS: return s.tensors;
    case LB_STAT_QUANTIZED: return s.quantized;
    case LB_STAT_FALLBACKS: return s.fallbacks;
    case LB_STAT_ELEMENTS: return s.elements;
    case LB_STAT_INPUT_BYTES: return s.input_bytes;
    case LB_STAT_OUTPUT_BYTES: return s.output_bytes;
    case LB_STAT_OUTPUT_FILE_BYTES: return s.output_file_bytes;
    case LB_STAT_ELAPSED_US: return s.elapsed_us;
    case LB_STAT_FORCE_INT32: break;
    }
    return 0;
}

} // extern "C"
