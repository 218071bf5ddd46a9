#include "ggml_peer.hpp"

#include <cstdlib>
#include <dlfcn.h>
#include <stdexcept>

#ifndef LOWBIT_PEER_DEFAULT_DIR
#define LOWBIT_PEER_DEFAULT_DIR ""
#endif

namespace peer {

std::string library_dir() {
    const char *env = std::getenv("LOWBIT_PEER_DIR");
    if (env != nullptr && *env != '\0') return env;
    return LOWBIT_PEER_DEFAULT_DIR;
}

namespace {

void *open_library(const std::string &name) {
    const std::string path = library_dir() + "/" + name;
    void *h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr)
        throw std::runtime_error(
            "cannot load the reference peer " + path + " (" + ::dlerror() +
            "); install it with scripts/install-peer.sh and set LOWBIT_PEER_DIR to the folder it "
            "prints");
    return h;
}

template <typename F> void bind(void *h, F &fn, const char *name) {
    void *p = ::dlsym(h, name);
    if (p == nullptr) throw std::runtime_error(std::string("the reference peer lacks symbol ") + name);
    fn = reinterpret_cast<F>(p);
}

} // namespace

const Ggml &Ggml::get() {
    static const Ggml g = [] {
        Ggml g;
        g.handle = open_library("libggml-base.so");
        void *h = g.handle;
        bind(h, g.quantize_chunk, "ggml_quantize_chunk");
        bind(h, g.quantize_requires_imatrix, "ggml_quantize_requires_imatrix");
        bind(h, g.quantize_init, "ggml_quantize_init");
        bind(h, g.blck_size, "ggml_blck_size");
        bind(h, g.type_size, "ggml_type_size");
        bind(h, g.validate_row_data, "ggml_validate_row_data");
        bind(h, g.fp32_to_fp16, "ggml_fp32_to_fp16");
        bind(h, g.fp16_to_fp32, "ggml_fp16_to_fp32");
        bind(h, g.fp32_to_bf16, "ggml_fp32_to_bf16");
        bind(h, g.bf16_to_fp32, "ggml_bf16_to_fp32");
        bind(h, g.fp16_to_fp32_row, "ggml_fp16_to_fp32_row");
        bind(h, g.bf16_to_fp32_row, "ggml_bf16_to_fp32_row");
        bind(h, g.quantize_row_q8_0_ref, "quantize_row_q8_0_ref");
        bind(h, g.quantize_row_q8_1_ref, "quantize_row_q8_1_ref");
        bind(h, g.gguf_init_from_file, "gguf_init_from_file");
        bind(h, g.gguf_free, "gguf_free");
        bind(h, g.log_set, "ggml_log_set");
        bind(h, g.gguf_get_version, "gguf_get_version");
        bind(h, g.gguf_get_alignment, "gguf_get_alignment");
        bind(h, g.gguf_get_data_offset, "gguf_get_data_offset");
        bind(h, g.gguf_get_n_kv, "gguf_get_n_kv");
        bind(h, g.gguf_get_key, "gguf_get_key");
        bind(h, g.gguf_get_kv_type, "gguf_get_kv_type");
        bind(h, g.gguf_get_arr_type, "gguf_get_arr_type");
        bind(h, g.gguf_get_arr_n, "gguf_get_arr_n");
        bind(h, g.gguf_get_arr_data, "gguf_get_arr_data");
        bind(h, g.gguf_get_arr_str, "gguf_get_arr_str");
        bind(h, g.gguf_get_val_data, "gguf_get_val_data");
        bind(h, g.gguf_get_val_str, "gguf_get_val_str");
        bind(h, g.gguf_get_n_tensors, "gguf_get_n_tensors");
        bind(h, g.gguf_get_tensor_name, "gguf_get_tensor_name");
        bind(h, g.gguf_get_tensor_type, "gguf_get_tensor_type");
        bind(h, g.gguf_get_tensor_offset, "gguf_get_tensor_offset");
        bind(h, g.gguf_get_tensor_size, "gguf_get_tensor_size");
        bind(h, g.gguf_get_tensor_ne, "gguf_get_tensor_ne");

        const struct {
            lb_type type;
            const char *name;
        } dequantizers[] = {
            {LB_TYPE_Q4_0, "dequantize_row_q4_0"},       {LB_TYPE_Q4_1, "dequantize_row_q4_1"},
            {LB_TYPE_Q5_0, "dequantize_row_q5_0"},       {LB_TYPE_Q5_1, "dequantize_row_q5_1"},
            {LB_TYPE_Q8_0, "dequantize_row_q8_0"},       {LB_TYPE_Q2_K, "dequantize_row_q2_K"},
            {LB_TYPE_Q3_K, "dequantize_row_q3_K"},       {LB_TYPE_Q4_K, "dequantize_row_q4_K"},
            {LB_TYPE_Q5_K, "dequantize_row_q5_K"},       {LB_TYPE_Q6_K, "dequantize_row_q6_K"},
            {LB_TYPE_Q8_K, "dequantize_row_q8_K"},       {LB_TYPE_IQ2_XXS, "dequantize_row_iq2_xxs"},
            {LB_TYPE_IQ2_XS, "dequantize_row_iq2_xs"},   {LB_TYPE_IQ2_S, "dequantize_row_iq2_s"},
            {LB_TYPE_IQ3_XXS, "dequantize_row_iq3_xxs"}, {LB_TYPE_IQ3_S, "dequantize_row_iq3_s"},
            {LB_TYPE_IQ1_S, "dequantize_row_iq1_s"},     {LB_TYPE_IQ1_M, "dequantize_row_iq1_m"},
            {LB_TYPE_IQ4_NL, "dequantize_row_iq4_nl"},   {LB_TYPE_IQ4_XS, "dequantize_row_iq4_xs"},
            {LB_TYPE_TQ1_0, "dequantize_row_tq1_0"},     {LB_TYPE_TQ2_0, "dequantize_row_tq2_0"},
            {LB_TYPE_MXFP4, "dequantize_row_mxfp4"},     {LB_TYPE_NVFP4, "dequantize_row_nvfp4"},
            {LB_TYPE_Q1_0, "dequantize_row_q1_0"},       {LB_TYPE_Q2_0, "dequantize_row_q2_0"},
        };
        for (const auto &d : dequantizers) bind(h, g.dequant[d.type], d.name);
        g.dequant[LB_TYPE_F16] = reinterpret_cast<DequantizeRow>(g.fp16_to_fp32_row);
        g.dequant[LB_TYPE_BF16] = reinterpret_cast<DequantizeRow>(g.bf16_to_fp32_row);
        return g;
    }();
    return g;
}

