#include "convert/plan.hpp"

#include "common/error.hpp"
#include "convert/tensor_map.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

namespace lb::convert {

namespace {

// The order tensors are written in: globals, then layer by layer.
int rank_of(const std::string &name) {
    static const char *const order[] = {"attn_norm.weight",   "attn_q.weight",      "attn_q.bias",
                                        "attn_k.weight",      "attn_k.bias",        "attn_v.weight",
                                        "attn_v.bias",        "attn_q_norm.weight", "attn_k_norm.weight",
                                        "attn_output.weight", "attn_output.bias",   "ffn_norm.weight",
                                        "ffn_gate.weight",    "ffn_up.weight",      "ffn_down.weight"};
    const size_t dot = name.find('.', 4);
    const std::string rest = dot == std::string::npos ? name : name.substr(dot + 1);
    for (size_t i = 0; i < std::size(order); ++i)
        if (rest == order[i]) return static_cast<int>(i);
    return 99;
}

bool before(const Planned &a, const Planned &b) {
    const auto layer = [](const std::string &n) {
        return n.rfind("blk.", 0) == 0 ? std::atoi(n.c_str() + 4) : -1;
    };
    const int la = layer(a.name), lb = layer(b.name);
    if (la != lb) return la < lb;
    if (la < 0) {
        static const char *const globals[] = {"token_embd.weight", "rope_freqs.weight", "output_norm.weight",
                                              "output.weight"};
        const auto g = [](const std::string &n) {
            for (size_t i = 0; i < std::size(globals); ++i)
                if (n == globals[i]) return static_cast<int>(i);
            return 99;
        };
        return g(a.name) < g(b.name);
    }
    return rank_of(a.name) < rank_of(b.name);
}

lb_type output_type(lb_type outtype, lb_type source, const std::vector<int64_t> &ne) {
    if (ne.size() < 2) return LB_TYPE_F32; // norms and biases stay F32, as llama.cpp keeps them
    if (outtype == LB_TYPE_NONE) return source;
    if (outtype == LB_TYPE_Q8_0 && ne[0] % 32 != 0) return LB_TYPE_F16; // as gguf-py falls back
    return outtype;
}

std::string shape_text(const std::vector<int64_t> &ne) {
    std::string s = "[";
    for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
}

// llama.cpp's rope frequency factors for rope_type llama3 (Llama 3.1+), as
// convert_hf_to_gguf computes them.
std::vector<float> llama3_rope_factors(const HfConfig &c) {
    const RopeScaling &s = *c.rope_scaling;
    const double base = c.rope_theta.value_or(10000.0), dim = static_cast<double>(c.head_dim);
    const double low_wavelen = static_cast<double>(s.original_context) / s.low_freq_factor;
    const double high_wavelen = static_cast<double>(s.original_context) / s.high_freq_factor;
    std::vector<float> out;
    for (int64_t i = 0; i < c.head_dim; i += 2) {
        // torch computes the frequencies in float32
        const float freq = static_cast<float>(
            1.0 / std::pow(base, static_cast<double>(static_cast<float>(i) / static_cast<float>(dim))));
        const double wavelen = 2.0 * M_PI / freq;
        if (wavelen < high_wavelen) {
            out.push_back(1.0f);
        } else if (wavelen > low_wavelen) {
            out.push_back(static_cast<float>(s.factor));
        } else {
            const double smooth = (static_cast<double>(s.original_context) / wavelen - s.low_freq_factor) /
                                  (s.high_freq_factor - s.low_freq_factor);
            out.push_back(static_cast<float>(1.0 / ((1.0 - smooth) / s.factor + smooth)));
        }
    }
    return out;
}

} // namespace

int64_t rows_of(const Planned &p) {
    int64_t rows = 1;
    for (size_t d = 1; d < p.ne.size(); ++d) rows *= p.ne[d];
    return rows;
}

gguf::TensorInfo tensor_info(const Planned &p, const std::string &where) {
    gguf::TensorInfo t;
    t.name = p.name;
    t.n_dims = static_cast<uint32_t>(p.ne.size());
    for (size_t d = 0; d < p.ne.size(); ++d) t.ne[d] = p.ne[d];
    t.type = p.type;
    t.size = gguf::tensor_bytes(t, where);
    return t;
}

std::vector<Planned> plan(const HfConfig &c, const safetensors::Shards &shards, lb_type outtype) {
    std::vector<Planned> out;
    std::map<std::string, const safetensors::Tensor *> seen;
    for (const safetensors::Tensor *t : shards.tensors()) {
        const std::optional<MappedName> m = map_name(c, t->name);
        if (!m) continue;
        if (seen.count(m->gguf)) fail(LB_E_FORMAT, "tensor %s appears twice", t->name.c_str());
        seen[m->gguf] = t;
        Planned p;
        p.name = m->gguf;
        p.source = t;
        p.permute_heads = m->permute_heads;
        p.ne.assign(t->shape.rbegin(), t->shape.rend());
        const std::vector<int64_t> want = expected_shape(c, p.name);
        if (p.ne != want)
            fail(LB_E_FORMAT, "tensor %s (%s) has shape %s in GGUF order, but %s implies %s", t->name.c_str(),
                 p.name.c_str(), shape_text(p.ne).c_str(), c.path.c_str(), shape_text(want).c_str());
        p.type = output_type(outtype, t->type, p.ne);
        out.push_back(std::move(p));
    }
    // Tied embeddings: one matrix serves both. Checkpoints saved that way may
    // hold only lm_head.weight (transformers keeps one of the pair): it is
    // the embedding then. A second copy is dropped, as llama.cpp's converter
    // drops lm_head for tied models.
    auto find = [&](const char *name) {
        return std::find_if(out.begin(), out.end(), [&](const Planned &p) { return p.name == name; });
    };
    if (c.tied) {
        const auto output = find("output.weight");
        if (output != out.end()) {
            if (find("token_embd.weight") == out.end()) {
                output->name = "token_embd.weight";
                seen["token_embd.weight"] = output->source;
            } else {
                out.erase(output);
            }
            seen.erase("output.weight");
        }
    }
    // what every runtime needs
    std::vector<std::string> required = {"token_embd.weight", "output_norm.weight"};
    for (int64_t l = 0; l < c.n_layer; ++l)
        for (const char *t :
             {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight",
              "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"})
            required.push_back("blk." + std::to_string(l) + "." + t);
    if (c.arch == "qwen3")
        for (int64_t l = 0; l < c.n_layer; ++l)
            for (const char *t : {"attn_q_norm.weight", "attn_k_norm.weight"})
                required.push_back("blk." + std::to_string(l) + "." + t);
    for (const std::string &r : required)
        if (!seen.count(r))
            fail(LB_E_FORMAT, "the checkpoint has no tensor for %s (%s, %s)", r.c_str(),
                 c.hf_architecture.c_str(), c.path.c_str());
    if (c.rope_scaling && c.rope_scaling->type == "llama3") {
        Planned p;
        p.name = "rope_freqs.weight";
        p.computed = llama3_rope_factors(c);
        p.ne = {static_cast<int64_t>(p.computed.size())};
        p.type = LB_TYPE_F32;
        out.push_back(std::move(p));
    }
    std::stable_sort(out.begin(), out.end(), before);
    return out;
}

void convert_rows(const Planned &p, int64_t r0, int64_t r1, uint8_t *out,
                  const formats::SearchKernels &search) {
    const int64_t n = p.ne[0];
    const formats::TypeTraits &to = formats::traits(p.type);
    const size_t out_row = formats::row_bytes(p.type, n);
    if (p.source == nullptr) { // computed, F32, one row
        std::memcpy(out, p.computed.data(), p.computed.size() * sizeof(float));
        return;
    }
    const formats::TypeTraits &from = formats::traits(p.source->type);
    const size_t in_row = formats::row_bytes(p.source->type, n);
    const int64_t head_dim =
        p.permute_heads > 0 ? (p.ne.size() > 1 ? p.ne[1] : p.ne[0]) / p.permute_heads : 0;
    std::vector<float> row(static_cast<size_t>(n));
    for (int64_t r = r0; r < r1; ++r) {
        uint8_t *dst = out + static_cast<size_t>(r - r0) * out_row;
        if (p.ne.size() == 1 && head_dim > 0) { // a permuted bias: elements move, not rows
            from.dequantize(p.source->data, row.data(), n);
            std::vector<float> moved(row.size());
            for (int64_t i = 0; i < n; ++i)
                moved[static_cast<size_t>(i)] = row[static_cast<size_t>(permuted_source_row(i, head_dim))];
            to.quantize(moved.data(), dst, n, nullptr, search);
            continue;
        }
        const int64_t src_row = head_dim > 0 ? permuted_source_row(r, head_dim) : r;
        const uint8_t *src = p.source->data + static_cast<size_t>(src_row) * in_row;
        if (p.source->type == p.type) {
            std::memcpy(dst, src, in_row); // the same type: the bytes as they are
            continue;
        }
        from.dequantize(src, row.data(), n);
        to.quantize(row.data(), dst, n, nullptr, search);
    }
}

} // namespace lb::convert
