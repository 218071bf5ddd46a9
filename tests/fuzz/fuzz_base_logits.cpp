// Fuzz target: any bytes as a saved base-logits file, through
// lb_kld_from_file on a session of a small synthetic model (the one
// scripts/fuzz.sh seeds base files from: written once at start with the same
// options): a clear error or a result, never a crash, a sanitizer report, a
// hang or an allocation a header merely claims.
#include "lowbit/lowbit.h"
#include "memfd_path.hpp"
#include "scratch.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace {

// Both live for the process (reachable from here, so not a leak).
lb_model *g_model = nullptr;

lb_session *session() {
    static lb_session *s = [] {
        lb_synth_options o;
        lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
        o.n_layer = 1;
        o.n_embd = 32;
        o.n_head = 2;
        o.n_head_kv = 1;
        o.n_ff = 64;
        o.seed = 1;
        const std::string path = fuzz::scratch_path("model.gguf");
        lb_model *&m = g_model;
        lb_session *opened = nullptr;
        if (lb_synth_write_model(&o, path.c_str(), nullptr, nullptr) != LB_OK ||
            lb_model_open(&m, path.c_str()) != LB_OK || lb_session_new(&opened, m) != LB_OK ||
            lb_session_set_param(opened, LB_SESSION_THREADS, 1) != LB_OK)
            __builtin_trap();
        return opened;
    }();
    return s;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const fuzz::MemFile file(data, size);
    if (!file.ok()) return 0;
    lb_kld_result r{};
    r.version = LB_KLD_RESULT_VERSION;
    const lb_status s = lb_kld_from_file(session(), file.path(), nullptr, nullptr, &r);
    if (s != LB_OK && std::strlen(lb_last_error()) == 0) __builtin_trap();
    if (s == LB_OK && (r.n_scored == 0 || !std::isfinite(r.kld.value) || !std::isfinite(r.ppl_base.value)))
        __builtin_trap();
    return 0;
}
