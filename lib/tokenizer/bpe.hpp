// Byte-level BPE (tokenizer.ggml.model = "gpt2"), as llama.cpp does it: the
// text split by the pre-tokenizer's patterns (tokenizer.ggml.pre names them),
// each piece's bytes written as GPT-2's printable code points, then adjacent
// symbols merged by the rank of their merge (lowest first, leftmost on a tie);
// a symbol that is no token is spelled byte by byte.
#pragma once

#include "tokenizer/vocab.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace lb::tokenizer {

// The pieces the pre-tokenizer of `pre` cuts text into (UTF-8, concatenating
// to the text). Throws lb::Error (LB_E_UNSUPPORTED) for an unknown name.
std::vector<std::string> pre_tokenize(const std::string &pre, const std::string &text);

void bpe_tokenize(const Vocab &vocab, const std::string &text, std::vector<int32_t> &out);

// A token's text (GPT-2 code points) back to the bytes it stands for.
std::string bpe_decode(const std::string &token_text);

} // namespace lb::tokenizer
