// What MXFP4 and NVFP4 share: the codebook of the E2M1 (FP4) levels, stored
// doubled (kFp4Levels), so that their scales are decoded at half value.
#pragma once

#include "formats/blocks.hpp"
#include "formats/codebook_search.hpp"

namespace lb::formats {

inline constexpr Codebook kFp4Codebook = make_codebook(kFp4Levels, 16);

} // namespace lb::formats
