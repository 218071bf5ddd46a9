#include "session/model_config.hpp"

#include "common/error.hpp"

#include <cmath>
#include <cstring>

namespace lb::session {

namespace {

using gguf::Value;
using gguf::ValueType;

class Keys {
  public:
    Keys(const std::vector<gguf::KeyValue> &kvs, const std::string &arch, const std::string &path)
        : kvs_(kvs), arch_(arch), path_(path) {}

    const Value *find(const std::string &suffix) const {
        const long i = gguf::find_key(kvs_, arch_ + "." + suffix);
        return i < 0 ? nullptr : &kvs_[static_cast<size_t>(i)].value;
    }
    std::string name(const std::string &suffix) const { return arch_ + "." + suffix; }

    // An unsigned integer key, or the first element of a per-layer array
    // whose elements must all be equal (lowbit runs uniform layers).
    bool count(const std::string &suffix, int64_t *out) const {
        const Value *v = find(suffix);
        if (v == nullptr) return false;
        const uint64_t n = v->is_array() ? v->count : 1;
        if (n == 0) fail(LB_E_FORMAT, "%s: key '%s' is an empty array", path_.c_str(), name(suffix).c_str());
        int64_t first = 0;
        for (uint64_t i = 0; i < n; ++i) {
            const int64_t x = element(*v, i, suffix);
            if (i == 0)
                first = x;
            else if (x != first)
                fail(LB_E_UNSUPPORTED,
                     "%s: key '%s' differs between layers (%lld and %lld); lowbit runs models whose "
                     "layers are alike",
                     path_.c_str(), name(suffix).c_str(), static_cast<long long>(first),
                     static_cast<long long>(x));
        }
        if (first < 0 || first > (1ll << 30))
            fail(LB_E_FORMAT, "%s: key '%s' is %lld", path_.c_str(), name(suffix).c_str(),
                 static_cast<long long>(first));
        *out = first;
        return true;
    }

    int64_t required(const std::string &suffix) const {
        int64_t v = 0;
        if (!count(suffix, &v))
            fail(LB_E_FORMAT, "%s: key '%s' is missing", path_.c_str(), name(suffix).c_str());
        return v;
    }

    bool real(const std::string &suffix, float *out) const {
        const Value *v = find(suffix);
        if (v == nullptr) return false;
        if (v->type == ValueType::F32)
            std::memcpy(out, v->bytes.data(), 4);
        else if (v->type == ValueType::F64) {
            double d;
            std::memcpy(&d, v->bytes.data(), 8);
            *out = static_cast<float>(d);
        } else
            fail(LB_E_FORMAT, "%s: key '%s' must be a float", path_.c_str(), name(suffix).c_str());
        if (!std::isfinite(*out))
            fail(LB_E_FORMAT, "%s: key '%s' is not finite", path_.c_str(), name(suffix).c_str());
        return true;
    }

    bool text(const std::string &suffix, std::string *out) const {
        const Value *v = find(suffix);
        if (v == nullptr) return false;
        if (v->type != ValueType::STRING)
            fail(LB_E_FORMAT, "%s: key '%s' must be a string", path_.c_str(), name(suffix).c_str());
        *out = v->strings[0];
        return true;
    }

  private:
    int64_t element(const Value &v, uint64_t i, const std::string &suffix) const {
        auto load = [&](auto x) {
            std::memcpy(&x, v.bytes.data() + i * sizeof x, sizeof x);
            return static_cast<int64_t>(x);
        };
        switch (v.element_type()) {
        case ValueType::U8: return load(uint8_t{});
        case ValueType::I8: return load(int8_t{});
        case ValueType::U16: return load(uint16_t{});
        case ValueType::I16: return load(int16_t{});
        case ValueType::U32: return load(uint32_t{});
        case ValueType::I32: return load(int32_t{});
        case ValueType::U64: {
            uint64_t x;
            std::memcpy(&x, v.bytes.data() + i * 8, 8);
            return x > static_cast<uint64_t>(INT64_MAX) ? -1 : static_cast<int64_t>(x);
        }
        case ValueType::I64: return load(int64_t{});
        default: fail(LB_E_FORMAT, "%s: key '%s' must be an integer", path_.c_str(), name(suffix).c_str());
        }
    }

