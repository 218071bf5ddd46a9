// Fuzz target: any bytes as quantized blocks. The first byte picks the type;
// the rest is dequantized as rows (any bit pattern is a valid block, so this
// must always succeed), then the floats, where finite, are quantized again
// (with and without an importance vector).
#include "lowbit/lowbit.h"

#include <cmath>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const lb_type kTypes[] = {
        LB_TYPE_F32,     LB_TYPE_F16,    LB_TYPE_BF16,   LB_TYPE_Q4_0,    LB_TYPE_Q4_1,   LB_TYPE_Q5_0,
        LB_TYPE_Q5_1,    LB_TYPE_Q8_0,   LB_TYPE_Q2_K,   LB_TYPE_Q3_K,    LB_TYPE_Q4_K,   LB_TYPE_Q5_K,
        LB_TYPE_Q6_K,    LB_TYPE_IQ4_NL, LB_TYPE_IQ4_XS, LB_TYPE_TQ1_0,   LB_TYPE_TQ2_0,  LB_TYPE_MXFP4,
        LB_TYPE_NVFP4,   LB_TYPE_Q1_0,   LB_TYPE_Q2_0,   LB_TYPE_IQ2_XXS, LB_TYPE_IQ2_XS, LB_TYPE_IQ2_S,
        LB_TYPE_IQ3_XXS, LB_TYPE_IQ3_S,  LB_TYPE_IQ1_S,  LB_TYPE_IQ1_M};
    if (size < 1) return 0;
    const lb_type type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
    const int64_t n_per_row = lb_type_block_size(type) * 2;
    size_t row_bytes = 0;
    if (lb_row_size(&row_bytes, type, n_per_row) != LB_OK || row_bytes == 0) __builtin_trap();
    const int64_t rows = static_cast<int64_t>((size - 1) / row_bytes);
    if (rows == 0) return 0;
    std::vector<float> x(static_cast<size_t>(rows * n_per_row));
    if (lb_dequantize_rows(type, data + 1, static_cast<size_t>(rows) * row_bytes, rows, n_per_row,
                           x.data()) != LB_OK)
        __builtin_trap();
    for (float &v : x)
        if (!std::isfinite(v)) v = 0.0f;
    std::vector<uint8_t> q(static_cast<size_t>(rows) * row_bytes);
    std::vector<float> importance(static_cast<size_t>(n_per_row), 1.0f);
    // the lattice I-quants' searches are slow: their first row only, with the
    // importance vector most of them need
    const bool lattice = type == LB_TYPE_IQ2_XXS || type == LB_TYPE_IQ2_XS || type == LB_TYPE_IQ2_S ||
                         type == LB_TYPE_IQ3_XXS || type == LB_TYPE_IQ3_S || type == LB_TYPE_IQ1_S ||
                         type == LB_TYPE_IQ1_M;
    if (lattice) {
        if (lb_quantize_rows(type, x.data(), 1, n_per_row, importance.data(), q.data(), q.size()) != LB_OK)
            __builtin_trap();
        return 0;
    }
    if (lb_quantize_rows(type, x.data(), rows, n_per_row, nullptr, q.data(), q.size()) != LB_OK)
        __builtin_trap();
    if (lb_type_is_quantized(type) &&
        lb_quantize_rows(type, x.data(), rows, n_per_row, importance.data(), q.data(), q.size()) != LB_OK)
        __builtin_trap();
    return 0;
}
