// KL-divergence of a model from a base model over a text, scored as
// llama-perplexity --kl-divergence scores it (see chunks.hpp and
// kld_stats.hpp): in one step with both models, or in two, the base's
// distributions saved to a file first (base_file.hpp) so that one run of the
// base serves many models. Both ways give the same figures to the bit: the
// one-step path uses the base's distributions exactly as the file keeps them.
#pragma once

#include "eval/kld_stats.hpp"
#include "session/session.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace lb::eval {

struct KldOptions {
    int n_ctx = 512;    // tokens per chunk
    int max_chunks = 0; // 0: all
};

// Called after each chunk with the figures so far; false cancels
// (LB_E_CANCELLED).
using KldProgress = std::function<bool(const KldReport &)>;
// Called after each chunk written: chunks done, chunks in all; false cancels.
using ChunkProgress = std::function<bool(uint64_t, uint64_t)>;

// Throws lb::Error: LB_E_INVALID_ARG (the two models' vocabularies differ —
// size, token texts or how the text tokenizes —, a bad context, a text
// shorter than two contexts); LB_E_CANCELLED.
KldReport kl_divergence(session::Session &base, session::Session &model, const std::string &text,
                        const KldOptions &o, const KldProgress &progress);

// Writes the base model's distributions over the text to path (atomically).
// Returns the number of chunks. Throws lb::Error (as above; LB_E_IO).
uint64_t save_base_logits(session::Session &base, const std::string &text, const KldOptions &o,
                          const std::string &path, const ChunkProgress &progress);

// The divergence of model from the distributions saved in path, on the
// tokens saved with them. Throws lb::Error: LB_E_FORMAT (not a valid file,
// truncated, corrupt), LB_E_INVALID_ARG (a file of another vocabulary, a
// context larger than the model's), LB_E_CANCELLED.
KldReport kl_divergence_from_file(const std::string &path, session::Session &model,
                                  const KldProgress &progress);

} // namespace lb::eval
