// An importance matrix as llama_model_quantize takes it (its params' imatrix:
// llama_model_imatrix_data entries, a null name last): each weight's
// per-column means, read from a GGUF imatrix file (lowbit's or llama.cpp's)
// by llama.cpp's own rule, sums / count (1 where a count is 0). Shared by the
// mixture tests and bench/quantize_model.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace peer {

struct ImatrixEntries {
    struct Entry {
        const char *name;
        const float *data;
        size_t size;
    };
    std::vector<std::string> names;
    std::vector<std::vector<float>> values;
    std::vector<Entry> entries; // into names and values
};

// False, with *error saying why, when the file or an entry cannot be read.
bool read_imatrix_entries(const std::string &path, ImatrixEntries &out, std::string *error);

} // namespace peer
