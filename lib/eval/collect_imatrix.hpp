// An importance matrix collected as llama-imatrix collects one: the text cut
// into chunks as for perplexity (BOS first, n_ctx tokens each), every chunk
// evaluated with all its logits (so the output product sees every row), the
// inputs of the weight products gathered by ImatrixCollector, and the
// perplexity of the second halves reported on the way. The result is written
// in llama.cpp's GGUF imatrix form (or the legacy .dat one), atomically, with
// optional snapshots "OUT.at_N" every N chunks, as llama-imatrix
// --save-frequency writes them.
#pragma once

#include "session/session.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lb::eval {

struct ImatrixOptions {
    int n_ctx = 512;
    int max_chunks = 0;                // 0: all
    bool process_output = false;       // collect output.weight too
    bool with_in_sum = false;          // write <name>.in_sum (the sums of the activations)
    int save_frequency = 0;            // a snapshot OUT.at_N every N chunks; 0: none
    bool legacy = false;               // write the legacy .dat form
    std::string dataset;               // recorded in imatrix.datasets (the text's file name)
    std::vector<std::string> in_files; // importance matrices merged in first
};

struct ImatrixReport {
    uint64_t n_chunks = 0, n_chunks_total = 0; // chunks evaluated, to evaluate
    int n_ctx = 0;
    uint64_t n_scored = 0; // positions of the perplexity so far
    double ppl = 0.0, ppl_uncertainty = 0.0;
    uint64_t n_entries = 0;   // weight tensors collected
    uint32_t chunk_count = 0; // written to imatrix.chunk_count (merged files' chunks included)
};

// Called after each chunk; false cancels (LB_E_CANCELLED, and no output).
using ImatrixProgress = std::function<bool(const ImatrixReport &)>;

// Throws lb::Error: LB_E_INVALID_ARG (a bad context or option, a text shorter
// than two contexts, an --in-file for another model: a tensor it names that
// the model lacks or with another shape), LB_E_FORMAT (an unreadable
// --in-file), LB_E_IO, LB_E_CANCELLED.
ImatrixReport collect_imatrix(session::Session &s, const std::string &text, const ImatrixOptions &o,
                              const std::string &out_path, const ImatrixProgress &progress);

} // namespace lb::eval
