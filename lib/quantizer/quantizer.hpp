// A quantization job: reads a model, converts the tensors the plan selects,
// streams the result into a GGUF file. Memory stays bounded by a chunk of
// rows, whatever the size of the tensors.
#pragma once

#include "gguf/gguf_file.hpp"
#include "lowbit/lowbit.h"
#include "recipes/plan.hpp"

#include <atomic>
#include <chrono>
#include <string>

namespace lb {

struct QuantizeOptions {
    recipes::PlanOptions plan;
    int n_threads = 0; // 0: all hardware threads
    bool allow_requantize = false;
    lb_progress_fn progress = nullptr;
    void *progress_user = nullptr;
    lb_log_fn log = nullptr;
    void *log_user = nullptr;
};

struct QuantizeStats {
    uint64_t tensors = 0, quantized = 0, fallbacks = 0, elements = 0;
    uint64_t input_bytes = 0, output_bytes = 0, output_file_bytes = 0, elapsed_us = 0;
};

class Quantizer {
  public:
    QuantizeOptions options;

    // Runs the job; throws lb::Error. On any failure no file is left at
    // out_path (an existing file there is untouched).
    QuantizeStats run(const gguf::GgufFile &in, const std::string &out_path);

    // Safe from any thread and from signal handlers.
    void cancel() { cancelled_.store(true, std::memory_order_relaxed); }

  private:
    void check_cancelled() const;
    void log(lb_log_level level, const std::string &message) const;

    std::atomic<bool> cancelled_{false};
};

} // namespace lb
