// llama.cpp's own model runtime from the reference peer (libllama.so and the
// CPU backend, loaded with dlopen; the struct layouts come from the peer's own
// llama.h, compiled in): its tokenizer and its forward pass, the oracle for
// lowbit's sessions. The CPU backend is ggml's portable x86-64 build (the
// same numbers on any machine) unless LOWBIT_PEER_CPU names another
// (haswell, zen4, ...; "best": llama.cpp's own choice for this CPU).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace peer {

struct LlamaRunOptions {
    int n_ctx = 256;
    int n_batch = 512;
    int threads = 2;
    bool f32_kv = true;      // K and V cache in F32 (llama.cpp's default is F16)
    bool flash_attn = false; // llama.cpp's flash-attention kernel
};

class LlamaModel {
  public:
    // Loads a model (only its vocabulary with vocab_only). Throws
    // std::runtime_error with llama.cpp's log if it fails.
    LlamaModel(const std::string &path, bool vocab_only);
    ~LlamaModel();
    LlamaModel(const LlamaModel &) = delete;
    LlamaModel &operator=(const LlamaModel &) = delete;

    std::vector<int32_t> tokenize(const std::string &text, bool add_special, bool parse_special) const;
    std::string piece(int32_t token, bool special) const;
    int32_t n_vocab() const;
    int32_t bos() const;

    // The logits (n_vocab floats per position) of every position of
    // `tokens`, evaluated as one sequence from position 0 in a fresh context.
    std::vector<float> logits(const std::vector<int32_t> &tokens, const LlamaRunOptions &o) const;

    // For benchmarks: evaluates `tokens` (all logits requested, as
    // llama-perplexity does) `repeats` times in one context, emptying its
    // cache in between, and returns the seconds of each evaluation (the
    // context's creation excluded).
    std::vector<double> eval_seconds(const std::vector<int32_t> &tokens, const LlamaRunOptions &o,
                                     int repeats) const;

    // An importance matrix collected by llama.cpp itself, as llama-imatrix
    // collects one: `chunks` chunks of n_ctx tokens of `tokens` (the text's
    // tokens with BOS), each decoded alone in a fresh cache with its first
    // token replaced by BOS and all logits requested, and a cb_eval callback
    // on the context summing, for every GGML_OP_MUL_MAT whose weight is
    // named blk.* (or output.weight with process_output) and whose F32 input
    // has at least 16 rows, each input row's squares per column (in double)
    // and counting the rows.
    struct ImatrixEntry {
        std::vector<double> sums;
        int64_t count = 0;
    };
    std::map<std::string, ImatrixEntry> imatrix(const std::vector<int32_t> &tokens, int n_ctx, int chunks,
                                                bool process_output, const LlamaRunOptions &o) const;

  private:
    void *model_ = nullptr;
};

} // namespace peer
