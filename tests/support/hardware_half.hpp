// binary16 conversions by the CPU's own instructions (F16C on x86-64, the
// __fp16 type's conversions on AArch64): an oracle independent of lowbit's
// common/fp16.hpp for the tests, on every machine they build for.
#pragma once

#include <cstdint>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace testdata {

#if defined(__x86_64__)
__attribute__((target("f16c"))) inline float hardware_half_to_float(uint16_t h) {
    return _cvtsh_ss(h);
}
__attribute__((target("f16c"))) inline uint16_t hardware_float_to_half(float f) {
    return static_cast<uint16_t>(
        _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
}
#elif defined(__aarch64__)
inline float hardware_half_to_float(uint16_t h) {
    __fp16 v;
    std::memcpy(&v, &h, 2);
    return static_cast<float>(v);
}
inline uint16_t hardware_float_to_half(float f) {
    const __fp16 v = static_cast<__fp16>(f);
    uint16_t h;
    std::memcpy(&h, &v, 2);
    return h;
}
#endif

} // namespace testdata
