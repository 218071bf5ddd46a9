// Fuzz target: any bytes as an importance matrix (GGUF or legacy .dat),
// through lb_quantizer_set_imatrix: a clear error or an accepted imatrix,
// never a crash, a sanitizer report or a hang. An accepted imatrix is then
// applied: one weight of a small synthetic model (1 layer, 256-wide rows, so
// K-quants take it; written once at start, the model scripts/fuzz.sh seeds
// imatrices for) is quantized with it, to a file type picked by the input;
// the run must succeed or fail with a message, and what it wrote must open.
#include "lowbit/lowbit.h"
#include "memfd_path.hpp"
#include "scratch.hpp"

#include <cstdint>
#include <cstring>
#include <string>

namespace {

const lb_model *model() {
    static lb_model *m = [] {
        lb_synth_options o;
        lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
        o.n_layer = 1;
        o.n_embd = 256;
        o.n_head = 2;
        o.n_head_kv = 1;
        o.n_ff = 256;
        o.seed = 1;
        const std::string path = fuzz::scratch_path("model.gguf");
        lb_model *opened = nullptr;
        if (lb_synth_write_model(&o, path.c_str(), nullptr, nullptr) != LB_OK ||
            lb_model_open(&opened, path.c_str()) != LB_OK)
            __builtin_trap();
        return opened;
    }();
    return m;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const fuzz::MemFile file(data, size);
    if (!file.ok() || size == 0) return 0;
    lb_quantizer *q = nullptr;
    if (lb_quantizer_new(&q) != LB_OK) return 0;
    const lb_status s = lb_quantizer_set_imatrix(q, file.path());
    if (s != LB_OK && std::strlen(lb_last_error()) == 0) __builtin_trap();
    if (s == LB_OK) {
        static const lb_ftype kTypes[] = {LB_FTYPE_Q4_K_S, LB_FTYPE_Q2_K_S, LB_FTYPE_Q3_K_M,
                                          LB_FTYPE_Q5_K_M, LB_FTYPE_Q6_K,   LB_FTYPE_Q4_1};
        lb_quantizer_set_ftype(q, kTypes[data[size - 1] % (sizeof kTypes / sizeof kTypes[0])]);
        lb_quantizer_set_threads(q, 1);
        // one weight (picked by the input) takes the file type and the
        // imatrix, the others stay F16: fast enough for tens of thousands of runs
        static const char *const kOnly[] = {"^(?!blk\\.0\\.attn_k\\.weight$)",
                                            "^(?!blk\\.0\\.attn_v\\.weight$)",
                                            "^(?!blk\\.0\\.ffn_down\\.weight$)"};
        lb_quantizer_add_tensor_type(q, kOnly[data[0] % 3], LB_TYPE_F16);
        const std::string out = fuzz::scratch_path("out.gguf");
        const lb_status st = lb_quantizer_run(q, model(), out.c_str());
        if (st == LB_OK)
            fuzz::reopen_or_trap(out);
        else if (std::strlen(lb_last_error()) == 0)
            __builtin_trap();
    }
    lb_quantizer_free(q);
    return 0;
}
