#include "recipes/model_facts.hpp"

#include "common/error.hpp"
#include "recipes/tensor_category.hpp"

#include <cstring>

namespace lb::recipes {

namespace {

// An unsigned integer key, or the first element of an integer array key.
bool read_count(const std::vector<gguf::KeyValue> &kvs, const std::string &key, uint64_t *out) {
    const long i = gguf::find_key(kvs, key);
    if (i < 0) return false;
    const gguf::Value &v = kvs[static_cast<size_t>(i)].value;
    if (v.bytes.empty()) return false;
    const gguf::ValueType t = v.element_type();
    int64_t s = 0;
    uint64_t u = 0;
    switch (t) {
    case gguf::ValueType::U8: u = v.bytes[0]; break;
    case gguf::ValueType::U16: {
        uint16_t x;
        std::memcpy(&x, v.bytes.data(), 2);
        u = x;
        break;
    }
    case gguf::ValueType::U32: {
        uint32_t x;
        std::memcpy(&x, v.bytes.data(), 4);
        u = x;
        break;
    }
    case gguf::ValueType::U64: std::memcpy(&u, v.bytes.data(), 8); break;
    case gguf::ValueType::I8: s = static_cast<int8_t>(v.bytes[0]); break;
    case gguf::ValueType::I16: {
        int16_t x;
        std::memcpy(&x, v.bytes.data(), 2);
        s = x;
        break;
    }
    case gguf::ValueType::I32: {
        int32_t x;
        std::memcpy(&x, v.bytes.data(), 4);
        s = x;
        break;
    }
    case gguf::ValueType::I64: std::memcpy(&s, v.bytes.data(), 8); break;
    default: return false;
    }
    if (s < 0) return false;
    *out = u != 0 ? u : static_cast<uint64_t>(s);
    return true;
}

int count_or_zero(const std::vector<gguf::KeyValue> &kvs, const std::string &key) {
    uint64_t v = 0;
    return read_count(kvs, key, &v) && v < 1000000 ? static_cast<int>(v) : 0;
}

} // namespace

ModelFacts model_facts(const std::vector<gguf::KeyValue> &kvs, const std::string &path) {
    ModelFacts f;
    const long a = gguf::find_key(kvs, "general.architecture");
    if (a >= 0 && kvs[static_cast<size_t>(a)].value.type == gguf::ValueType::STRING)
        f.arch = kvs[static_cast<size_t>(a)].value.strings[0];
    if (f.arch.empty())
        fail(LB_E_FORMAT,
             "%s: no general.architecture (a string naming the model's architecture): llama.cpp cannot load "
             "the "
             "model, and lowbit needs it to choose tensor types",
             path.c_str());
    const std::string blocks = f.arch + ".block_count";
    uint64_t n_layer = 0;
    if (gguf::find_key(kvs, blocks) < 0)
        fail(LB_E_FORMAT,
             "%s: key '%s' is missing: the layer count is needed to choose tensor types (llama.cpp "
             "requires it too)",
             path.c_str(), blocks.c_str());
    if (!read_count(kvs, blocks, &n_layer))
        fail(LB_E_FORMAT, "%s: key '%s' must be an unsigned integer", path.c_str(), blocks.c_str());
    if (n_layer > static_cast<uint64_t>(kMaxLayers))
        fail(LB_E_FORMAT, "%s: key '%s' is %llu; llama.cpp supports at most %d layers", path.c_str(),
             blocks.c_str(), static_cast<unsigned long long>(n_layer), kMaxLayers);
    f.n_layer = static_cast<int>(n_layer);
    f.n_head = count_or_zero(kvs, f.arch + ".attention.head_count");
    f.n_head_kv = count_or_zero(kvs, f.arch + ".attention.head_count_kv");
    if (f.n_head_kv == 0) f.n_head_kv = f.n_head; // llama.cpp's default
    f.n_expert = count_or_zero(kvs, f.arch + ".expert_count");
    // llama.cpp's LLM_TYPE_70B, which the attn_v rules look at
    if (f.arch == "llama")
        f.is_70b = f.n_expert != 8 && f.n_layer == 80 && f.n_head != f.n_head_kv;
    else if (f.arch == "qwen2" || f.arch == "deci" || f.arch == "olmo")
        f.is_70b = f.n_layer == 80;
    else if (f.arch == "jais2")
        f.is_70b = f.n_layer == 68;
    return f;
}

void check_layers(const std::vector<const gguf::TensorInfo *> &tensors, const ModelFacts &facts,
                  const std::string &path) {
    for (const gguf::TensorInfo *t : tensors) {
        if (t->name.rfind("blk.", 0) != 0) continue;
        const int layer = layer_of(t->name);
        if (layer < 0)
            fail(LB_E_FORMAT, "%s: tensor '%s' starts with 'blk.' but names no layer (blk.N.)", path.c_str(),
                 t->name.c_str());
        if (layer >= facts.n_layer)
            fail(LB_E_FORMAT,
                 "%s: tensor '%s' is in layer %d, but %s.block_count says the model has %d layers",
                 path.c_str(), t->name.c_str(), layer, facts.arch.c_str(), facts.n_layer);
    }
}

} // namespace lb::recipes
