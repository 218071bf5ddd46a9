// A text cut as llama-perplexity cuts it: tokenized with BOS (as the
// vocabulary asks), n_chunks = tokens / n_ctx consecutive chunks of n_ctx
// tokens, each evaluated alone with its first token replaced by BOS, and the
// predictions of positions first = n_ctx / 2 ... n_ctx - 2 scored (of the
// token after each).
#pragma once

#include "session/session.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace lb::eval {

struct Chunks {
    std::vector<int32_t> tokens; // the text's tokens
    int n_ctx = 0;
    uint64_t n_chunks = 0;
    int first = 0;
    bool add_bos = false;
    int32_t bos = -1;

    size_t scored() const { return static_cast<size_t>(n_ctx - 1 - first); }
    // the token that scored position k of chunk c predicts
    int32_t target(uint64_t c, size_t k) const {
        return tokens[c * static_cast<uint64_t>(n_ctx) + static_cast<uint64_t>(first) + k + 1];
    }
};

// Tokenizes text with the session's vocabulary and cuts it. `what` names the
// command in errors. Throws lb::Error (LB_E_INVALID_ARG: a context below 2 or
// above the model's, a text shorter than two contexts).
Chunks cut_text(const session::Session &s, const std::string &text, int n_ctx, int max_chunks,
                const char *what);

// Chunks over tokens already cut (a saved base file's).
Chunks chunks_of(std::vector<int32_t> tokens, int n_ctx, bool add_bos, int32_t bos);

// Evaluates chunk c from an empty cache, keeping the logits of the scored
// positions (s.logits(k) for k < scored()), or with all_positions those of
// every position (s.logits(chunks.first + k) for scored position k; the
// model's output product then sees every row, as llama-imatrix runs it). The
// session's context must hold n_ctx tokens (see ContextFor). Throws
// lb::Error (LB_E_CANCELLED ...).
void eval_chunk(session::Session &s, const Chunks &chunks, uint64_t c, bool all_positions = false);

// Sets a session's context to n_ctx for the life of the object.
class ContextFor {
  public:
    ContextFor(session::Session &s, int n_ctx) : s_(s), saved_(s.params.n_ctx) { s.params.n_ctx = n_ctx; }
    ~ContextFor() { s_.params.n_ctx = saved_; }
    ContextFor(const ContextFor &) = delete;
    ContextFor &operator=(const ContextFor &) = delete;

  private:
    session::Session &s_;
    int saved_;
};

} // namespace lb::eval
