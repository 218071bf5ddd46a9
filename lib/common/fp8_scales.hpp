// The 8-bit scale formats of the microscaling types, as GGUF stores them
// (llama.cpp's ggml-impl.h defines the conversions; these are exact):
//  - E8M0 (MXFP4): an exponent byte e, scale 2^(e - 127). MXFP4's levels are
//    stored doubled (kvalues_fp4 = 2 * E2M1), so the decoders use half the
//    scale, 2^(e - 128); e = 0 and 1 are the subnormals 2^-128 and 2^-127.
//  - UE4M3 (NVFP4): unsigned, 4 exponent bits (bias 7), 3 mantissa bits; bit 7
//    is ignored and 0x7f (NaN) reads as 0. Also decoded at half its value.
#pragma once

#include "common/fp16.hpp"
#include "common/isa.hpp"

#include <cstdint>

namespace lb {

// The largest UE4M3 code lowbit writes: 0x7e = 448 (0x7f is NaN).
constexpr uint8_t kUe4m3Max = 0x7e;

inline namespace LOWBIT_ISA { // common/isa.hpp

// 2^(e - 128), exactly.
inline float e8m0_to_fp32_half(uint8_t e) {
    return bits_float(e < 2 ? 0x00200000u << e : static_cast<uint32_t>(e - 1) << 23);
}

// Half the value of a UE4M3 byte, exactly.
inline float ue4m3_to_fp32_half(uint8_t x) {
    if (x == 0 || x == 0x7f) return 0.0f;
    const uint32_t exp = (x >> 3) & 0xfu, man = x & 0x7u;
    // subnormal: man * 2^-9; normal: (8 + man) * 2^(exp - 10); then halved
    if (exp == 0) return static_cast<float>(man) * 0x1p-10f;
    return static_cast<float>(8 + man) * bits_float((exp - 11 + 127) << 23);
}

} // namespace LOWBIT_ISA

} // namespace lb
