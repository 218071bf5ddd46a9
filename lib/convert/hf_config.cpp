#include "convert/hf_config.hpp"

#include "common/error.hpp"
#include "common/json.hpp"

#include <nlohmann/json.hpp>

namespace lb::convert {

namespace {

using nlohmann::json;

constexpr size_t kMaxConfigBytes = 16u << 20;

// The architectures lowbit converts: Hugging Face's class, llama.cpp's name
// for it, and whether llama.cpp permutes Q/K rows into its rotary order.
struct KnownArch {
    const char *hf;
    const char *arch;
    bool permute_qk;
};
constexpr KnownArch kArchs[] = {
    {"LlamaForCausalLM", "llama", true},
    {"MistralForCausalLM", "llama", true},
    {"Qwen2ForCausalLM", "qwen2", false},
    {"Qwen3ForCausalLM", "qwen3", false},
};

class Reader {
  public:
    Reader(const json &j, const std::string &path) : j_(j), path_(path) {}

    const json *find(const char *key) const {
        const auto it = j_.find(key);
        return it == j_.end() || it->is_null() ? nullptr : &*it;
    }
    int64_t integer(const char *key) const {
        const json *v = find(key);
        if (v == nullptr) fail(LB_E_FORMAT, "%s: the field \"%s\" is missing", path_.c_str(), key);
        return as_integer(*v, key);
    }
    std::optional<int64_t> optional_integer(const char *key) const {
        const json *v = find(key);
        if (v == nullptr) return std::nullopt;
        return as_integer(*v, key);
    }
    std::optional<double> optional_number(const char *key) const {
        const json *v = find(key);
        if (v == nullptr) return std::nullopt;
        if (!v->is_number())
            fail(LB_E_FORMAT, "%s: the field \"%s\" must be a number, not %s", path_.c_str(), key,
                 v->type_name());
        return v->get<double>();
    }
    bool boolean(const char *key, bool fallback) const {
        const json *v = find(key);
        if (v == nullptr) return fallback;
        if (!v->is_boolean())
            fail(LB_E_FORMAT, "%s: the field \"%s\" must be true or false, not %s", path_.c_str(), key,
                 v->type_name());
        return v->get<bool>();
    }
    std::string string(const char *key) const {
        const json *v = find(key);
        if (v == nullptr) return "";
        if (!v->is_string())
            fail(LB_E_FORMAT, "%s: the field \"%s\" must be a string, not %s", path_.c_str(), key,
                 v->type_name());
        return v->get<std::string>();
    }

