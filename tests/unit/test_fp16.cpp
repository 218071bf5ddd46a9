// binary16 and bfloat16 conversions against ggml's, bit for bit.
#include "common/fp16.hpp"
#include "ggml_peer.hpp"

#include <cstring>
#include <gtest/gtest.h>

namespace {

uint32_t bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

TEST(Fp16, WideningMatchesGgmlForEveryValue) {
    const peer::Ggml &g = peer::Ggml::get();
    for (uint32_t h = 0; h < 65536; ++h) {
        const float ours = lb::fp16_to_fp32(static_cast<uint16_t>(h));
        const float theirs = g.fp16_to_fp32(static_cast<uint16_t>(h));
        ASSERT_EQ(bits(ours), bits(theirs)) << "fp16 0x" << std::hex << h;
    }
}

// Narrowing: every binary16 value, the midpoints between neighbours (ties)
// and one float step on either side of each, plus a stride through all floats.
TEST(Fp16, NarrowingMatchesGgml) {
    const peer::Ggml &g = peer::Ggml::get();
    auto check = [&](uint32_t u) {
        const float f = from_bits(u);
        ASSERT_EQ(lb::fp32_to_fp16(f), g.fp32_to_fp16(f)) << "float bits 0x" << std::hex << u;
    };
    for (uint32_t h = 0; h < 0x7c00; ++h) {
        const float a = g.fp16_to_fp32(static_cast<uint16_t>(h));
        const float b = g.fp16_to_fp32(static_cast<uint16_t>(h + 1));
        for (float v : {a, -a}) check(bits(v));
        const double mid = (static_cast<double>(a) + static_cast<double>(b)) / 2.0;
        const float m = static_cast<float>(mid);
        for (int sign = 0; sign < 2; ++sign)
            for (int d = -1; d <= 1; ++d)
                check((bits(m) + static_cast<uint32_t>(d)) ^ (sign ? 0x80000000u : 0u));
    }
    for (uint64_t u = 0; u <= 0xffffffffull; u += 251) check(static_cast<uint32_t>(u));
    for (uint32_t u : {0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x477fefffu,
                       0x477ff000u, 0x477ff001u, 0x33000000u, 0x33000001u, 0x387fc000u, 0x387fe000u})
        check(u);
}

TEST(Bf16, MatchesGgml) {
    const peer::Ggml &g = peer::Ggml::get();
    for (uint32_t h = 0; h < 65536; ++h) {
        const float ours = lb::bf16_to_fp32(static_cast<uint16_t>(h));
        const float theirs = g.bf16_to_fp32(peer::Bf16{static_cast<uint16_t>(h)});
        ASSERT_EQ(bits(ours), bits(theirs)) << "bf16 0x" << std::hex << h;
    }
    for (uint64_t u = 0; u <= 0xffffffffull; u += 127) {
        const float f = from_bits(static_cast<uint32_t>(u));
        ASSERT_EQ(lb::fp32_to_bf16(f), g.fp32_to_bf16(f).bits) << "float bits 0x" << std::hex << u;
    }
    for (uint32_t h = 0; h < 65536; ++h) { // ties: the midpoint of two neighbours
        const uint32_t mid = (h << 16) | 0x8000u;
        const float f = from_bits(mid);
        ASSERT_EQ(lb::fp32_to_bf16(f), g.fp32_to_bf16(f).bits) << "float bits 0x" << std::hex << mid;
    }
}

} // namespace
