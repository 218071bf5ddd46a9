// A deterministic generator (splitmix64) with portable distributions: the
// tests' random data, the same on every machine and architecture.
#pragma once

#include <cstdint>

namespace testdata {

class Rng {
  public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    uint64_t next();
    double uniform(); // [0, 1)
    double normal();  // Box-Muller
  private:
    uint64_t state_;
};

} // namespace testdata
