#include "recipes/ftype.hpp"

#include "formats/type_traits.hpp"

#include <cctype>
#include <cstdlib>
#include <iterator>

namespace lb::recipes {

namespace {

// llama.cpp's llama_ftype_get_default_type, as a table.
const FtypeInfo kFtypes[] = {
    {LB_FTYPE_ALL_F32, "F32", LB_TYPE_F32},
    {LB_FTYPE_F16, "F16", LB_TYPE_F16},
    {LB_FTYPE_BF16, "BF16", LB_TYPE_BF16},
    {LB_FTYPE_Q4_0, "Q4_0", LB_TYPE_Q4_0},
    {LB_FTYPE_Q4_1, "Q4_1", LB_TYPE_Q4_1},
    {LB_FTYPE_Q5_0, "Q5_0", LB_TYPE_Q5_0},
    {LB_FTYPE_Q5_1, "Q5_1", LB_TYPE_Q5_1},
    {LB_FTYPE_Q8_0, "Q8_0", LB_TYPE_Q8_0},
    {LB_FTYPE_Q2_K, "Q2_K", LB_TYPE_Q2_K},
    {LB_FTYPE_Q2_K_S, "Q2_K_S", LB_TYPE_Q2_K},
    {LB_FTYPE_Q3_K_S, "Q3_K_S", LB_TYPE_Q3_K},
    {LB_FTYPE_Q3_K_M, "Q3_K_M", LB_TYPE_Q3_K},
    {LB_FTYPE_Q3_K_L, "Q3_K_L", LB_TYPE_Q3_K},
    {LB_FTYPE_Q4_K_S, "Q4_K_S", LB_TYPE_Q4_K},
    {LB_FTYPE_Q4_K_M, "Q4_K_M", LB_TYPE_Q4_K},
    {LB_FTYPE_Q5_K_S, "Q5_K_S", LB_TYPE_Q5_K},
    {LB_FTYPE_Q5_K_M, "Q5_K_M", LB_TYPE_Q5_K},
    {LB_FTYPE_Q6_K, "Q6_K", LB_TYPE_Q6_K},
    {LB_FTYPE_IQ2_XXS, "IQ2_XXS", LB_TYPE_IQ2_XXS},
    {LB_FTYPE_IQ2_XS, "IQ2_XS", LB_TYPE_IQ2_XS},
    {LB_FTYPE_IQ2_S, "IQ2_S", LB_TYPE_IQ2_XS},
    {LB_FTYPE_IQ2_M, "IQ2_M", LB_TYPE_IQ2_S},
    {LB_FTYPE_IQ3_XS, "IQ3_XS", LB_TYPE_IQ3_S},
    {LB_FTYPE_IQ3_XXS, "IQ3_XXS", LB_TYPE_IQ3_XXS},
    {LB_FTYPE_IQ3_S, "IQ3_S", LB_TYPE_IQ3_S},
    {LB_FTYPE_IQ3_M, "IQ3_M", LB_TYPE_IQ3_S},
    {LB_FTYPE_IQ1_S, "IQ1_S", LB_TYPE_IQ1_S},
    {LB_FTYPE_IQ1_M, "IQ1_M", LB_TYPE_IQ1_M},
    {LB_FTYPE_IQ4_NL, "IQ4_NL", LB_TYPE_IQ4_NL},
    {LB_FTYPE_IQ4_XS, "IQ4_XS", LB_TYPE_IQ4_XS},
    {LB_FTYPE_TQ1_0, "TQ1_0", LB_TYPE_TQ1_0},
    {LB_FTYPE_TQ2_0, "TQ2_0", LB_TYPE_TQ2_0},
    {LB_FTYPE_MXFP4_MOE, "MXFP4_MOE", LB_TYPE_MXFP4},
    {LB_FTYPE_NVFP4, "NVFP4", LB_TYPE_NVFP4,
     "llama.cpp's quantizer does not write it either: NVFP4 files are converted from NVFP4 checkpoints, "
     "whose second per-tensor scales a quantizer cannot choose alone; NVFP4 tensors can be asked for with a "
     "tensor type override"},
    {LB_FTYPE_Q1_0, "Q1_0", LB_TYPE_Q1_0},
    {LB_FTYPE_Q2_0, "Q2_0", LB_TYPE_Q2_0},
};

bool iequals(const std::string &a, const char *b) {
    size_t i = 0;
    for (; i < a.size() && b[i] != '\0'; ++i)
        if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i])))
            return false;
    return i == a.size() && b[i] == '\0';
}

} // namespace

const FtypeInfo *ftype_info(int id) {
    for (const FtypeInfo &f : kFtypes)
        if (f.id == id) return &f;
    return nullptr;
}

const FtypeInfo *ftype_from_name(const std::string &name) {
    if (!name.empty() && name.size() <= 9 && name.find_first_not_of("0123456789") == std::string::npos)
        return ftype_info(std::atoi(name.c_str()));
    for (const FtypeInfo &f : kFtypes)
        if (iequals(name, f.name)) return &f;
    // llama-quantize's aliases
    if (iequals(name, "Q3_K")) return ftype_info(LB_FTYPE_Q3_K_M);
    if (iequals(name, "Q4_K")) return ftype_info(LB_FTYPE_Q4_K_M);
    if (iequals(name, "Q5_K")) return ftype_info(LB_FTYPE_Q5_K_M);
    return nullptr;
}

bool ftype_supported(lb_ftype id) {
    const FtypeInfo *f = ftype_info(id);
    return f != nullptr && f->refused == nullptr && formats::traits(f->default_type).quantize != nullptr;
}

} // namespace lb::recipes