bool gguf_accepts(const std::string &path) {
    const Ggml &g = Ggml::get();
    g.log_set([](int, const char *, void *) {}, nullptr);
    void *ctx = g.gguf_init_from_file(path.c_str(), {true, nullptr});
    if (ctx == nullptr) return false;
    g.gguf_free(ctx);
    return true;
}

DequantizeRow Ggml::dequantize(lb_type type) const {
    return type >= 0 && type < kGgmlTypeCount ? dequant[type] : nullptr;
}

const GgmlCpu &GgmlCpu::get() {
    static const GgmlCpu c = [] {
        GgmlCpu c;
        Ggml::get(); // libggml-base first
        c.handle = open_library("libggml-cpu-x64.so");
        void (*cpu_init)() = nullptr;
        bind(c.handle, cpu_init, "ggml_cpu_init"); // fills its binary16 tables
        cpu_init();
        const struct {
            lb_type type;
            const char *name;
        } dots[] = {
            {LB_TYPE_Q4_0, "q4_0_q8_0"},     {LB_TYPE_Q4_1, "q4_1_q8_1"},
            {LB_TYPE_Q5_0, "q5_0_q8_0"},     {LB_TYPE_Q5_1, "q5_1_q8_1"},
            {LB_TYPE_Q8_0, "q8_0_q8_0"},     {LB_TYPE_Q2_K, "q2_K_q8_K"},
            {LB_TYPE_Q3_K, "q3_K_q8_K"},     {LB_TYPE_Q4_K, "q4_K_q8_K"},
            {LB_TYPE_Q5_K, "q5_K_q8_K"},     {LB_TYPE_Q6_K, "q6_K_q8_K"},
            {LB_TYPE_IQ4_NL, "iq4_nl_q8_0"}, {LB_TYPE_IQ4_XS, "iq4_xs_q8_K"},
            {LB_TYPE_TQ1_0, "tq1_0_q8_K"},   {LB_TYPE_TQ2_0, "tq2_0_q8_K"},
            {LB_TYPE_MXFP4, "mxfp4_q8_0"},   {LB_TYPE_NVFP4, "nvfp4_q8_0"},
            {LB_TYPE_Q1_0, "q1_0_q8_0"},     {LB_TYPE_IQ2_XXS, "iq2_xxs_q8_K"},
            {LB_TYPE_IQ2_XS, "iq2_xs_q8_K"}, {LB_TYPE_IQ3_XXS, "iq3_xxs_q8_K"},
            {LB_TYPE_IQ2_S, "iq2_s_q8_K"},   {LB_TYPE_IQ3_S, "iq3_s_q8_K"},
            {LB_TYPE_IQ1_S, "iq1_s_q8_K"},   {LB_TYPE_IQ1_M, "iq1_m_q8_K"},
        };
        for (const auto &d : dots) {
            bind(c.handle, c.generic[d.type], (std::string("ggml_vec_dot_") + d.name + "_generic").c_str());
            bind(c.handle, c.vec_dot[d.type], (std::string("ggml_vec_dot_") + d.name).c_str());
        }
        // Q2_0 has no separate generic version at the peer's release: its one is generic
        bind(c.handle, c.vec_dot[LB_TYPE_Q2_0], "ggml_vec_dot_q2_0_q8_0");
        bind(c.handle, c.vec_dot[LB_TYPE_F32], "ggml_vec_dot_f32");
        bind(c.handle, c.vec_dot[LB_TYPE_F16], "ggml_vec_dot_f16");
        bind(c.handle, c.vec_dot[LB_TYPE_BF16], "ggml_vec_dot_bf16");
        return c;
    }();
    return c;
}

const Llama &Llama::get() {
    static const Llama l = [] {
        Llama l;
        Ggml::get(); // libggml-base first, for a clear message if it is missing
        l.handle = open_library("libllama.so");
        bind(l.handle, l.backend_init, "llama_backend_init");
        bind(l.handle, l.model_quantize_default_params, "llama_model_quantize_default_params");
        bind(l.handle, l.model_quantize, "llama_model_quantize");
        bind(l.handle, l.log_set, "llama_log_set");
        l.backend_init();
        return l;
    }();
    return l;
}

} // namespace peer
