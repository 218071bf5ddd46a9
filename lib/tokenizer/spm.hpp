// SentencePiece-style tokenization (tokenizer.ggml.model = "llama"), as
// llama.cpp does it: the text (spaces already escaped as U+2581) split into
// characters, then adjacent pieces merged, highest token score first (the
// leftmost on a tie), as long as the merged text is a token; a piece that is
// no token is spelled with byte tokens <0xNN> ("byte fallback"), or with the
// unknown token when the vocabulary has no byte tokens, one for a run of such
// pieces (as SentencePiece and Hugging Face's fuse_unk do; llama.cpp aborts
// there).
#pragma once

#include "tokenizer/vocab.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace lb::tokenizer {

void spm_tokenize(const Vocab &vocab, const std::string &text, std::vector<int32_t> &out);

} // namespace lb::tokenizer
