// lb_convert: Hugging Face checkpoints to GGUF (lib/convert).
#include "convert/convert.hpp"
#include "capi/guard.hpp"
#include "common/error.hpp"

using lb::fail;
using lb::capi::guard;
using lb::capi::require;

extern "C" {

lb_status lb_convert_options_init(lb_convert_options *o, uint32_t version) {
    return guard([&] {
        require(o, "lb_convert_options_init", "o");
        if (version != LB_CONVERT_OPTIONS_VERSION)
            fail(LB_E_INVALID_ARG,
                 "lb_convert_options_init: options version %u is unknown to this library (it knows %u)",
                 version, static_cast<unsigned>(LB_CONVERT_OPTIONS_VERSION));
        const lb::convert::ConvertOptions d;
        *o = lb_convert_options{};
        o->version = LB_CONVERT_OPTIONS_VERSION;
        o->outtype = d.outtype;
        o->n_threads = d.n_threads;
    });
}

lb_status lb_convert(const char *src, const char *out_path, const lb_convert_options *o,
                     lb_progress_fn progress, void *user) {
    return guard([&] {
        require(src, "lb_convert", "src");
        require(out_path, "lb_convert", "out_path");
        lb::convert::ConvertOptions k;
        if (o != nullptr) {
            if (o->version != LB_CONVERT_OPTIONS_VERSION)
                fail(LB_E_INVALID_ARG,
                     "lb_convert: options version is %u, expected %u: initialise them with "
                     "lb_convert_options_init()",
                     o->version, static_cast<unsigned>(LB_CONVERT_OPTIONS_VERSION));
            if (o->n_threads < 0 || o->n_threads > 1024)
                fail(LB_E_INVALID_ARG, "lb_convert: n_threads must be 0..1024, not %d", o->n_threads);
            k.outtype = o->outtype;
            k.n_threads = o->n_threads;
        }
        if (progress != nullptr)
            k.progress = [&](uint64_t done, uint64_t total, size_t index, size_t count,
                             const std::string &name) {
                lb_progress p{};
                p.version = LB_PROGRESS_VERSION;
                p.done_elements = done;
                p.total_elements = total;
                p.tensor_index = index;
                p.tensor_count = count;
                p.tensor_name = name.c_str();
                return progress(&p, user) == 0;
            };
        lb::convert::convert_checkpoint(src, out_path, k);
    });
}

} // extern "C"
