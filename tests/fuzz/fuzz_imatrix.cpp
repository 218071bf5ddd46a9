// Fuzz target: any bytes as an importance matrix (GGUF or legacy .dat),
// through lb_quantizer_set_imatrix: a clear error or an accepted imatrix,
// never a crash, a sanitizer report or a hang.
#include "lowbit/lowbit.h"
#include "memfd_path.hpp"

#include <cstdint>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const fuzz::MemFile file(data, size);
    if (!file.ok()) return 0;
    lb_quantizer *q = nullptr;
    if (lb_quantizer_new(&q) != LB_OK) return 0;
    const lb_status s = lb_quantizer_set_imatrix(q, file.path());
    if (s != LB_OK && std::strlen(lb_last_error()) == 0) __builtin_trap();
    lb_quantizer_free(q);
    return 0;
}
