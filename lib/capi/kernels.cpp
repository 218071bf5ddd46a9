// The C API's view of the kernel sets (lib/kernels).
#include "kernels/kernels.hpp"
#include "lowbit/lowbit.h"

extern "C" {

size_t lb_kernels_count(void) {
    return static_cast<size_t>(lb::kernels::set_count());
}

const char *lb_kernels_name(size_t i) {
    return i < lb_kernels_count() ? lb::kernels::set_name(static_cast<int>(i)) : nullptr;
}

int lb_kernels_available(const char *name) {
    return lb::kernels::find(name) != nullptr ? 1 : 0;
}

const char *lb_kernels_active(void) {
    return lb::kernels::active().name;
}

const char *lb_cpu_features(void) {
    return lb::kernels::cpu_features();
}

} // extern "C"
