#include "recipes/plan.hpp"

#include "common/error.hpp"
#include "formats/type_traits.hpp"
#include "recipes/fallback.hpp"
#include "recipes/ftype.hpp"
#include "recipes/tensor_category.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace lb::recipes {

namespace {

bool read_uint(const gguf::Header &h, const std::string &key, uint64_t *out) {
    const long i = gguf::find_key(h.kvs, key);
    if (i < 0) return false;
    const gguf::Value &v = h.kvs[static_cast<size_t>(i)].value;
    uint64_t x = 0;
    switch (v.type) {
    case gguf::ValueType::U8: x = v.bytes[0]; break;
    case gguf::ValueType::U16: {
        uint16_t t;
        std::memcpy(&t, v.bytes.data(), 2);
        x = t;
        break;
    }
    case gguf::ValueType::U32: {
        uint32_t t;
        std::memcpy(&t, v.bytes.data(), 4);
        x = t;
        break;
    }
    case gguf::ValueType::I32: {
        int32_t t;
        std::memcpy(&t, v.bytes.data(), 4);
        if (t < 0) return false;
        x = static_cast<uint64_t>(t);
        break;
    }
    case gguf::ValueType::U64: std::memcpy(&x, v.bytes.data(), 8); break;
    default: return false;
    }
    *out = x;
    return true;
}

// The mixture: llama.cpp's per-tensor choice for a file type, before the
// shape fallback. `i_layer`/`n_layer` locate ffn_down tensors.
lb_type mixture_type(const PlanOptions &o, const ModelFacts &facts, lb_type default_type, Category cat,
                     bool tied_embeddings, const gguf::TensorInfo &t, int i_ffn_down) {
    lb_type type = default_type;
    if (cat == Category::Output || (tied_embeddings && cat == Category::TokenEmbd)) {
        const int64_t block = formats::traits(default_type).block_size;
        if (facts.arch == "falcon" || t.ne[0] % block != 0) type = LB_TYPE_Q8_0;
        else if (default_type != LB_TYPE_Q8_0) type = LB_TYPE_Q6_K;
        return type;
    }
    if (cat == Category::FfnDown) {
        // guard against the first ffn_down layers going wrong at 4-5 bits
        if ((o.ftype == LB_FTYPE_Q4_0 || o.ftype == LB_FTYPE_Q5_0) && o.has_imatrix &&
            i_ffn_down < facts.n_layer / 8)
            type = o.ftype == LB_FTYPE_Q4_0 ? LB_TYPE_Q4_1 : LB_TYPE_Q5_1;
    }
    return type;
}

} // namespace

ModelFacts model_facts(const gguf::Header &header) {
    ModelFacts f;
    const long a = gguf::find_key(header.kvs, "general.architecture");
    if (a >= 0 && header.kvs[static_cast<size_t>(a)].value.type == gguf::ValueType::STRING)
        f.arch = header.kvs[static_cast<size_t>(a)].value.strings[0];
    uint64_t n = 0;
    if (!f.arch.empty() && read_uint(header, f.arch + ".block_count", &n) && n < 1000000) f.n_layer = static_cast<int>(n);
    return f;
}

std::vector<TensorPlan> make_plan(const gguf::Header &header, const PlanOptions &options, const std::string &path) {
    const FtypeInfo *ft = ftype_info(options.ftype);
    if (ft == nullptr) fail(LB_E_INVALID_ARG, "%d is not a file type", static_cast<int>(options.ftype));
    const lb_type default_type = ft->default_type;
    const ModelFacts facts = model_facts(header);

    const size_t n = header.tensors.size();
    std::vector<TensorPlan> plan(n);
    bool tied = true;
    for (const gguf::TensorInfo &t : header.tensors)
        if (category_of(t.name) == Category::Output) tied = false;

    // llama.cpp visits tensors in weight_name_less order; its counters
    // (ffn_down layer index) advance in that order.
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return weight_name_less(header.tensors[a].name, header.tensors[b].name);
    });

    int i_ffn_down = 0;
    for (size_t idx : order) {
        const gguf::TensorInfo &t = header.tensors[idx];
        TensorPlan &p = plan[idx];
        p.type = static_cast<lb_type>(t.type);
        p.may_quantize = allows_quantization(t.name, t.n_dims, options.quantize_output);
        if (!p.may_quantize) continue;
        lb_type type = default_type;
        if (formats::traits(default_type).quantized) {
            const Category cat = category_of(t.name);
            type = mixture_type(options, facts, default_type, cat, tied, t, i_ffn_down);
            if (cat == Category::FfnDown) ++i_ffn_down;
            const lb_type to = fallback_type(type, t.ne[0]);
            if (to == LB_TYPE_COUNT)
                fail(LB_E_UNSUPPORTED, "%s: tensor '%s': row width %lld does not fit type %s and no fallback is defined",
                     path.c_str(), t.name.c_str(), static_cast<long long>(t.ne[0]), formats::traits(type).name);
            if (to != type) {
                p.fallback = true;
                p.note = strformat("%s: row width %lld is not a multiple of %lld (required for %s), falling back to %s",
                                   t.name.c_str(), static_cast<long long>(t.ne[0]),
                                   static_cast<long long>(formats::traits(type).block_size),
                                   formats::traits(type).name, formats::traits(to).name);
                type = to;
            }
        }
        p.type = type;
    }
    return plan;
}

} // namespace lb::recipes
