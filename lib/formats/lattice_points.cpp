// The lattice grids' coordinates, expanded from their compact codes
// (lattice_grids.cpp) once, on first use.
#include "formats/lattice_grids.hpp"

#include <cstddef>
#include <vector>

namespace lb::formats {

namespace {

struct ExpandedGrid {
    std::vector<int8_t> values;
    std::vector<float> by_dim;
    LatticeGrid grid;
    ExpandedGrid(const uint16_t *codes, int points, int dims, int bits, const int8_t *levels)
        : values(static_cast<size_t>(points * dims)), by_dim(values.size()) {
        const unsigned mask = (1u << bits) - 1u;
        for (int p = 0; p < points; ++p)
            for (int j = 0; j < dims; ++j) {
                const int8_t v = levels[(codes[p] >> (bits * j)) & mask];
                values[static_cast<size_t>(p * dims + j)] = v;
                by_dim[static_cast<size_t>(j * points + p)] = static_cast<float>(v);
            }
        grid = {points, dims, values.data(), by_dim.data()};
    }
    ExpandedGrid(const ExpandedGrid &) = delete; // grid points into the vectors
    ExpandedGrid &operator=(const ExpandedGrid &) = delete;
};

} // namespace

const LatticeGrid &iq2xxs_grid() {
    static const ExpandedGrid g(kIq2xxsCodes, 256, 8, 2, kIq2Levels);
    return g.grid;
}

const LatticeGrid &iq2xs_grid() {
    static const ExpandedGrid g(kIq2xsCodes, 512, 8, 2, kIq2Levels);
    return g.grid;
}

const LatticeGrid &iq2s_grid() {
    static const ExpandedGrid g(kIq2sCodes, 1024, 8, 2, kIq2Levels);
    return g.grid;
}

const LatticeGrid &iq3xxs_grid() {
    static const ExpandedGrid g(kIq3xxsCodes, 256, 4, 3, kIq3xxsLevels);
    return g.grid;
}

const LatticeGrid &iq3s_grid() {
    static const ExpandedGrid g(kIq3sCodes, 512, 4, 3, kIq3sLevels);
    return g.grid;
}

const LatticeGrid &iq1s_grid() {
    static const ExpandedGrid g(kIq1sCodes, 2048, 8, 2, kIq1Levels);
    return g.grid;
}

} // namespace lb::formats
