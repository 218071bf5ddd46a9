#include "session/weights.hpp"

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "formats/tiled_layouts.hpp"
#include "formats/type_traits.hpp"
#include "kernels/dot_kernels.hpp"

#include <cstring>
#include <unordered_map>

namespace lb::session {

namespace {

class Lookup {
  public:
    Lookup(const Model &m, Weights &w) : model_(m), weights_(w) {
        for (const Model::Tensor &t : m.tensors()) by_name_[t.info->name] = &t;
    }

    const Model::Tensor *find(const std::string &name) const {
        const auto it = by_name_.find(name);
        return it == by_name_.end() ? nullptr : it->second;
    }

    const Model::Tensor &get(const std::string &name) const {
        const Model::Tensor *t = find(name);
        if (t == nullptr)
            fail(LB_E_FORMAT, "%s: tensor '%s' is missing", model_.path().c_str(), name.c_str());
        return *t;
    }

    // The tensor's data as the file holds it, copied to aligned memory if the
    // file placed it at an address its blocks cannot be read from.
    const uint8_t *file_data(const Model::Tensor &t) {
        if (reinterpret_cast<uintptr_t>(t.data) % 4 == 0) return t.data;
        auto copy = std::make_unique<uint8_t[]>(t.info->size);
        std::memcpy(copy.get(), t.data, t.info->size);
        weights_.copies.push_back(std::move(copy));
        return weights_.copies.back().get();
    }

    // The tensor in the standard layout: its type (a tiled extension type's
    // base type) and its data (for a tiled tensor, an unpacked copy).
    static lb_type standard_type(const Model::Tensor &t) {
        const formats::Layout l = formats::layout_of_file_type(t.info->type);
        return l == formats::Layout::standard ? static_cast<lb_type>(t.info->type)
                                              : formats::layout_traits(l).base;
    }
    const uint8_t *data(const Model::Tensor &t) {
        const formats::Layout l = formats::layout_of_file_type(t.info->type);
        if (l == formats::Layout::standard) return file_data(t);
        const int64_t n = t.info->ne[0], group = formats::layout_traits(l).rows;
        const size_t group_bytes =
            formats::row_bytes(formats::layout_traits(l).base, n) * static_cast<size_t>(group);
        auto copy = std::make_unique<uint8_t[]>(t.info->size);
        const uint8_t *tiled = file_data(t);
        for (int64_t g = 0; g < t.info->ne[1] / group; ++g)
            formats::deinterleave(l, n, tiled + static_cast<size_t>(g) * group_bytes,
                                  copy.get() + static_cast<size_t>(g) * group_bytes);
        weights_.copies.push_back(std::move(copy));
        return weights_.copies.back().get();
    }

    [[noreturn]] void wrong_shape(const Model::Tensor &t, const std::string &expected) const {
        std::string shape;
        for (uint32_t d = 0; d < t.info->n_dims; ++d)
            shape += strformat(d ? ", %lld" : "%lld", static_cast<long long>(t.info->ne[d]));
        fail(LB_E_FORMAT, "%s: tensor '%s' has shape [%s], expected %s", model_.path().c_str(),
             t.info->name.c_str(), shape.c_str(), expected.c_str());
    }

    Matrix matrix(const std::string &name, int64_t n_in, int64_t n_out, int layer, bool optional = false) {
        const Model::Tensor *t = find(name);
        if (t == nullptr) {
            if (optional) return {};
            get(name); // throws "missing"
        }
        const gguf::TensorInfo &i = *t->info;
        if (i.ne[0] != n_in || i.ne[1] != n_out || i.ne[2] != 1 || i.ne[3] != 1)
            wrong_shape(
                *t, strformat("[%lld, %lld]", static_cast<long long>(n_in), static_cast<long long>(n_out)));
        const lb_type type = standard_type(*t);
        if (kernels::reference_dot().by_type[type].tile == nullptr)
            fail(LB_E_UNSUPPORTED, "%s: tensor '%s' has type %s, which lowbit's sessions cannot multiply yet",
                 model_.path().c_str(), name.c_str(), formats::traits(i.type).name);
        Matrix m;
        m.name = name;
        m.layer = layer;
        m.w = {.type = type,
               .n = n_in,
               .rows = n_out,
               .data = data(*t),
               .row_bytes = formats::row_bytes(type, n_in)};
        const formats::Layout layout = formats::layout_of_file_type(i.type);
        if (layout != formats::Layout::standard) { // the file's tiled bytes, for the sets with its kernel
            m.tiled = m.w;
            m.tiled.data = file_data(*t);
            m.tiled.layout = layout;
        }
        return m;
    }

    std::vector<float> vector(const std::string &name, int64_t n, bool optional = false) {
        const Model::Tensor *t = find(name);
        if (t == nullptr) {
            if (optional) return {};
            get(name);
        }
        const gguf::TensorInfo &i = *t->info;
        if (i.ne[0] != n || i.ne[1] != 1 || i.ne[2] != 1 || i.ne[3] != 1)
            wrong_shape(*t, strformat("[%lld]", static_cast<long long>(n)));
        const formats::TypeTraits &tt = formats::traits(i.type);
        if (tt.dequantize == nullptr)
            fail(LB_E_UNSUPPORTED, "%s: tensor '%s' has type %s, which lowbit cannot read",
                 model_.path().c_str(), name.c_str(), tt.name);
        std::vector<float> out(static_cast<size_t>(n));
        tt.dequantize(data(*t), out.data(), n);
        return out;
    }

