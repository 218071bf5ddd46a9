#include "tokenizer/vocab.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

namespace lb::tokenizer {

namespace {

using gguf::Value;
using gguf::ValueType;

const Value *find(const std::vector<gguf::KeyValue> &kvs, const char *key) {
    const long i = gguf::find_key(kvs, key);
    return i < 0 ? nullptr : &kvs[static_cast<size_t>(i)].value;
}

const char *type_name(const Value &v) {
    return gguf::value_type_name(static_cast<uint32_t>(v.type));
}

// An array of `elem` elements (or of either of two element types).
const Value *array_of(const std::vector<gguf::KeyValue> &kvs, const char *key, ValueType elem, ValueType alt,
                      const std::string &path) {
    const Value *v = find(kvs, key);
    if (v == nullptr) return nullptr;
    if (!v->is_array() || (v->elem_type != elem && v->elem_type != alt))
        fail(LB_E_FORMAT, "%s: key '%s' must be an array of %s but is %s%s%s", path.c_str(), key,
             gguf::value_type_name(static_cast<uint32_t>(elem)), type_name(*v), v->is_array() ? " of " : "",
             v->is_array() ? gguf::value_type_name(static_cast<uint32_t>(v->elem_type)) : "");
    return v;
}

template <typename T> T element(const Value &v, uint64_t i) {
    T x;
    std::memcpy(&x, v.bytes.data() + i * sizeof(T), sizeof(T));
    return x;
}

// A scalar integer key as a token id; unset (kNoToken) keeps the default.
int32_t token_key(const std::vector<gguf::KeyValue> &kvs, const char *key, int32_t fallback, size_t n_tokens,
                  const std::string &path) {
    const Value *v = find(kvs, key);
    if (v == nullptr) return fallback;
    int64_t id;
    switch (v->type) {
    case ValueType::U32: id = element<uint32_t>(*v, 0); break;
    case ValueType::I32: id = element<int32_t>(*v, 0); break;
    case ValueType::U64:
        id = static_cast<int64_t>(std::min<uint64_t>(element<uint64_t>(*v, 0), INT64_MAX));
        break;
    case ValueType::I64: id = element<int64_t>(*v, 0); break;
    default:
        fail(LB_E_FORMAT, "%s: key '%s' must be an integer token id but is %s", path.c_str(), key,
             type_name(*v));
    }
    // as llama.cpp: an id outside the vocabulary keeps the default
    return id >= 0 && static_cast<uint64_t>(id) < n_tokens ? static_cast<int32_t>(id) : fallback;
}

bool bool_key(const std::vector<gguf::KeyValue> &kvs, const char *key, bool fallback,
              const std::string &path) {
    const Value *v = find(kvs, key);
    if (v == nullptr) return fallback;
    if (v->type != ValueType::BOOL)
        fail(LB_E_FORMAT, "%s: key '%s' must be a bool but is %s", path.c_str(), key, type_name(*v));
    return v->bytes[0] != 0;
}

// The pre-tokenizers lowbit implements, by the names llama.cpp accepts.
bool known_pre(const std::string &pre) {
    static const char *const kNames[] = {"default", "llama3", "llama-v3", "llama-bpe",
                                         "qwen2",   "smollm", "gpt-2"};
    for (const char *n : kNames)
        if (pre == n) return true;
    return false;
}

} // namespace

int32_t Vocab::byte_token(uint8_t byte) const {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", byte);
    return find(name);
}

Vocab read_vocab(const std::vector<gguf::KeyValue> &kvs, const std::string &path) {
    Vocab v;
    const Value *model = find(kvs, "tokenizer.ggml.model");
    if (model == nullptr)
        fail(LB_E_FORMAT, "%s: no tokenizer (key 'tokenizer.ggml.model' is missing)", path.c_str());
    if (model->type != ValueType::STRING)
        fail(LB_E_FORMAT, "%s: key 'tokenizer.ggml.model' must be a string but is %s", path.c_str(),
             type_name(*model));
    const std::string &name = model->strings[0];
    if (name == "llama")
        v.model = Model::Spm;
    else if (name == "gpt2")
        v.model = Model::Bpe;
    else
        fail(LB_E_UNSUPPORTED, "%s: tokenizer model '%s' is not supported (lowbit reads 'llama' and 'gpt2')",
             path.c_str(), name.c_str());

    const Value *tokens = array_of(kvs, "tokenizer.ggml.tokens", ValueType::STRING, ValueType::STRING, path);
    if (tokens == nullptr) fail(LB_E_FORMAT, "%s: key 'tokenizer.ggml.tokens' is missing", path.c_str());
    const size_t n = tokens->strings.size();
    if (n == 0) fail(LB_E_FORMAT, "%s: key 'tokenizer.ggml.tokens' holds no tokens", path.c_str());
    if (n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
        fail(LB_E_FORMAT, "%s: key 'tokenizer.ggml.tokens' holds %zu tokens, too many for 32-bit ids",
             path.c_str(), n);

    const Value *scores = array_of(kvs, "tokenizer.ggml.scores", ValueType::F32, ValueType::I32, path);
    if (scores != nullptr && scores->count < n)
        fail(LB_E_FORMAT, "%s: key 'tokenizer.ggml.scores' has %llu values for %zu tokens", path.c_str(),
             static_cast<unsigned long long>(scores->count), n);
    const Value *types = array_of(kvs, "tokenizer.ggml.token_type", ValueType::I32, ValueType::I32, path);
    if (types != nullptr && types->count < n)
        fail(LB_E_FORMAT, "%s: key 'tokenizer.ggml.token_type' has %llu values for %zu tokens", path.c_str(),
             static_cast<unsigned long long>(types->count), n);

    v.text.resize(n);
    v.score.assign(n, 0.0f);
    v.type.assign(n, TokenType::Normal);
    v.id_of.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        std::string word = tokens->strings[i];
        if (word.empty()) word = "[EMPTY_" + std::to_string(i) + "]"; // as llama.cpp
        v.id_of[word] = static_cast<int32_t>(i);
        v.text[i] = std::move(word);
        if (scores != nullptr)
            v.score[i] = scores->elem_type == ValueType::F32
                             ? element<float>(*scores, i)
                             : static_cast<float>(element<int32_t>(*scores, i));
        if (types != nullptr) {
            const int32_t t = element<int32_t>(*types, i);
            v.type[i] = t >= 1 && t <= 6 ? static_cast<TokenType>(t) : TokenType::Undefined;
        }
    }

    if (v.model == Model::Spm) {
        v.bos = 1, v.eos = 2, v.unk = 0; // llama.cpp's defaults
        v.add_space_prefix = true;
        v.add_bos = true;
        v.pre = "default";
    } else {
        v.bos = 11, v.eos = 11;
        const Value *pre = find(kvs, "tokenizer.ggml.pre");
        if (pre != nullptr && pre->type != ValueType::STRING)
            fail(LB_E_FORMAT, "%s: key 'tokenizer.ggml.pre' must be a string but is %s", path.c_str(),
                 type_name(*pre));
        v.pre = pre != nullptr ? pre->strings[0] : "default";
        if (!known_pre(v.pre))
            fail(LB_E_UNSUPPORTED,
                 "%s: pre-tokenizer '%s' (tokenizer.ggml.pre) is not supported (lowbit reads default, "
                 "llama-bpe, "
                 "qwen2, smollm and gpt-2)",
                 path.c_str(), v.pre.c_str());
        if (v.pre == "llama3" || v.pre == "llama-v3" || v.pre == "llama-bpe") v.add_bos = true;
        const Value *merges =
            array_of(kvs, "tokenizer.ggml.merges", ValueType::STRING, ValueType::STRING, path);
        if (merges == nullptr)
            fail(LB_E_FORMAT, "%s: BPE tokenizer without key 'tokenizer.ggml.merges'", path.c_str());
        v.merge_rank.reserve(merges->strings.size());
        for (size_t i = 0; i < merges->strings.size(); ++i) {
            const std::string &m = merges->strings[i];
            const size_t space = m.find(' ', 1);
            if (space == std::string::npos || space + 1 >= m.size())
                fail(LB_E_FORMAT,
                     "%s: merge %zu of 'tokenizer.ggml.merges' is not two tokens separated by a space",
                     path.c_str(), i);
            if (i > static_cast<size_t>(std::numeric_limits<int32_t>::max())) break;
            v.merge_rank.emplace(m, static_cast<int32_t>(i)); // the first of duplicates wins
        }
    }
    v.add_space_prefix = bool_key(kvs, "tokenizer.ggml.add_space_prefix", v.add_space_prefix, path);
    v.bos = token_key(kvs, "tokenizer.ggml.bos_token_id", v.bos < static_cast<int32_t>(n) ? v.bos : kNoToken,
                      n, path);
    v.eos = token_key(kvs, "tokenizer.ggml.eos_token_id", v.eos < static_cast<int32_t>(n) ? v.eos : kNoToken,
                      n, path);
    v.unk = token_key(kvs, "tokenizer.ggml.unknown_token_id",
                      v.unk < static_cast<int32_t>(n) ? v.unk : kNoToken, n, path);
    v.pad = token_key(kvs, "tokenizer.ggml.padding_token_id", kNoToken, n, path);
    v.eot = token_key(kvs, "tokenizer.ggml.eot_token_id", kNoToken, n, path);
    v.add_bos = bool_key(kvs, "tokenizer.ggml.add_bos_token", v.add_bos, path);
    v.add_eos = bool_key(kvs, "tokenizer.ggml.add_eos_token", v.add_eos, path);
    if (v.add_bos && v.bos == kNoToken)
        fail(LB_E_FORMAT,
             "%s: the vocabulary asks for a BOS token (tokenizer.ggml.add_bos_token) but has none",
             path.c_str());
    if (v.add_eos && v.eos == kNoToken)
        fail(LB_E_FORMAT,
             "%s: the vocabulary asks for an EOS token (tokenizer.ggml.add_eos_token) but has none",
             path.c_str());

    // Tokens whose text llama.cpp recognises as end-of-turn, end-of-generation
    // or fill-in-the-middle markers are control tokens whatever their type
    // says, and the first end-of-turn one is the EOT token.
    static const char *const kEndOfTurn[] = {"<|eot_id|>",
                                             "<|im_end|>",
                                             "<|end|>",
                                             "<end_of_turn>",
                                             "<|endoftext|>",
                                             "<|end_of_text|>",
                                             "<EOT>",
                                             "_<EOT>",
                                             "[EOT]",
                                             "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", // DeepSeek
                                             "<end_of_utterance>"};
    static const char *const kControlLooking[] = {
        // end of generation
        "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "</s>", "<|eom_id|>", "[EOS]", "<eos>", "<turn|>",
        "<|tool_response>", "[e~[",
        // fill in the middle
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "\u2581<PRE>", "<|code_prefix|>",
        "<|prefix|>", "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "\u2581<SUF>",
        "<|code_suffix|>", "<|suffix|>", "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>",
        "\u2581<MID>", "<|code_middle|>", "<|middle|>", "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
        "[PAD]", "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
        "<|fim_sep|>"};
    auto make_control = [&](const char *t) {
        const int32_t id = v.find(t);
        if (id != kNoToken) v.type[static_cast<size_t>(id)] = TokenType::Control;
        return id;
    };
    for (const char *t : kEndOfTurn) {
        const int32_t id = make_control(t);
        if (v.eot == kNoToken) v.eot = id;
    }
    for (const char *t : kControlLooking) make_control(t);
    // gpt-oss's always rendered tokens, as llama.cpp
    for (const char *t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"}) {
        const int32_t id = v.find(t);
        if (id != kNoToken) v.type[static_cast<size_t>(id)] = TokenType::UserDefined;
    }

    for (size_t i = 0; i < n; ++i)
        if (v.type[i] == TokenType::Control || v.type[i] == TokenType::UserDefined ||
            v.type[i] == TokenType::Unknown)
            v.specials.push_back(static_cast<int32_t>(i));
    std::stable_sort(v.specials.begin(), v.specials.end(), [&](int32_t a, int32_t b) {
        return v.text[static_cast<size_t>(a)].size() > v.text[static_cast<size_t>(b)].size();
    });
    return v;
}

} // namespace lb::tokenizer
