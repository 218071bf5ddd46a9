// Shape fallback: a tensor whose row width (ne[0]) is not a multiple of the
// chosen type's block size gets another type, as llama.cpp does.
#pragma once

#include "lowbit/lowbit.h"

#include <cstdint>

namespace lb::recipes {

// The type a tensor of row width ncols gets when `type` does not fit, or
// `type` itself when it fits. Returns LB_TYPE_NONE when llama.cpp defines no
// fallback (the caller reports an error).
lb_type fallback_type(lb_type type, int64_t ncols);

} // namespace lb::recipes