  private:
    const Model &model_;
    Weights &weights_;
    std::unordered_map<std::string, const Model::Tensor *> by_name_;
};

} // namespace

Weights load_weights(const Model &model, const ModelConfig &c) {
    Weights w;
    w.layers.resize(static_cast<size_t>(c.n_layer));
    Lookup l(model, w);
    const int64_t n_q = static_cast<int64_t>(c.n_head) * c.head_dim,
                  n_kv = static_cast<int64_t>(c.n_head_kv) * c.head_dim;

    // the vocabulary size is the embedding's row count
    const Model::Tensor &embd = l.get("token_embd.weight");
    if (embd.info->ne[0] != c.n_embd || embd.info->ne[1] < 1 || embd.info->ne[2] != 1 ||
        embd.info->ne[3] != 1)
        l.wrong_shape(embd, strformat("[%d, n_vocab]", c.n_embd));
    const int64_t n_vocab = embd.info->ne[1];
    const lb_type embd_type = Lookup::standard_type(embd);
    if (formats::traits(embd_type).dequantize == nullptr)
        fail(LB_E_UNSUPPORTED, "%s: tensor 'token_embd.weight' has type %s, which lowbit cannot read",
             model.path().c_str(), formats::traits(embd.info->type).name);
    w.token_embd.name = "token_embd.weight";
    w.token_embd.w = {.type = embd_type,
                      .n = c.n_embd,
                      .rows = n_vocab,
                      .data = l.data(embd),
                      .row_bytes = formats::row_bytes(embd_type, c.n_embd)};
    w.output = l.matrix("output.weight", c.n_embd, n_vocab, -1, true);
    if (!w.output) w.output = l.matrix("token_embd.weight", c.n_embd, n_vocab, -1); // tied
    w.output_norm = l.vector("output_norm.weight", c.n_embd);
    w.rope_freqs = l.vector("rope_freqs.weight", c.rope.n_rot / 2, true);

    for (int i = 0; i < c.n_layer; ++i) {
        Layer &L = w.layers[static_cast<size_t>(i)];
        const std::string p = strformat("blk.%d.", i);
        L.attn_norm = l.vector(p + "attn_norm.weight", c.n_embd);
        L.ffn_norm = l.vector(p + "ffn_norm.weight", c.n_embd);
        L.q = l.matrix(p + "attn_q.weight", c.n_embd, n_q, i);
        L.k = l.matrix(p + "attn_k.weight", c.n_embd, n_kv, i);
        L.v = l.matrix(p + "attn_v.weight", c.n_embd, n_kv, i);
        L.o = l.matrix(p + "attn_output.weight", n_q, c.n_embd, i);
        L.gate = l.matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff, i);
        L.up = l.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff, i);
        L.down = l.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd, i);
        const bool biases = c.arch == Arch::Qwen2; // required there, optional elsewhere
        L.q_bias = l.vector(p + "attn_q.bias", n_q, !biases);
        L.k_bias = l.vector(p + "attn_k.bias", n_kv, !biases);
        L.v_bias = l.vector(p + "attn_v.bias", n_kv, !biases);
        L.o_bias = l.vector(p + "attn_output.bias", c.n_embd, true);
        if (c.arch == Arch::Qwen3) {
            L.q_norm = l.vector(p + "attn_q_norm.weight", c.head_dim);
            L.k_norm = l.vector(p + "attn_k_norm.weight", c.head_dim);
        }
    }
    return w;
}

namespace {

void repack(Matrix &m, const kernels::DotKernels &dot, int n_threads, Weights &weights,
            const std::function<void(const uint8_t *, size_t)> &release) {
    const formats::Layout layout = formats::tiled_layout_of(m.w.type);
    if (!m || m.tiled.data != nullptr || layout == formats::Layout::standard ||
        dot.tiled[static_cast<int>(layout)] == nullptr)
        return;
    const int64_t group = formats::layout_traits(layout).rows;
    if (m.w.rows % group != 0) return;
    const size_t group_bytes = m.w.row_bytes * static_cast<size_t>(group);
    auto copy = std::make_unique<uint8_t[]>(group_bytes * static_cast<size_t>(m.w.rows / group));
    uint8_t *out = copy.get();
    parallel_for(n_threads, m.w.rows / group, 8, [&](int64_t g0, int64_t g1) {
        for (int64_t g = g0; g < g1; ++g)
            formats::interleave(layout, m.w.n, m.w.data + static_cast<size_t>(g) * group_bytes,
                                out + static_cast<size_t>(g) * group_bytes);
    });
    m.tiled = m.w;
    m.tiled.data = out;
    m.tiled.layout = layout;
    weights.repacked.push_back(std::move(copy));
    release(m.w.data, group_bytes * static_cast<size_t>(m.w.rows / group));
}

template <typename Fn> void each_matrix(Weights &w, Fn &&fn) {
    fn(w.output);
    for (Layer &L : w.layers)
        for (Matrix *m : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) fn(*m);
}

} // namespace

void repack_for(Weights &w, const kernels::DotKernels &dot, int n_threads,
                const std::function<void(const uint8_t *, size_t)> &release) {
    each_matrix(w, [&](Matrix &m) { repack(m, dot, n_threads, w, release); });
}

void drop_repacked(Weights &w) {
    each_matrix(w, [](Matrix &m) { m.tiled = {}; });
    w.repacked.clear();
}

const kernels::WeightMatrix &layout_for(const Matrix &m, const kernels::DotKernels &dot) {
    return m.tiled.data != nullptr && dot.tiled[static_cast<int>(m.tiled.layout)] != nullptr ? m.tiled : m.w;
}

} // namespace lb::session
