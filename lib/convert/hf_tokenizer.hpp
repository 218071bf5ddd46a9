// A Hugging Face tokenizer (tokenizer.json, with tokenizer_config.json) as
// GGUF tokenizer.ggml.* metadata, as llama.cpp's converter writes it:
//  - byte-level BPE (a ByteLevel pre-tokenizer: GPT-2, Llama 3, Qwen2,
//    SmolLM): tokenizer.ggml.model "gpt2", the tokens, their types, the
//    merges, and tokenizer.ggml.pre naming the pre-tokenizer the split
//    pattern is (a pattern lowbit does not know is refused, naming it);
//  - BPE over SentencePiece-normalized text (a "▁" prepended and spaces
//    replaced by "▁", byte fallback: Llama 2 style tokenizer.json files with
//    no tokenizer.model, such as TinyStories-656K's): tokenizer.ggml.model
//    "llama" with scores -(token id), which reproduces the merges' order
//    when ids follow it (see ../shared/data/PROVENANCE.md).
// Special tokens (BOS, EOS, UNK, PAD) and add_bos/add_eos come from
// tokenizer_config.json (falling back to config.json's ids and the
// post-processor), the chat template from tokenizer_config.json. A vocabulary
// shorter than the model's embedding is padded with [PADn] tokens (type
// UNUSED) as llama.cpp pads it.
#pragma once

#include "convert/hf_config.hpp"
#include "gguf/gguf.hpp"

#include <string>
#include <vector>

namespace lb::convert {

// Throws lb::Error: LB_E_IO (no tokenizer.json), LB_E_FORMAT (malformed,
// naming the file and field; more tokens than the model's vocab_size),
// LB_E_UNSUPPORTED (a tokenizer model other than BPE, an unknown
// pre-tokenizer, a tokenizer.model-only checkpoint).
std::vector<gguf::KeyValue> tokenizer_kvs(const source::Source &src, const HfConfig &c);

} // namespace lb::convert
