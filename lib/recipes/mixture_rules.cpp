// The mixture rules of llama.cpp's llama-quantize (src/llama-quant.cpp,
// llama_tensor_get_type_impl), as one table. For a tensor, the rules of its
// stage and category are tried in order; the first whose file type and
// condition match gives the type, and the tensor keeps the file type's
// default type if none does. Rules marked ADJUST then apply in order to the
// type chosen so far.
//
// (llama.cpp also has attn_qkv rules, but its attn_v branch, which includes
// attn_qkv, is tested first, so they never apply; they are left out.)
#include "formats/type_traits.hpp"
#include "recipes/mixture.hpp"

#include <vector>

namespace lb::recipes {

namespace {

// Which tensors of a stage a rule is for.
enum class Match { Any, AttnVLike, AttnK, AttnQ, AttnOutput, FfnDown, FfnGate, FfnUp };

using When = bool (*)(const RuleContext &);

struct Rule {
    Stage stage;
    Match match;
    std::vector<lb_ftype> ftypes; // empty: any file type
    When when;                    // nullptr: always
    lb_type type;
    bool adjust = false;
};

constexpr bool ADJUST = true;

// --- conditions -------------------------------------------------------------
bool gqa4(const RuleContext &c) {
    return c.model->n_gqa() >= 4;
}
bool gqa4_or_experts4(const RuleContext &c) {
    return c.model->n_gqa() >= 4 || c.model->n_expert >= 4;
}
bool experts8(const RuleContext &c) {
    return c.model->n_expert == 8;
}
bool not_experts8_not_falcon(const RuleContext &c) {
    return c.model->n_expert != 8 && !c.model->falcon();
}
bool experts8_not_falcon(const RuleContext &c) {
    return c.model->n_expert == 8 && !c.model->falcon();
}
bool falcon(const RuleContext &c) {
    return c.model->falcon();
}
bool no_imatrix(const RuleContext &c) {
    return !c.has_imatrix;
}
bool first_eighth(const RuleContext &c) {
    return c.i_layer < c.n_layer / 8;
}
bool first_sixteenth(const RuleContext &c) {
    return c.i_layer < c.n_layer / 16;
}
bool more_bits(const RuleContext &c) {
    return use_more_bits(c.i_layer, c.n_layer);
}
bool middle_layers(const RuleContext &c) {
    return c.i_layer >= c.n_layer / 8 && c.i_layer < 7 * c.n_layer / 8;
}
bool not_falcon_or_more_bits(const RuleContext &c) {
    return !c.model->falcon() || more_bits(c);
}
bool falcon_first_sixteenth(const RuleContext &c) {
    return c.model->falcon() && first_sixteenth(c);
}
bool falcon_more_bits(const RuleContext &c) {
    return c.model->falcon() && more_bits(c);
}
bool not_falcon_more_bits(const RuleContext &c) {
    return !c.model->falcon() && more_bits(c);
}
bool not_falcon_first_eighth(const RuleContext &c) {
    return !c.model->falcon() && first_eighth(c);
}
bool no_imatrix_first_eighth(const RuleContext &c) {
    return !c.has_imatrix && first_eighth(c);
}
bool imatrix_first_eighth(const RuleContext &c) {
    return c.has_imatrix && first_eighth(c);
}
bool first_eighth_or_experts8_more_bits(const RuleContext &c) {
    return first_eighth(c) || (c.model->n_expert == 8 && more_bits(c));
}
bool counter_first_eighth(const RuleContext &c) {
    return c.i_ffn_down < c.n_ffn_down / 8;
}
bool wv_first_2(const RuleContext &c) {
    return c.i_wv < 2;
}
bool wv_first_4(const RuleContext &c) {
    return c.i_wv < 4;
}
bool wv_more_bits(const RuleContext &c) {
    return use_more_bits(c.i_wv, c.n_wv);
}
bool output_misfit(const RuleContext &c) {
    return c.model->falcon() || c.ncols % formats::traits(c.default_type).block_size != 0;
}
bool default_not_q8_0(const RuleContext &c) {
    return c.default_type != LB_TYPE_Q8_0;
}
bool expert_tensor(const RuleContext &c) {
    const bool ffn =
        c.category == Category::FfnUp || c.category == Category::FfnGate || c.category == Category::FfnDown;
    return c.n_experts_in_tensor > 1 && (c.model->arch != "bailingmoe3" || ffn);
}
bool is_70b_q3_or_q4(const RuleContext &c) {
    return c.model->is_70b && (c.current == LB_TYPE_Q3_K || c.current == LB_TYPE_Q4_K);
}

// --- the table --------------------------------------------------------------
using enum Stage;
using enum Match;

const std::vector<Rule> &rules() {
    static const std::vector<Rule> table = {
        // output.weight (or the tied token_embd.weight)
        {Output, Any, {LB_FTYPE_MXFP4_MOE}, nullptr, LB_TYPE_Q8_0},
        {Output, Any, {}, output_misfit, LB_TYPE_Q8_0},
        {Output,
         Any,
         {LB_FTYPE_IQ2_XXS, LB_FTYPE_IQ2_XS, LB_FTYPE_IQ3_XXS, LB_FTYPE_IQ1_S, LB_FTYPE_IQ2_S, LB_FTYPE_IQ2_M,
          LB_FTYPE_IQ1_M},
         nullptr,
         LB_TYPE_Q5_K},
        {Output, Any, {}, default_not_q8_0, LB_TYPE_Q6_K},

        // MXFP4_MOE: expert tensors MXFP4, the rest Q8_0
        {MoeFtype, Any, {}, expert_tensor, LB_TYPE_MXFP4},
        {MoeFtype, Any, {}, nullptr, LB_TYPE_Q8_0},

        // token_embd.weight
        {TokenEmbd,
         Any,
         {LB_FTYPE_IQ2_XXS, LB_FTYPE_IQ2_XS, LB_FTYPE_IQ1_S, LB_FTYPE_IQ1_M},
         nullptr,
         LB_TYPE_Q2_K},
        {TokenEmbd, Any, {LB_FTYPE_IQ2_S, LB_FTYPE_IQ2_M, LB_FTYPE_IQ3_XXS}, nullptr, LB_TYPE_IQ3_S},
        {TokenEmbd, Any, {LB_FTYPE_TQ1_0, LB_FTYPE_TQ2_0, LB_FTYPE_Q2_0}, nullptr, LB_TYPE_Q4_K},

        // IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ2_M
        {LowBit, AttnVLike, {}, gqa4_or_experts4, LB_TYPE_Q4_K},
        {LowBit, AttnVLike, {LB_FTYPE_IQ2_S, LB_FTYPE_IQ2_M}, nullptr, LB_TYPE_IQ3_S},
        {LowBit, AttnVLike, {}, nullptr, LB_TYPE_Q2_K},
        {LowBit, AttnK, {}, experts8, LB_TYPE_Q4_K},
        {LowBit, FfnDown, {LB_FTYPE_IQ2_S, LB_FTYPE_IQ2_M}, counter_first_eighth, LB_TYPE_IQ3_S},
        {LowBit, FfnDown, {}, counter_first_eighth, LB_TYPE_Q2_K},
        {LowBit, AttnOutput, {}, experts8, LB_TYPE_Q5_K},
        {LowBit, AttnOutput, {LB_FTYPE_IQ1_S, LB_FTYPE_IQ1_M}, nullptr, LB_TYPE_IQ2_XXS},
        {LowBit, AttnOutput, {LB_FTYPE_IQ2_S, LB_FTYPE_IQ2_M}, nullptr, LB_TYPE_IQ3_S},

        // attn_v, attn_qkv, attn_kv_b
        {Regular, AttnVLike, {LB_FTYPE_Q2_K}, gqa4, LB_TYPE_Q4_K},
        {Regular, AttnVLike, {LB_FTYPE_Q2_K}, nullptr, LB_TYPE_Q3_K},
        {Regular, AttnVLike, {LB_FTYPE_Q2_K_S}, gqa4, LB_TYPE_Q4_K},
        {Regular, AttnVLike, {LB_FTYPE_IQ3_XXS}, gqa4, LB_TYPE_Q4_K},
        {Regular, AttnVLike, {LB_FTYPE_IQ3_XXS}, no_imatrix, LB_TYPE_IQ3_S},
        {Regular, AttnVLike, {LB_FTYPE_IQ3_XXS}, nullptr, LB_TYPE_IQ3_XXS},
        {Regular, AttnVLike, {LB_FTYPE_IQ3_XS, LB_FTYPE_IQ3_S}, gqa4, LB_TYPE_Q4_K},
        {Regular, AttnVLike, {LB_FTYPE_IQ3_M}, nullptr, LB_TYPE_Q4_K},
        {Regular, AttnVLike, {LB_FTYPE_Q3_K_M}, wv_first_2, LB_TYPE_Q5_K},
        {Regular, AttnVLike, {LB_FTYPE_Q3_K_M}, nullptr, LB_TYPE_Q4_K},
        {Regular, AttnVLike, {LB_FTYPE_Q3_K_L}, nullptr, LB_TYPE_Q5_K},
        {Regular, AttnVLike, {LB_FTYPE_IQ4_NL, LB_FTYPE_IQ4_XS}, gqa4, LB_TYPE_Q5_K},
        {Regular, AttnVLike, {LB_FTYPE_Q4_K_M, LB_FTYPE_Q5_K_M}, wv_more_bits, LB_TYPE_Q6_K},
        {Regular, AttnVLike, {LB_FTYPE_Q4_K_S}, wv_first_4, LB_TYPE_Q5_K},
        {Regular, AttnVLike, {}, is_70b_q3_or_q4, LB_TYPE_Q5_K, ADJUST},
        {Regular, AttnVLike, {}, experts8, LB_TYPE_Q8_0, ADJUST},

        // attn_k, attn_q
        {Regular, AttnK, {}, experts8, LB_TYPE_Q8_0},
        {Regular, AttnK, {LB_FTYPE_IQ3_XS}, nullptr, LB_TYPE_IQ3_XXS},
        {Regular, AttnK, {LB_FTYPE_IQ3_XXS}, nullptr, LB_TYPE_IQ2_S},
        {Regular, AttnQ, {LB_FTYPE_IQ3_XS}, nullptr, LB_TYPE_IQ3_XXS},
        {Regular, AttnQ, {LB_FTYPE_IQ3_XXS}, nullptr, LB_TYPE_IQ2_S},

        // ffn_down (by layer)
        {Regular, FfnDown, {LB_FTYPE_Q2_K}, nullptr, LB_TYPE_Q3_K},
        {Regular, FfnDown, {LB_FTYPE_Q2_K_S}, first_eighth, LB_TYPE_Q4_K},
        {Regular, FfnDown, {LB_FTYPE_IQ3_XXS}, no_imatrix_first_eighth, LB_TYPE_Q4_K},
        {Regular, FfnDown, {LB_FTYPE_IQ3_XXS}, no_imatrix, LB_TYPE_Q3_K},
        {Regular, FfnDown, {LB_FTYPE_Q3_K_M}, first_sixteenth, LB_TYPE_Q5_K},
        {Regular, FfnDown, {LB_FTYPE_Q3_K_M}, not_falcon_or_more_bits, LB_TYPE_Q4_K},
        {Regular, FfnDown, {LB_FTYPE_Q3_K_M}, nullptr, LB_TYPE_Q3_K},
        {Regular, FfnDown, {LB_FTYPE_IQ3_M}, first_eighth_or_experts8_more_bits, LB_TYPE_Q4_K},
        {Regular, FfnDown, {LB_FTYPE_Q3_K_L}, falcon, LB_TYPE_Q4_K},
        {Regular, FfnDown, {LB_FTYPE_Q3_K_L}, nullptr, LB_TYPE_Q5_K},
        {Regular, FfnDown, {LB_FTYPE_Q4_K_M}, falcon_first_sixteenth, LB_TYPE_Q6_K},
        {Regular, FfnDown, {LB_FTYPE_Q4_K_M}, falcon_more_bits, LB_TYPE_Q5_K},
        {Regular, FfnDown, {LB_FTYPE_Q4_K_M}, falcon, LB_TYPE_Q4_K},
        {Regular, FfnDown, {LB_FTYPE_Q4_K_M}, not_falcon_more_bits, LB_TYPE_Q6_K},
        {Regular, FfnDown, {LB_FTYPE_IQ4_NL, LB_FTYPE_IQ4_XS}, no_imatrix_first_eighth, LB_TYPE_Q5_K},
        {Regular, FfnDown, {LB_FTYPE_Q5_K_M}, more_bits, LB_TYPE_Q6_K},
        {Regular, FfnDown, {LB_FTYPE_Q4_K_S}, not_falcon_first_eighth, LB_TYPE_Q5_K},
        {Regular, FfnDown, {LB_FTYPE_Q4_0}, imatrix_first_eighth, LB_TYPE_Q4_1},
        {Regular, FfnDown, {LB_FTYPE_Q5_0}, imatrix_first_eighth, LB_TYPE_Q5_1},

        // attn_output
        {Regular,
         AttnOutput,
         {LB_FTYPE_Q2_K, LB_FTYPE_IQ3_XS, LB_FTYPE_IQ3_XXS, LB_FTYPE_Q3_K_S, LB_FTYPE_Q3_K_M, LB_FTYPE_IQ4_NL,
          LB_FTYPE_Q4_K_S, LB_FTYPE_Q4_K_M, LB_FTYPE_IQ3_S, LB_FTYPE_IQ3_M, LB_FTYPE_IQ4_XS},
         experts8_not_falcon,
         LB_TYPE_Q5_K},
        {Regular, AttnOutput, {LB_FTYPE_Q2_K}, not_experts8_not_falcon, LB_TYPE_Q3_K},
        {Regular, AttnOutput, {LB_FTYPE_IQ3_XXS}, not_experts8_not_falcon, LB_TYPE_IQ3_S},
        {Regular, AttnOutput, {LB_FTYPE_Q3_K_M}, not_experts8_not_falcon, LB_TYPE_Q4_K},
        {Regular, AttnOutput, {LB_FTYPE_Q3_K_L}, not_experts8_not_falcon, LB_TYPE_Q5_K},
        {Regular, AttnOutput, {LB_FTYPE_IQ3_M}, not_experts8_not_falcon, LB_TYPE_Q4_K},
        {Regular, AttnOutput, {LB_FTYPE_Q3_K_L}, falcon, LB_TYPE_Q4_K},

        // ffn_gate, ffn_up (by layer)
        {Regular, FfnGate, {LB_FTYPE_IQ3_XS}, middle_layers, LB_TYPE_IQ3_XXS},
        {Regular, FfnUp, {LB_FTYPE_IQ3_XS}, middle_layers, LB_TYPE_IQ3_XXS},
    };
    return table;
}

bool matches(Match m, Category c) {
    switch (m) {
    case Match::Any: return true;
    case Match::AttnVLike: return is_attn_v_like(c);
    case Match::AttnK: return c == Category::AttentionK;
    case Match::AttnQ: return c == Category::AttentionQ;
    case Match::AttnOutput: return c == Category::AttentionOutput;
    case Match::FfnDown: return c == Category::FfnDown;
    case Match::FfnGate: return c == Category::FfnGate;
    case Match::FfnUp: return c == Category::FfnUp;
    }
    return false;
}

bool applies(const Rule &r, Stage stage, const RuleContext &ctx) {
    if (r.stage != stage || !matches(r.match, ctx.category)) return false;
    bool ftype_ok = r.ftypes.empty();
    for (lb_ftype f : r.ftypes) ftype_ok = ftype_ok || f == ctx.ftype;
    return ftype_ok && (r.when == nullptr || r.when(ctx));
}

bool is_low_bit(lb_ftype f) {
    return f == LB_FTYPE_IQ2_XXS || f == LB_FTYPE_IQ2_XS || f == LB_FTYPE_IQ1_S || f == LB_FTYPE_IQ2_S ||
           f == LB_FTYPE_IQ2_M || f == LB_FTYPE_IQ1_M;
}

} // namespace

Stage stage_of(lb_ftype ftype, Category category, bool tied_output) {
    if (category == Category::Output || (tied_output && category == Category::TokenEmbd))
        return Stage::Output;
    if (ftype == LB_FTYPE_MXFP4_MOE) return Stage::MoeFtype;
    if (category == Category::TokenEmbd) return Stage::TokenEmbd;
    if (is_low_bit(ftype)) return Stage::LowBit;
    return Stage::Regular;
}

lb_type apply_mixture(Stage stage, const RuleContext &context) {
    RuleContext ctx = context;
    ctx.current = ctx.default_type;
    for (const Rule &r : rules())
        if (!r.adjust && applies(r, stage, ctx)) {
            ctx.current = r.type;
            break;
        }
    for (const Rule &r : rules())
        if (r.adjust && applies(r, stage, ctx)) ctx.current = r.type;
    return ctx.current;
}

} // namespace lb::recipes
