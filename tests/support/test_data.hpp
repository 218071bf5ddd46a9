// Test data: paths, temporary folders, deterministic random tensors and the
// real weights of the shipped model.
#pragma once

#include "lowbit/lowbit.h"
#include "rng.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace testdata {

// Absolute path of a file in the source tree ("models/stories260K.gguf").
std::string source_path(const std::string &relative);
// The shipped model.
std::string stories_path();
// A path in the shared data folder next to the repository
// (<repo>/../shared/data/RELATIVE; the folder itself for "").
std::string shared_data_path(const std::string &relative = "");
// The lowbit CLI built with the tests.
std::string cli_path();

// A fresh folder under the build tree, removed with its contents.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }
    std::string file(const std::string &name) const { return path_ + "/" + name; }
    // Names of the entries in the folder.
    std::vector<std::string> entries() const;

  private:
    std::string path_;
};

bool file_exists(const std::string &path);
std::vector<uint8_t> read_file(const std::string &path);
void write_file(const std::string &path, const std::vector<uint8_t> &bytes);
// The first n bytes of tests/data/tinystories_val.txt (all of it: n = npos).
std::string validation_text(size_t n = std::string::npos);
// Quantizes in to out with lowbit (the C API) as file type ftype; throws
// std::runtime_error with lb_last_error() on failure.
void quantize_with_lowbit(const std::string &in, const std::string &out, lb_ftype ftype);

// A matrix of test weights with an importance vector for its columns.
struct TestTensor {
    std::string name;
    int64_t rows = 0, cols = 0;
    std::vector<float> data;    // rows * cols
    std::vector<float> imatrix; // cols, all > 0
};

// The fixed set the quality tests use: Gaussian rows, heavy-tailed rows with
// rare large outliers, rows with a spread of per-row scales, and the real
// weights of stories260K reshaped into rows of `cols` (a multiple of 256).
std::vector<TestTensor> quality_tensors(int64_t cols = 256);

// Held out: tensors no search in lib/formats was tuned on. The real weights
// of the TinyStories-656K checkpoint shipped in models/tinystories-656k (its
// attention and MLP matrices, not stories260K's), reshaped into rows of
// `cols`, with an importance vector drawn from a seed the tuning set does not
// use. Read through lb_model_open() on the checkpoint folder.
std::vector<TestTensor> heldout_tensors(int64_t cols = 256);

// All 2-D weights of stories260K, concatenated (F32).
std::vector<float> stories_weights();

// All 2-D F32 weights of the model at `path` (a GGUF file or a checkpoint
// folder), concatenated, skipping tensors whose name contains `skip` (if
// non-empty).
std::vector<float> model_weights(const std::string &path, const std::string &skip = "");

} // namespace testdata
