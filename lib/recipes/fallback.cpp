#include "recipes/fallback.hpp"

#include "formats/type_traits.hpp"

namespace lb::recipes {

namespace {

// llama.cpp's tensor_type_fallback table: 256-blocks fall back to 32-blocks.
lb_type smaller_block_type(lb_type type) {
    switch (type) {
    case LB_TYPE_IQ1_S:
    case LB_TYPE_IQ1_M:
    case LB_TYPE_IQ2_XXS:
    case LB_TYPE_IQ2_XS:
    case LB_TYPE_IQ2_S:
    case LB_TYPE_IQ3_XXS:
    case LB_TYPE_IQ3_S:
    case LB_TYPE_IQ4_XS: return LB_TYPE_IQ4_NL;
    case LB_TYPE_Q2_0:
    case LB_TYPE_Q2_K:
    case LB_TYPE_Q3_K:
    case LB_TYPE_TQ1_0:
    case LB_TYPE_TQ2_0: return LB_TYPE_Q4_0;
    case LB_TYPE_Q4_K: return LB_TYPE_Q5_0;
    case LB_TYPE_Q5_K: return LB_TYPE_Q5_1;
    case LB_TYPE_Q6_K: return LB_TYPE_Q8_0;
    default:
        // a 32-block (or smaller) type has no smaller block to go to: the
        // check below turns it into F16
        return formats::traits(type).block_size <= 32 ? type : LB_TYPE_NONE;
    }
}

} // namespace

lb_type fallback_type(lb_type type, int64_t ncols) {
    const int64_t block = formats::traits(type).block_size;
    if (block == 0 || ncols % block == 0) return type;
    lb_type to = smaller_block_type(type);
    if (to == LB_TYPE_NONE) return to;
    if (ncols % formats::traits(to).block_size != 0) to = LB_TYPE_F16; // an unusual shape
    return to;
}

} // namespace lb::recipes
