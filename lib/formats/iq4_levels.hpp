// What IQ4_NL and IQ4_XS share: the codebook of their 16 levels and the
// targets of the scale search.
#pragma once

#include "formats/blocks.hpp"
#include "formats/codebook_search.hpp"

namespace lb::formats {

// The targets (codebook_search.hpp) for the largest value of a block: the
// integers within 2 of the lowest level, -127, and -131, -123 (llama.cpp tries
// every integer within 7), and 113, the highest level, with 111, 115, 117 (the
// scale's sign is free).
constexpr float kIq4Targets[] = {-127, -128, -126, -129, -125, -131, -123, 113, 115, 111, 117};
constexpr int kIq4TargetCount = sizeof kIq4Targets / sizeof kIq4Targets[0];

inline constexpr Codebook kIq4Codebook = make_codebook(kIq4nlLevels, 16);

} // namespace lb::formats
