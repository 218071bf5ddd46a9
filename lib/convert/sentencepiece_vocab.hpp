// A SentencePiece tokenizer.model as GGUF tokenizer.ggml.* metadata, as
// llama.cpp's converter writes it (_set_vocab_sentencepiece):
// tokenizer.ggml.model "llama", pre "default", every piece with its score
// and type (normal, unknown, control, unused, byte), the special ids the
// model names, tokenizer.ggml.add_space_prefix false when the model adds no
// dummy prefix, and the vocabulary padded to the model's vocab_size with
// [PADn] tokens. The file is read with Debian's libsentencepiece (protobuf),
// never by hand.
#pragma once

#include "convert/hf_config.hpp"
#include "gguf/gguf.hpp"

#include <string>
#include <vector>

namespace lb::convert {

// Throws lb::Error: LB_E_FORMAT (a file libsentencepiece cannot load, more
// pieces than vocab_size, naming the file).
// model: tokenizer.model mapped (named in errors by model.path()).
std::vector<gguf::KeyValue> sentencepiece_kvs(const MappedFile &model, const HfConfig &c);

} // namespace lb::convert
