// The statistics llama-imatrix gathers from the inputs of a model's matrix
// products: per weight tensor, the sum over every input row x of x_j^2 for
// each column j (and, when asked, of x_j), and the number of rows seen. Only
// the products llama-imatrix collects count: weights named "blk.*" (and
// "output.weight" with process_output), and steps of at least 16 rows (it
// ignores smaller batches). Sums are kept in double and written as F32.
#pragma once

#include "imatrix/imatrix.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lb::eval {

class ImatrixCollector {
  public:
    ImatrixCollector(bool process_output, bool with_in_sum, uint32_t chunk_size)
        : process_output_(process_output), with_in_sum_(with_in_sum), chunk_size_(chunk_size) {}

    // Whether llama-imatrix would collect this product's input.
    bool wants(const std::string &weight, int64_t n_rows) const;

    // Adds the input rows (n_rows x n_cols, row-major) of one product of
    // `weight`. Throws lb::Error (LB_E_INVALID_ARG) if an entry merged from a
    // file has another row length (the file is for another model).
    void add(const std::string &weight, const float *rows, int64_t n_rows, int64_t n_cols);

    // Merges an existing importance matrix (--in-file) as llama-imatrix does:
    // GGUF sums and counts are added; a legacy file's means times ncall are
    // scaled back by the chunk size. Its datasets are kept, in order.
    void merge(const imatrix::Imatrix &m);

    // Chunks seen so far as llama-imatrix counts them: the largest count of
    // any entry divided by the chunk size.
    uint32_t chunk_count() const;
    size_t size() const { return entries_.size(); }

    // The matrix so far, with the datasets merged in and then `dataset`.
    imatrix::Imatrix result(const std::string &dataset) const;

  private:
    struct Stats {
        std::vector<double> sum2, sum; // n_mat x ne0
        std::vector<double> counts;    // n_mat
        std::string origin;            // the file it was merged from, or ""
    };
    bool process_output_, with_in_sum_;
    uint32_t chunk_size_;
    std::map<std::string, Stats> entries_;
    std::vector<std::string> datasets_;
};

} // namespace lb::eval
