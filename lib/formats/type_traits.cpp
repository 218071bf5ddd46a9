// The table of tensor types. Block geometry is a fact of the GGUF format
// (llama.cpp's ggml type_traits); the function pointers are lowbit's scalar
// reference implementations, nullptr where lowbit has none yet.
#include "formats/type_traits.hpp"

#include "formats/formats.hpp"

namespace lb::formats {

namespace {

constexpr TypeTraits kNone = {nullptr, 0, 0, false, false, nullptr, nullptr, LB_TYPE_NONE, nullptr, nullptr};

// Indexed by type id; removed ids are kNone.
const TypeTraits kTraits[kTypeCount] = {
    /*  0 */ {"F32", 1, 4, false, false, quantize_row_f32, dequantize_row_f32, LB_TYPE_F32, vec_dot_f32_f32,
              quantize_row_f32_activations},
    /*  1 */
    {"F16", 1, 2, false, false, quantize_row_f16, dequantize_row_f16, LB_TYPE_F16, vec_dot_f16_f16,
     quantize_row_f16_activations},
    /*  2 */
    {"Q4_0", 32, 18, true, false, quantize_row_q4_0, dequantize_row_q4_0, LB_TYPE_Q8_0, vec_dot_q4_0_q8_0,
     nullptr},
    /*  3 */
    {"Q4_1", 32, 20, true, false, quantize_row_q4_1, dequantize_row_q4_1, LB_TYPE_Q8_1, vec_dot_q4_1_q8_1,
     nullptr},
    /*  4 */ kNone, // Q4_2, removed
    /*  5 */ kNone, // Q4_3, removed
                    /*  6 */
    {"Q5_0", 32, 22, true, false, quantize_row_q5_0, dequantize_row_q5_0, LB_TYPE_Q8_0, vec_dot_q5_0_q8_0,
     nullptr},
    /*  7 */
    {"Q5_1", 32, 24, true, false, quantize_row_q5_1, dequantize_row_q5_1, LB_TYPE_Q8_1, vec_dot_q5_1_q8_1,
     nullptr},
    /*  8 */
    {"Q8_0", 32, 34, true, false, quantize_row_q8_0, dequantize_row_q8_0, LB_TYPE_Q8_0, vec_dot_q8_0_q8_0,
     quantize_row_q8_0_activations},
    /*  9 */
    {"Q8_1", 32, 36, true, false, nullptr, dequantize_row_q8_1, LB_TYPE_NONE, nullptr,
     quantize_row_q8_1_activations},
    /* 10 */
    {"Q2_K", 256, 84, true, false, quantize_row_q2_K, dequantize_row_q2_K, LB_TYPE_Q8_K, vec_dot_q2_K_q8_K,
     nullptr},
    /* 11 */
    {"Q3_K", 256, 110, true, false, quantize_row_q3_K, dequantize_row_q3_K, LB_TYPE_Q8_K, vec_dot_q3_K_q8_K,
     nullptr},
    /* 12 */
    {"Q4_K", 256, 144, true, false, quantize_row_q4_K, dequantize_row_q4_K, LB_TYPE_Q8_K, vec_dot_q4_K_q8_K,
     nullptr},
    /* 13 */
    {"Q5_K", 256, 176, true, false, quantize_row_q5_K, dequantize_row_q5_K, LB_TYPE_Q8_K, vec_dot_q5_K_q8_K,
     nullptr},
    /* 14 */
    {"Q6_K", 256, 210, true, false, quantize_row_q6_K, dequantize_row_q6_K, LB_TYPE_Q8_K, vec_dot_q6_K_q8_K,
     nullptr},
    /* 15 */
    {"Q8_K", 256, 292, true, false, nullptr, dequantize_row_q8_K, LB_TYPE_NONE, nullptr,
     quantize_row_q8_K_activations},
    /* 16 */
    {"IQ2_XXS", 256, 66, true, true, quantize_row_iq2_xxs, dequantize_row_iq2_xxs, LB_TYPE_Q8_K,
     vec_dot_iq2_xxs_q8_K, nullptr},
    /* 17 */
    {"IQ2_XS", 256, 74, true, true, quantize_row_iq2_xs, dequantize_row_iq2_xs, LB_TYPE_Q8_K,
     vec_dot_iq2_xs_q8_K, nullptr},
    /* 18 */
    {"IQ3_XXS", 256, 98, true, false, quantize_row_iq3_xxs, dequantize_row_iq3_xxs, LB_TYPE_Q8_K,
     vec_dot_iq3_xxs_q8_K, nullptr},
    /* 19 */
    {"IQ1_S", 256, 50, true, true, quantize_row_iq1_s, dequantize_row_iq1_s, LB_TYPE_Q8_K, vec_dot_iq1_s_q8_K,
     nullptr},
    /* 20 */
    {"IQ4_NL", 32, 18, true, false, quantize_row_iq4_nl, dequantize_row_iq4_nl, LB_TYPE_Q8_0,
     vec_dot_iq4_nl_q8_0, nullptr},
    /* 21 */
    {"IQ3_S", 256, 110, true, false, quantize_row_iq3_s, dequantize_row_iq3_s, LB_TYPE_Q8_K,
     vec_dot_iq3_s_q8_K, nullptr},
    /* 22 */
    {"IQ2_S", 256, 82, true, false, quantize_row_iq2_s, dequantize_row_iq2_s, LB_TYPE_Q8_K,
     vec_dot_iq2_s_q8_K, nullptr},
    /* 23 */
    {"IQ4_XS", 256, 136, true, false, quantize_row_iq4_xs, dequantize_row_iq4_xs, LB_TYPE_Q8_K,
     vec_dot_iq4_xs_q8_K, nullptr},
    /* 24 */ {"I8", 1, 1, false, false, nullptr, nullptr},
    /* 25 */ {"I16", 1, 2, false, false, nullptr, nullptr},
    /* 26 */ {"I32", 1, 4, false, false, nullptr, nullptr},
    /* 27 */ {"I64", 1, 8, false, false, nullptr, nullptr},
    /* 28 */ {"F64", 1, 8, false, false, nullptr, nullptr},
    /* 29 */
    {"IQ1_M", 256, 56, true, false, quantize_row_iq1_m, dequantize_row_iq1_m, LB_TYPE_Q8_K,
     vec_dot_iq1_m_q8_K, nullptr},
    /* 30 */
    {"BF16", 1, 2, false, false, quantize_row_bf16, dequantize_row_bf16, LB_TYPE_BF16, vec_dot_bf16_bf16,
     quantize_row_bf16_activations},
    /* 31 */ kNone, // Q4_0_4_4, removed (repacked at load time now)
    /* 32 */ kNone, // Q4_0_4_8, removed
    /* 33 */ kNone, // Q4_0_8_8, removed
    /* 34 */
    {"TQ1_0", 256, 54, true, false, quantize_row_tq1_0, dequantize_row_tq1_0, LB_TYPE_Q8_K,
     vec_dot_tq1_0_q8_K, nullptr},
    /* 35 */
    {"TQ2_0", 256, 66, true, false, quantize_row_tq2_0, dequantize_row_tq2_0, LB_TYPE_Q8_K,
     vec_dot_tq2_0_q8_K, nullptr},
    /* 36 */ kNone, // IQ4_NL_4_4, removed
    /* 37 */ kNone, // IQ4_NL_4_8, removed
    /* 38 */ kNone, // IQ4_NL_8_8, removed
    /* 39 */
    {"MXFP4", 32, 17, true, false, quantize_row_mxfp4, dequantize_row_mxfp4, LB_TYPE_Q8_0, vec_dot_mxfp4_q8_0,
     nullptr},
    /* 40 */
    {"NVFP4", 64, 36, true, false, quantize_row_nvfp4, dequantize_row_nvfp4, LB_TYPE_Q8_0, vec_dot_nvfp4_q8_0,
     nullptr},
    /* 41 */
    {"Q1_0", 128, 18, true, false, quantize_row_q1_0, dequantize_row_q1_0, LB_TYPE_Q8_0, vec_dot_q1_0_q8_0,
     nullptr},
    /* 42 */
    {"Q2_0", 64, 18, true, false, quantize_row_q2_0, dequantize_row_q2_0, LB_TYPE_Q8_0, vec_dot_q2_0_q8_0,
     nullptr},
};

// Indexed by type id - kExtensionTypeFirst.
const TypeTraits kExtensionTraits[kExtensionTypeCount] = {
    /* 1024 */ {"Q4_K_4", 256, 144, true, false, nullptr, nullptr},
    /* 1025 */ {"Q8R16", 32, 34, true, false, nullptr, nullptr},
};

} // namespace

const TypeTraits &traits(uint32_t type) {
    if (type < kTypeCount) return kTraits[type];
    if (type - kExtensionTypeFirst < kExtensionTypeCount) return kExtensionTraits[type - kExtensionTypeFirst];
    return kNone;
}

} // namespace lb::formats
