#include "convert/sentencepiece_vocab.hpp"

#include "common/error.hpp"

#include <sentencepiece_processor.h>

namespace lb::convert {

namespace {

// llama.cpp's token types
enum TokenType : int32_t { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, UNUSED = 5, BYTE = 6 };

} // namespace

std::vector<gguf::KeyValue> sentencepiece_kvs(const MappedFile &model, const HfConfig &c) {
    const std::string &path = model.path();
    sentencepiece::SentencePieceProcessor sp;
    const auto status = sp.LoadFromSerializedProto(
        {reinterpret_cast<const char *>(model.data()), static_cast<size_t>(model.size())});
    if (!status.ok())
        fail(LB_E_FORMAT, "%s: not a SentencePiece model libsentencepiece can load: %s", path.c_str(),
             status.ToString().c_str());
    const int n = sp.GetPieceSize();
    if (n < 1 || n > c.n_vocab)
        fail(LB_E_FORMAT, "%s: %d pieces, but %s's vocab_size is %lld", path.c_str(), n, c.path.c_str(),
             static_cast<long long>(c.n_vocab));
    const size_t size = static_cast<size_t>(c.n_vocab);
    std::vector<std::string> tokens(size);
    std::vector<float> scores(size, 0.0f);
    std::vector<int32_t> types(size, UNUSED);
    for (int id = 0; id < n; ++id) {
        const size_t i = static_cast<size_t>(id);
        tokens[i] = sp.IdToPiece(id);
        scores[i] = sp.GetScore(id);
        types[i] = sp.IsUnknown(id)   ? UNKNOWN
                   : sp.IsControl(id) ? CONTROL
                   : sp.IsUnused(id)  ? UNUSED
                   : sp.IsByte(id)    ? BYTE
                                      : NORMAL;
    }
    for (size_t i = static_cast<size_t>(n); i < size; ++i) {
        tokens[i] = "[PAD" + std::to_string(i) + "]";
        scores[i] = -1000.0f; // as llama.cpp pads
    }
    std::vector<gguf::KeyValue> kvs = {
        {"tokenizer.ggml.model", gguf::Value::string("llama")},
        {"tokenizer.ggml.pre", gguf::Value::string("default")},
        {"tokenizer.ggml.tokens", gguf::Value::string_array(std::move(tokens))},
        {"tokenizer.ggml.scores", gguf::Value::f32_array(scores)},
        {"tokenizer.ggml.token_type", gguf::Value::i32_array(types)},
    };
    // the normalizer's add_dummy_prefix, seen through the encoder (the
    // model's protobuf schema is not part of Debian's headers): a lone
    // letter becomes "▁a" only with the prefix
    const std::vector<std::string> pieces = sp.EncodeAsPieces("a");
    const bool dummy_prefix = !pieces.empty() && pieces.front().rfind("\xe2\x96\x81", 0) == 0;
    if (!dummy_prefix) kvs.push_back({"tokenizer.ggml.add_space_prefix", gguf::Value::boolean(false)});
    auto put = [&](const char *key, int id) {
        if (id >= 0 && id < n) kvs.push_back({key, gguf::Value::u32(static_cast<uint32_t>(id))});
    };
    put("tokenizer.ggml.bos_token_id", sp.bos_id());
    put("tokenizer.ggml.eos_token_id", sp.eos_id());
    put("tokenizer.ggml.unknown_token_id", sp.unk_id());
    put("tokenizer.ggml.padding_token_id", sp.pad_id());
    return kvs;
}

} // namespace lb::convert
