// What IQ4_NL and IQ4_XS share: the codebook of their 16 levels and the
// targets of the scale search.
#pragma once

#include "formats/blocks.hpp"
#include "formats/codebook_search.hpp"

namespace lb::formats {

// The targets (codebook_search.hpp) for the largest value of a block: every
// integer within 7 of the lowest level, -127, as llama.cpp tries, and every
// other one within 7 of the highest, 113 (the scale's sign is free).
constexpr float kIq4Targets[] = {-127, -128, -126, -129, -125, -130, -124, -131, -123, -132, -122,
                                 -133, -121, -134, -120, 113,  115,  111,  117,  109,  119,  107};
constexpr int kIq4TargetCount = sizeof kIq4Targets / sizeof kIq4Targets[0];

inline constexpr Codebook kIq4Codebook = make_codebook(kIq4nlLevels, 16);

} // namespace lb::formats
