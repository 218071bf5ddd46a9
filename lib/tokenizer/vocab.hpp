// A model's vocabulary, read from the tokenizer.* keys of its GGUF metadata
// as llama.cpp reads them: the tokens, their scores and types, the BPE merges,
// the special tokens and the flags that shape tokenization.
#pragma once

#include "gguf/gguf.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lb::tokenizer {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
};

enum class Model {
    Spm, // tokenizer.ggml.model = "llama": SentencePiece-style, scores
    Bpe, // "gpt2": byte-level BPE with merges and a pre-tokenizer
};

constexpr int32_t kNoToken = -1;

struct Vocab {
    Model model = Model::Spm;
    std::string pre; // tokenizer.ggml.pre ("default" when absent)
    std::vector<std::string> text;
    std::vector<float> score;
    std::vector<TokenType> type;
    std::unordered_map<std::string, int32_t> id_of; // the last token of a text wins, as in llama.cpp
    // BPE: rank of the merge "left right" (lower merges first)
    std::unordered_map<std::string, int32_t> merge_rank;

    int32_t bos = kNoToken, eos = kNoToken, unk = kNoToken, pad = kNoToken, eot = kNoToken;
    bool add_bos = false, add_eos = false;
    bool add_space_prefix = false; // SPM: a space before the text
    // special tokens (control, user-defined, unknown), longest text first:
    // the order in which they are cut out of the text
    std::vector<int32_t> specials;

    size_t size() const { return text.size(); }
    int32_t find(const std::string &t) const {
        const auto it = id_of.find(t);
        return it == id_of.end() ? kNoToken : it->second;
    }
    // SPM byte tokens "<0xNN>"; kNoToken if the vocabulary lacks it.
    int32_t byte_token(uint8_t byte) const;
};

// Reads the vocabulary. Throws lb::Error (LB_E_FORMAT, or LB_E_UNSUPPORTED
// for a tokenizer model or pre-tokenizer lowbit does not implement) naming
// `path` and the key at fault: a missing or mistyped tokenizer.ggml.tokens,
// scores or types shorter than the tokens, a merge that is not "a b", ...
Vocab read_vocab(const std::vector<gguf::KeyValue> &kvs, const std::string &path);

} // namespace lb::tokenizer
