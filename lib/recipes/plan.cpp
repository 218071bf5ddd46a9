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

// llama.cpp's tensor_requires_imatrix.
bool requires_imatrix(const std::string &name, lb_type type, lb_ftype ftype) {
    if (name == "token_embd.weight" || name == "per_layer_token_embd.weight" || name == "output.weight")
        return false;
    switch (type) {
    case LB_TYPE_IQ3_XXS:
    case LB_TYPE_IQ2_XXS:
    case LB_TYPE_IQ2_XS:
    case LB_TYPE_IQ2_S:
    case LB_TYPE_IQ1_M:
    case LB_TYPE_IQ1_S: return true;
    case LB_TYPE_Q2_K: return ftype == LB_FTYPE_Q2_K_S;
    default: return false;
    }
}

// A type the user chose must hold the tensor as it is.
void check_fits(const gguf::TensorInfo &t, lb_type type, const char *what, const std::string &path) {
    const int64_t block = formats::traits(type).block_size;
    if (block > 0 && t.ne[0] % block != 0)
        fail(LB_E_INVALID_ARG,
             "%s: tensor '%s': %s %s needs rows that are a multiple of %lld wide, but this tensor's rows are "
             "%lld wide",
             path.c_str(), t.name.c_str(), what, formats::traits(type).name, static_cast<long long>(block),
             static_cast<long long>(t.ne[0]));
}

} // namespace

std::vector<TensorPlan> make_plan(const std::vector<gguf::TensorInfo> &tensors, const ModelFacts &facts,
                                  const PlanOptions &options, const std::string &path) {
    const FtypeInfo *ft = ftype_info(options.ftype);
    if (ft == nullptr) fail(LB_E_INVALID_ARG, "%d is not a file type", static_cast<int>(options.ftype));
    const lb_type default_type = ft->default_type;
    const size_t n = tensors.size();
    std::vector<TensorPlan> plan(n);

    bool tied = true;
    int n_wv = 0;
    for (const gguf::TensorInfo &t : tensors) {
        const Category c = category_of(t.name);
        if (c == Category::Output) tied = false;
        if (is_attn_v_like(c)) ++n_wv;
    }
    // llama.cpp visits tensors by layer then name (by shard and offset with
    // --keep-split); its counters advance in that order
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    if (!options.visit_in_file_order)
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return weight_name_less(tensors[a].name, tensors[b].name);
        });

    const int n_expert = std::max(1, facts.n_expert);
    int i_wv = 0, i_ffn_down = 0, i_ffn_gate = 0, i_ffn_up = 0;
    for (size_t idx : order) {
        const gguf::TensorInfo &t = tensors[idx];
        TensorPlan &p = plan[idx];
        p.type = static_cast<lb_type>(t.type);
        p.may_quantize = !options.only_copy && allows_quantization(t.name, t.n_dims, options.quantize_output);
        if (!p.may_quantize) continue;
        const Category cat = category_of(t.name);

        lb_type type = default_type;
        if (options.token_embd_type != LB_TYPE_NONE && cat == Category::TokenEmbd) {
            // per_layer_token_embd follows it unless a --tensor-type pattern names it
            bool named = false;
            if (t.name == "per_layer_token_embd.weight")
                for (const TypePattern &tp : options.tensor_types)
                    named = named || std::regex_search(t.name, tp.regex);
            if (!named) {
                check_fits(t, options.token_embd_type, "--token-embedding-type", path);
                p.type = options.token_embd_type;
                p.requires_imatrix = requires_imatrix(t.name, p.type, options.ftype);
                continue;
            }
        }
        if (options.output_type != LB_TYPE_NONE && cat == Category::Output) {
            check_fits(t, options.output_type, "--output-tensor-type", path);
            p.type = options.output_type;
            p.requires_imatrix = requires_imatrix(t.name, p.type, options.ftype);
            continue;
        }
        if (formats::traits(default_type).quantized) {
            bool manual = false;
            for (const TypePattern &tp : options.tensor_types)
                if (std::regex_search(t.name, tp.regex)) {
                    type = tp.type;
                    manual = true;
                    break;
                }
            if (!manual && !options.pure) {
                RuleContext ctx{};
                ctx.ftype = options.ftype;
                ctx.default_type = default_type;
                ctx.category = cat;
                ctx.model = &facts;
                ctx.has_imatrix = options.has_imatrix;
                ctx.ncols = t.ne[0];
                ctx.n_experts_in_tensor = t.ne[2];
                ctx.n_wv = n_wv;
                ctx.i_wv = i_wv;
                ctx.n_ffn_down = facts.n_layer;
                ctx.i_ffn_down = i_ffn_down;
                ctx.n_layer = facts.n_layer;
                // the layer of an ffn tensor: its counter, or its name with experts
                const int counter = cat == Category::FfnDown   ? i_ffn_down
                                    : cat == Category::FfnGate ? i_ffn_gate
                                                               : i_ffn_up;
                ctx.i_layer = counter;
                const Stage stage = stage_of(options.ftype, cat, tied);
                if (n_expert > 1 && stage == Stage::Regular &&
                    (cat == Category::FfnDown || cat == Category::FfnGate || cat == Category::FfnUp)) {
                    const int layer = layer_of(t.name);
                    if (layer < 0 || layer >= facts.n_layer)
                        fail(LB_E_FORMAT,
                             "%s: tensor '%s': cannot tell its layer (must be blk.N. with N below %d)",
                             path.c_str(), t.name.c_str(), facts.n_layer);
                    ctx.i_layer = layer;
                }
                type = apply_mixture(stage, ctx);
                // the counters llama.cpp advances in these stages
                if (stage == Stage::LowBit || stage == Stage::Regular) {
                    if (is_attn_v_like(cat)) ++i_wv;
                    if (cat == Category::FfnDown) ++i_ffn_down;
                }
                if (stage == Stage::Regular) {
                    if (cat == Category::FfnGate) ++i_ffn_gate;
                    if (cat == Category::FfnUp) ++i_ffn_up;
                }
            }
            const lb_type to = fallback_type(type, t.ne[0]);
            if (to == LB_TYPE_NONE)
                fail(LB_E_UNSUPPORTED,
                     "%s: tensor '%s': row width %lld does not fit type %s and llama.cpp defines no fallback "
                     "for it",
                     path.c_str(), t.name.c_str(), static_cast<long long>(t.ne[0]),
                     formats::traits(type).name);
            if (to != type) {
                p.fallback = true;
                p.note = strformat(
                    "%s: row width %lld is not a multiple of %lld (required for %s), falling back to %s",
                    t.name.c_str(), static_cast<long long>(t.ne[0]),
                    static_cast<long long>(formats::traits(type).block_size), formats::traits(type).name,
                    formats::traits(to).name);
                type = to;
            }
        }
        p.type = type;
        p.requires_imatrix = requires_imatrix(t.name, type, options.ftype);
    }
    return plan;
}

} // namespace lb::recipes