    const std::vector<gguf::KeyValue> &kvs_;
    std::string arch_;
    const std::string &path_;
};

} // namespace

ModelConfig read_config(const std::vector<gguf::KeyValue> &kvs, const std::string &path) {
    ModelConfig c;
    const long a = gguf::find_key(kvs, "general.architecture");
    if (a < 0 || kvs[static_cast<size_t>(a)].value.type != ValueType::STRING)
        fail(LB_E_FORMAT, "%s: no general.architecture (a string)", path.c_str());
    c.arch_name = kvs[static_cast<size_t>(a)].value.strings[0];
    if (c.arch_name == "llama")
        c.arch = Arch::Llama;
    else if (c.arch_name == "qwen2")
        c.arch = Arch::Qwen2;
    else if (c.arch_name == "qwen3")
        c.arch = Arch::Qwen3;
    else
        fail(LB_E_UNSUPPORTED,
             "%s: architecture '%s' cannot be run by lowbit's sessions (they run llama, qwen2 and qwen3)",
             path.c_str(), c.arch_name.c_str());
    const Keys k(kvs, c.arch_name, path);

    c.n_layer = static_cast<int>(k.required("block_count"));
    c.n_embd = static_cast<int>(k.required("embedding_length"));
    c.n_ff = static_cast<int>(k.required("feed_forward_length"));
    c.n_head = static_cast<int>(k.required("attention.head_count"));
    int64_t v = 0;
    c.n_head_kv = k.count("attention.head_count_kv", &v) ? static_cast<int>(v) : c.n_head;
    c.n_ctx_train = k.count("context_length", &v) ? static_cast<int>(v) : 0;
    if (c.n_layer <= 0) fail(LB_E_FORMAT, "%s: key '%s' is 0", path.c_str(), k.name("block_count").c_str());
    if (c.n_embd <= 0 || c.n_ff <= 0 || c.n_head <= 0 || c.n_head_kv <= 0)
        fail(LB_E_FORMAT, "%s: a shape key (%s, %s, %s, %s) is 0", path.c_str(),
             k.name("embedding_length").c_str(), k.name("feed_forward_length").c_str(),
             k.name("attention.head_count").c_str(), k.name("attention.head_count_kv").c_str());
    if (c.n_head % c.n_head_kv != 0)
        fail(LB_E_FORMAT, "%s: %d attention heads cannot share %d key/value heads evenly", path.c_str(),
             c.n_head, c.n_head_kv);
    c.head_dim = c.n_embd / c.n_head;
    if (k.count("attention.key_length", &v)) c.head_dim = static_cast<int>(v);
    int64_t value_length = c.head_dim;
    if (k.count("attention.value_length", &v)) value_length = v;
    if (value_length != c.head_dim)
        fail(LB_E_UNSUPPORTED, "%s: keys and values of different lengths (%d and %lld) are not supported",
             path.c_str(), c.head_dim, static_cast<long long>(value_length));
    if (c.head_dim <= 0 || c.head_dim % 2 != 0)
        fail(LB_E_FORMAT, "%s: the attention head size is %d; it must be even and positive", path.c_str(),
             c.head_dim);
    if (!k.real("attention.layer_norm_rms_epsilon", &c.rms_eps))
        fail(LB_E_FORMAT, "%s: key '%s' is missing", path.c_str(),
             k.name("attention.layer_norm_rms_epsilon").c_str());

    Rope &r = c.rope;
    r.order = c.arch == Arch::Llama ? RopeOrder::Normal : RopeOrder::Neox;
    r.n_rot = c.head_dim;
    if (k.count("rope.dimension_count", &v)) r.n_rot = static_cast<int>(v);
    if (r.n_rot <= 0 || r.n_rot > c.head_dim || r.n_rot % 2 != 0)
        fail(LB_E_FORMAT, "%s: key '%s' is %d; it must be even, positive and at most the head size %d",
             path.c_str(), k.name("rope.dimension_count").c_str(), r.n_rot, c.head_dim);
    if (c.arch == Arch::Llama && r.n_rot != c.head_dim)
        fail(LB_E_FORMAT, "%s: key '%s' is %d, but llama rotates the whole head (%d)", path.c_str(),
             k.name("rope.dimension_count").c_str(), r.n_rot, c.head_dim);
    k.real("rope.freq_base", &r.freq_base);
    if (r.freq_base <= 0.0f)
        fail(LB_E_FORMAT, "%s: key '%s' must be positive", path.c_str(), k.name("rope.freq_base").c_str());
    std::string scaling = "linear";
    k.text("rope.scaling.type", &scaling);
    if (scaling != "none" && scaling != "linear" && scaling != "yarn")
        fail(LB_E_UNSUPPORTED,
             "%s: rope scaling '%s' (%s) is not supported (lowbit reads none, linear and yarn)", path.c_str(),
             scaling.c_str(), k.name("rope.scaling.type").c_str());
    float factor = 0.0f;
    if (!k.real("rope.scaling.factor", &factor)) k.real("rope.scale_linear", &factor);
    if (factor < 0.0f)
        fail(LB_E_FORMAT, "%s: key '%s' is negative", path.c_str(), k.name("rope.scaling.factor").c_str());
    r.freq_scale = factor == 0.0f ? 1.0f : 1.0f / factor;
    if (scaling == "none") r.freq_scale = 1.0f;
    r.n_ctx_orig = c.n_ctx_train;
    if (k.count("rope.scaling.original_context_length", &v)) r.n_ctx_orig = static_cast<int>(v);
    float rope_attn_factor = 1.0f;
    k.real("rope.scaling.attn_factor", &rope_attn_factor);
    k.real("rope.scaling.yarn_beta_fast", &r.beta_fast);
    k.real("rope.scaling.yarn_beta_slow", &r.beta_slow);
    r.ext_factor = scaling == "yarn" ? 1.0f : 0.0f;
    k.real("rope.scaling.yarn_ext_factor", &r.ext_factor);
    r.attn_factor = 1.0f;
    if (r.ext_factor != 0.0f) {
        // llama.cpp's YaRN magnitude, cancelled against ggml's own 1 + 0.1 ln(factor)
        const float f = 1.0f / r.freq_scale;
        r.attn_factor = f <= 1.0f ? 1.0f : 0.1f * std::log(f) + 1.0f;
        r.attn_factor *= 1.0f / (1.0f + 0.1f * std::log(f));
    }
    r.attn_factor *= rope_attn_factor;
    return c;
}

} // namespace lb::session