  private:
    int64_t as_integer(const json &v, const char *key) const {
        if (!v.is_number_integer())
            fail(LB_E_FORMAT, "%s: the field \"%s\" must be an integer, not %s", path_.c_str(), key,
                 v.type_name());
        return v.get<int64_t>();
    }
    const json &j_;
    const std::string &path_;
};

void check_positive(const std::string &path, const char *key, int64_t v, int64_t max) {
    if (v < 1 || v > max)
        fail(LB_E_FORMAT, "%s: \"%s\" is %lld, outside 1..%lld", path.c_str(), key, static_cast<long long>(v),
             static_cast<long long>(max));
}

RopeScaling read_rope_scaling(const json &j, const std::string &path) {
    const Reader r(j, path);
    RopeScaling s;
    // transformers writes "type" in older configs, "rope_type" in newer ones
    s.type = r.string("rope_type");
    if (s.type.empty()) s.type = r.string("type");
    if (s.type.empty()) fail(LB_E_FORMAT, "%s: rope_scaling has no \"rope_type\"", path.c_str());
    s.factor = r.optional_number("factor").value_or(s.type == "llama3" ? 8.0 : 1.0);
    s.original_context =
        r.optional_integer("original_max_position_embeddings").value_or(s.type == "llama3" ? 8192 : 0);
    s.low_freq_factor = r.optional_number("low_freq_factor").value_or(1.0);
    s.high_freq_factor = r.optional_number("high_freq_factor").value_or(4.0);
    s.ext_factor = r.optional_number("extrapolation_factor");
    s.attn_factor = r.optional_number("attention_factor");
    if (!s.attn_factor) s.attn_factor = r.optional_number("attn_factor");
    s.beta_fast = r.optional_number("beta_fast");
    s.beta_slow = r.optional_number("beta_slow");
    if (s.type == "yarn" && s.original_context <= 0)
        fail(LB_E_FORMAT, "%s: yarn rope_scaling needs \"original_max_position_embeddings\"", path.c_str());
    if (!(s.factor > 0.0)) fail(LB_E_FORMAT, "%s: rope_scaling factor must be positive", path.c_str());
    return s;
}

} // namespace

HfConfig read_config(const source::Source &src) {
    HfConfig c;
    c.path = src.where("config.json");
    if (!src.has("config.json")) fail(LB_E_IO, "%s: cannot open: no such file", c.path.c_str());
    const json j = parse_json_mapped(*src.map("config.json"), kMaxConfigBytes);
    if (!j.is_object()) fail(LB_E_FORMAT, "%s: not a JSON object", c.path.c_str());
    const Reader r(j, c.path);

    const json *archs = r.find("architectures");
    if (archs == nullptr || !archs->is_array() || archs->empty() || !(*archs)[0].is_string())
        fail(LB_E_FORMAT, "%s: \"architectures\" must be a list naming the model's class", c.path.c_str());
    c.hf_architecture = (*archs)[0].get<std::string>();
    const KnownArch *known = nullptr;
    for (const KnownArch &a : kArchs)
        if (c.hf_architecture == a.hf) known = &a;
    if (known == nullptr)
        fail(LB_E_UNSUPPORTED,
             "%s: the architecture %s is not one lowbit converts (LlamaForCausalLM, MistralForCausalLM, "
             "Qwen2ForCausalLM, Qwen3ForCausalLM)",
             c.path.c_str(), c.hf_architecture.c_str());
    c.arch = known->arch;
    c.permute_qk = known->permute_qk;

    c.n_embd = r.integer("hidden_size");
    c.n_layer = r.integer("num_hidden_layers");
    c.n_head = r.integer("num_attention_heads");
    c.n_head_kv = r.optional_integer("num_key_value_heads").value_or(c.n_head);
    c.n_ff = r.integer("intermediate_size");
    c.n_vocab = r.integer("vocab_size");
    check_positive(c.path, "hidden_size", c.n_embd, 1 << 20);
    check_positive(c.path, "num_hidden_layers", c.n_layer, 512);
    check_positive(c.path, "num_attention_heads", c.n_head, 1 << 12);
    check_positive(c.path, "num_key_value_heads", c.n_head_kv, c.n_head);
    check_positive(c.path, "intermediate_size", c.n_ff, 1 << 22);
    check_positive(c.path, "vocab_size", c.n_vocab, 1 << 24);
    if (c.n_head % c.n_head_kv != 0)
        fail(LB_E_FORMAT, "%s: num_attention_heads (%lld) is not a multiple of num_key_value_heads (%lld)",
             c.path.c_str(), static_cast<long long>(c.n_head), static_cast<long long>(c.n_head_kv));
    const std::optional<int64_t> head_dim = r.optional_integer("head_dim");
    c.head_dim_given = head_dim.has_value();
    c.head_dim = head_dim.value_or(c.n_embd / c.n_head);
    if (!c.head_dim_given && c.n_embd % c.n_head != 0)
        fail(LB_E_FORMAT, "%s: hidden_size (%lld) is not a multiple of num_attention_heads (%lld)",
             c.path.c_str(), static_cast<long long>(c.n_embd), static_cast<long long>(c.n_head));
    check_positive(c.path, "head_dim", c.head_dim, 1 << 12);
    if (c.permute_qk && c.head_dim % 2 != 0)
        fail(LB_E_FORMAT, "%s: head_dim %lld is odd: rotary embeddings need pairs", c.path.c_str(),
             static_cast<long long>(c.head_dim));
    c.n_ctx = r.optional_integer("max_position_embeddings").value_or(0);
    c.rms_eps = r.optional_number("rms_norm_eps").value_or(1e-6);
    if (!(c.rms_eps > 0.0 && c.rms_eps < 1.0))
        fail(LB_E_FORMAT, "%s: rms_norm_eps must lie in (0, 1)", c.path.c_str());
    c.rope_theta = r.optional_number("rope_theta");
    if (c.rope_theta && !(*c.rope_theta > 0.0))
        fail(LB_E_FORMAT, "%s: rope_theta must be positive", c.path.c_str());
    if (const json *scaling = r.find("rope_scaling")) {
        if (!scaling->is_object()) fail(LB_E_FORMAT, "%s: rope_scaling must be an object", c.path.c_str());
        c.rope_scaling = read_rope_scaling(*scaling, c.path);
        // newer configs put rope_theta inside rope_parameters
        if (!c.rope_theta) c.rope_theta = Reader(*scaling, c.path).optional_number("rope_theta");
    }
    c.tied = r.boolean("tie_word_embeddings", false); // the default of all four configs
    c.bos_id = r.optional_integer("bos_token_id");
    // eos_token_id is a list in some configs (Llama 3.1: end of text, end of turn): the first
    if (const json *eos = r.find("eos_token_id"); eos != nullptr && eos->is_array() && !eos->empty())
        c.eos_id = Reader(json{{"eos_token_id", (*eos)[0]}}, c.path).optional_integer("eos_token_id");
    else
        c.eos_id = r.optional_integer("eos_token_id");
    c.torch_dtype = r.string("torch_dtype");
    c.name_or_path = r.string("_name_or_path");
    return c;
}

} // namespace lb::convert
