// A quantization job: reads a model, converts the tensors the plan selects,
// streams the result into one GGUF file (or one per input shard). Memory stays
// bounded by a chunk of rows, whatever the size of the tensors, and input
// pages are released as soon as a tensor is done.
#pragma once

#include "gguf/gguf.hpp"
#include "lowbit/lowbit.h"
#include "model/model.hpp"
#include "recipes/plan.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lb {

// An importance matrix as the quantizer uses it: per-column importances by
// tensor name (one row per expert), already derived from the file's sums.
struct ImportanceData {
    std::string path; // the file, for quantize.imatrix.file
    std::vector<std::string> datasets;
    uint32_t chunk_count = 0;
    std::map<std::string, std::vector<float>> means;
};

struct QuantizeOptions {
    recipes::PlanOptions plan; // plan.has_imatrix is set from imatrix
    int n_threads = 0;         // 0: all hardware threads
    bool allow_requantize = false;
    bool keep_split = false;
    bool dry_run = false;
    std::vector<int> prune_layers;            // sorted, unique
    std::vector<gguf::KeyValue> kv_overrides; // applied in order
    std::shared_ptr<const ImportanceData> imatrix;
    std::vector<std::string> imatrix_include, imatrix_exclude; // substring filters
    lb_progress_fn progress = nullptr;
    void *progress_user = nullptr;
    lb_log_fn log = nullptr;
    void *log_user = nullptr;
};

struct QuantizeStats {
    uint64_t tensors = 0, quantized = 0, fallbacks = 0, elements = 0;
    uint64_t input_bytes = 0, output_bytes = 0, output_file_bytes = 0, elapsed_us = 0, output_files = 0;
};

// One tensor of the plan, as reported through the C API.
struct PlanEntry {
    std::string name;
    lb_type input_type, type;
    uint64_t bytes;
    size_t output; // which output of the run
};

// One output of a run: a file type (or a copy) and a path.
struct OutputSpec {
    lb_ftype ftype = LB_FTYPE_Q8_0;
    bool only_copy = false; // copy every tensor (the file type is the input's)
    std::string path;
};

// Parses llama-quantize's --override-kv KEY=TYPE:VALUE. Throws lb::Error.
gguf::KeyValue parse_kv_override(const std::string &spec);

class Quantizer {
  public:
    QuantizeOptions options;

    // Runs the job with options.plan's file type; throws lb::Error. On any
    // failure no file is left at the output path(s) (existing files there
    // are untouched).
    QuantizeStats run(const Model &in, const std::string &out_path);

    // Several outputs in one pass: each input tensor is read and converted to
    // floats once, then quantized to every output's type; output k is byte
    // for byte what run() writes with its file type. The files are published
    // together at the end: on any failure none is. options.plan's file type
    // and only_copy are not used.
    std::vector<QuantizeStats> run(const Model &in, const std::vector<OutputSpec> &outputs);

    const std::vector<PlanEntry> &plan() const { return plan_; }

    // Safe from any thread and from signal handlers.
    void cancel() { cancelled_.store(true, std::memory_order_relaxed); }

  private:
    std::atomic<bool> cancelled_{false};
    std::vector<PlanEntry> plan_;
};

} // namespace lb
