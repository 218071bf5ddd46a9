// Importance matrices: the per-column activation statistics llama.cpp's
// imatrix tool collects, read from either of its two file formats, written
// in the GGUF one, and turned into the per-column importances the quantizer
// uses exactly as llama-quantize derives them.
//
// GGUF form (llama.cpp's default): general.type = "imatrix";
// imatrix.datasets (array of strings), imatrix.chunk_count and
// imatrix.chunk_size (u32); per weight, in name order, two F32 tensors:
// <name>.in_sum2 [ne0, n_mat] (the sums of squared activations, one row per
// expert) and <name>.counts [1, n_mat] (tokens seen per expert); ggml drops
// a trailing extent of 1, so single-matrix entries have 1-D tensors. Other
// tensors are ignored, as llama.cpp's loader ignores them, except
// <name>.in_sum [ne0, n_mat] (the sums of the activations, which newer files
// hold), which is kept when present.
//
// Legacy .dat form: i32 n_entries; per entry i32 name length, the name, i32
// ncall, i32 nval, nval f32 values (mean * ncall); then optionally i32 chunk
// count, i32 length, dataset name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lb::imatrix {

struct Entry {
    Entry() = default;
    Entry(std::string name_, std::vector<float> sums_, std::vector<float> counts_,
          std::vector<float> in_sums_ = {})
        : name(std::move(name_)), sums(std::move(sums_)), counts(std::move(counts_)),
          in_sums(std::move(in_sums_)) {}

    std::string name; // the weight's name, e.g. blk.0.attn_q.weight
    // counts.size() rows of ne0 values, row m for expert m: sums of squared
    // activations (GGUF), or the values of a legacy file
    std::vector<float> sums;
    // one token count per expert (GGUF); legacy: one, the entry's ncall
    std::vector<float> counts;
    // the sums of the activations themselves, laid out as sums (GGUF
    // <name>.in_sum, which newer files and `lowbit imatrix --in-sum` write),
    // or empty
    std::vector<float> in_sums;

    // Values per row (per expert).
    size_t ne0() const { return counts.empty() ? 0 : sums.size() / counts.size(); }
};

struct Imatrix {
    std::string path;           // the file it was read from
    std::vector<Entry> entries; // sorted by name, names unique
    std::vector<std::string> datasets;
    uint32_t chunk_count = 0, chunk_size = 0; // chunk_size is 0 for legacy files
    bool legacy = false;                      // read from a .dat file
};

// Reads path in either format (told apart by the GGUF magic). The file is
// untrusted: every count and length is checked against the bytes left before
// anything is allocated; sums and counts must be finite and not negative,
// shapes must agree, names be non-empty and unique. Throws lb::Error naming
// the file and the entry: LB_E_IO (cannot read), LB_E_FORMAT (malformed, or
// not an importance matrix, e.g. a model), LB_E_UNSUPPORTED (a GGUF version
// lowbit does not read).
Imatrix read(const std::string &path);

// Writes m in the GGUF form, in llama.cpp's layout (keys, key types, order,
// shapes, padding), atomically. A legacy entry's ncall of 0 (its values are
// the means themselves) is written as count 1, which gives the same means.
// Throws lb::Error: LB_E_FORMAT naming the entry if it cannot be written (a
// name too long for a GGUF tensor name, inconsistent sizes, bad values),
// LB_E_INVALID_ARG (no entries), LB_E_IO.
void write_gguf(const Imatrix &m, const std::string &path);

// Writes m in the legacy .dat form as llama-imatrix --output-format dat
// writes it, atomically: the entries that saw any token, in name order, each
// with ncall = ceil(max count / m.chunk_size) and the values (sum / count) *
// ncall per expert (1 for an expert that saw none); then m.chunk_count and
// the last dataset's name. Throws lb::Error: LB_E_INVALID_ARG (no entry with
// data, a chunk size of 0), LB_E_FORMAT (a name too long), LB_E_IO.
void write_legacy(const Imatrix &m, const std::string &path);

// The per-column importances of one entry, derived as llama-quantize derives
// them: GGUF, sums[m * ne0 + i] / counts[m] with the count rounded to an
// integer as llama.cpp's loader rounds it, or 1 for every column of an expert
// that saw no token; legacy, sums[i] / ncall (the sums as they are when
// ncall is 0). One value per element of e.sums.
std::vector<float> means(const Entry &e, bool legacy);

// The same for every entry, by weight name.
std::map<std::string, std::vector<float>> means(const Imatrix &m);

} // namespace lb::imatrix
