// File types ("Q4_K_M", "Q8_0", ...): llama.cpp's llama_ftype ids, names and
// the tensor type most weights get.
#pragma once

#include "lowbit/lowbit.h"

#include <string>

namespace lb::recipes {

struct FtypeInfo {
    lb_ftype id;
    const char *name; // as llama-quantize spells it
    lb_type default_type;
    // Why lowbit does not write this file type (as llama_model_quantize does
    // not), or nullptr.
    const char *refused = nullptr;
};

// Info for a file type id; nullptr if the id is not a file type.
const FtypeInfo *ftype_info(int id);

// Parses a name (case-insensitive, with llama-quantize's Q3_K/Q4_K/Q5_K
// aliases) or a number; nullptr if it names no file type.
const FtypeInfo *ftype_from_name(const std::string &name);

// Whether lowbit can quantize to the file type's default tensor type.
bool ftype_supported(lb_ftype id);

} // namespace lb::recipes
