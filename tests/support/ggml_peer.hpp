// The reference peer: llama.cpp's prebuilt libraries (npm package
// @node-llama-cpp/linux-x64@3.22.1, installed by scripts/install-peer.sh),
// loaded with dlopen. Only the functions the tests and benchmarks use are
// declared here, with the signatures of llama.cpp's public headers.
#pragma once

#include "lowbit/lowbit.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace peer {

// Folder holding the libraries: $LOWBIT_PEER_DIR, or the folder
// scripts/install-peer.sh installs to.
std::string library_dir();

// GGML_TYPE_COUNT of the peer's release: also llama.cpp's "no type" in
// llama_model_quantize_params.
constexpr int kGgmlTypeCount = 43;

struct Bf16 {
    uint16_t bits;
};

using DequantizeRow = void (*)(const void *x, float *y, int64_t k);
using QuantizeRowRef = void (*)(const float *x, void *y, int64_t k);

// libggml-base.so
struct Ggml {
    size_t (*quantize_chunk)(int type, const float *src, void *dst, int64_t start, int64_t nrows,
                             int64_t n_per_row, const float *imatrix);
    bool (*quantize_requires_imatrix)(int type);
    void (*quantize_init)(int type);
    int64_t (*blck_size)(int type);
    size_t (*type_size)(int type);
    bool (*validate_row_data)(int type, const void *data, size_t nbytes);
    uint16_t (*fp32_to_fp16)(float);
    float (*fp16_to_fp32)(uint16_t);
    Bf16 (*fp32_to_bf16)(float);
    float (*bf16_to_fp32)(Bf16);
    void (*fp16_to_fp32_row)(const uint16_t *x, float *y, int64_t n);
    void (*bf16_to_fp32_row)(const Bf16 *x, float *y, int64_t n);
    QuantizeRowRef quantize_row_q8_0_ref;
    QuantizeRowRef quantize_row_q8_1_ref;

    // gguf
    struct GgufInitParams {
        bool no_alloc;
        void **ctx;
    };
    void *(*gguf_init_from_file)(const char *fname, GgufInitParams params);
    void (*gguf_free)(void *ctx);
    void (*log_set)(void (*cb)(int level, const char *text, void *user), void *user);
    uint32_t (*gguf_get_version)(const void *ctx);
    size_t (*gguf_get_alignment)(const void *ctx);
    size_t (*gguf_get_data_offset)(const void *ctx);
    int64_t (*gguf_get_n_kv)(const void *ctx);
    const char *(*gguf_get_key)(const void *ctx, int64_t id);
    int (*gguf_get_kv_type)(const void *ctx, int64_t id);
    int (*gguf_get_arr_type)(const void *ctx, int64_t id);
    size_t (*gguf_get_arr_n)(const void *ctx, int64_t id);
    const void *(*gguf_get_arr_data)(const void *ctx, int64_t id);
    const char *(*gguf_get_arr_str)(const void *ctx, int64_t id, size_t i);
    const void *(*gguf_get_val_data)(const void *ctx, int64_t id);
    const char *(*gguf_get_val_str)(const void *ctx, int64_t id);
    int64_t (*gguf_get_n_tensors)(const void *ctx);
    const char *(*gguf_get_tensor_name)(const void *ctx, int64_t id);
    int (*gguf_get_tensor_type)(const void *ctx, int64_t id);
    size_t (*gguf_get_tensor_offset)(const void *ctx, int64_t id);
    size_t (*gguf_get_tensor_size)(const void *ctx, int64_t id);
    const int64_t *(*gguf_get_tensor_ne)(const void *ctx, int64_t id);

    // ggml's dequantize_row_* (or row conversion) for a type; nullptr if none.
    DequantizeRow dequantize(lb_type type) const;

    // Loads libggml-base.so once; throws std::runtime_error with a message
    // that says how to install the peer if it is missing.
    static const Ggml &get();

    void *handle = nullptr;
    DequantizeRow dequant[kGgmlTypeCount] = {};
};

// libggml-cpu-x64.so (the baseline x86-64 build of ggml's CPU backend): its
// dot products, both the portable reference (ggml_vec_dot_*_generic) and the
// build's own, as llama.cpp's matrix products call them.
struct GgmlCpu {
    using VecDot = void (*)(int n, float *s, size_t bs, const void *x, size_t bx, const void *y, size_t by,
                            int nrc);
    // by weight type; nullptr where ggml has none
    VecDot generic[kGgmlTypeCount] = {};
    VecDot vec_dot[kGgmlTypeCount] = {};
    static const GgmlCpu &get();
    void *handle = nullptr;
};

// Whether ggml's GGUF reader (gguf_init_from_file without loading tensor
// data, as llama.cpp's model loader calls it) accepts the file. ggml's
// messages are silenced.
bool gguf_accepts(const std::string &path);

// libllama.so: the quantizer of llama.cpp, for comparing type choices.
struct Llama {
    // llama_model_quantize_params of this version (include/llama.h).
    struct QuantizeParams {
        int32_t nthread;
        int32_t ftype;
        int32_t output_tensor_type;
        int32_t token_embedding_type;
        bool allow_requantize;
        bool quantize_output_tensor;
        bool only_copy;
        bool pure;
        bool keep_split;
        bool dry_run;
        const void *imatrix;
        const void *kv_overrides;
        const void *tt_overrides;
        const int32_t *prune_layers;
        size_t max_buf_size;
    };
    void (*backend_init)();
    QuantizeParams (*model_quantize_default_params)();
    uint32_t (*model_quantize)(const char *in, const char *out, const QuantizeParams *params);
    void (*log_set)(void (*cb)(int level, const char *text, void *user), void *user);

    static const Llama &get();
    void *handle = nullptr;
};

} // namespace peer
