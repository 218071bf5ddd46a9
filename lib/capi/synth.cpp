// Synthetic models: the C functions over lb::synth.
#include "capi/guard.hpp"
#include "synth/synth_checkpoint.hpp"
#include "synth/synth_model.hpp"

using lb::capi::guard;
using lb::capi::require;

namespace {

void defaults(lb_synth_options &o) {
    o = lb_synth_options{};
    o.version = LB_SYNTH_OPTIONS_VERSION;
    o.n_layer = 2;
    o.n_embd = 256;
    o.n_head = 8;
    o.n_head_kv = 4;
    o.n_ff = 512;
    o.tied_output = 0;
    o.type = LB_TYPE_F16;
    o.seed = 1;
    o.tokenizer_from = nullptr;
    o.arch = LB_SYNTH_LLAMA;
}

} // namespace

extern "C" {

lb_status lb_synth_options_init(lb_synth_options *o, uint32_t version) {
    return guard([&] {
        require(o, "lb_synth_options_init", "o");
        if (version != LB_SYNTH_OPTIONS_VERSION)
            lb::fail(LB_E_INVALID_ARG,
                     "lb_synth_options_init: options version %u is unknown to this library (it knows %u)",
                     version, static_cast<unsigned>(LB_SYNTH_OPTIONS_VERSION));
        defaults(*o);
    });
}

lb_status lb_synth_write_model(const lb_synth_options *o, const char *path, lb_progress_fn progress,
                               void *user) {
    return guard([&] {
        require(o, "lb_synth_write_model", "o");
        require(path, "lb_synth_write_model", "path");
        lb::synth::WriteOptions w;
        w.progress = progress;
        w.progress_user = user;
        lb::synth::write_model(*o, path, w);
    });
}

lb_status lb_synth_write_checkpoint(const lb_synth_options *o, const char *path, lb_progress_fn progress,
                                    void *user) {
    return guard([&] {
        require(o, "lb_synth_write_checkpoint", "o");
        require(path, "lb_synth_write_checkpoint", "path");
        lb::synth::WriteOptions w;
        w.progress = progress;
        w.progress_user = user;
        lb::synth::write_checkpoint(*o, path, w);
    });
}

lb_status lb_synth_write_imatrix(const lb_synth_options *o, const char *path) {
    return guard([&] {
        require(o, "lb_synth_write_imatrix", "o");
        require(path, "lb_synth_write_imatrix", "path");
        lb::synth::write_imatrix(*o, path);
    });
}

} // extern "C"
