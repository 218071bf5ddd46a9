// Text to tokens and back, for a vocabulary read from GGUF metadata, with
// llama.cpp's llama_tokenize / llama_token_to_piece semantics:
//  - special tokens (control, user-defined, unknown) are cut out of the text
//    first, longest first; control and unknown ones only when parse_special
//    is set (user-defined ones always, as llama.cpp does);
//  - the rest goes through the vocabulary's model (SPM or BPE);
//  - add_special adds BOS / EOS as the vocabulary asks (add_bos_token ...).
#pragma once

#include "tokenizer/vocab.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lb::tokenizer {

class Tokenizer {
  public:
    explicit Tokenizer(Vocab vocab);

    const Vocab &vocab() const { return vocab_; }

    std::vector<int32_t> tokenize(std::string_view text, bool add_special, bool parse_special) const;

    // The bytes a token stands for (spaces unescaped, byte tokens as their
    // byte); control and unknown tokens give their text only when `special`
    // is set, "" otherwise. Throws lb::Error (LB_E_INVALID_ARG) for an id out
    // of range.
    std::string piece(int32_t token, bool special) const;

    // The concatenated pieces.
    std::string detokenize(const std::vector<int32_t> &tokens, bool special) const;

  private:
    void encode_text(const std::string &text, bool first, std::vector<int32_t> &out) const;

    Vocab vocab_;
};

} // namespace lb::tokenizer
