// A model's tensors as the forward pass uses them: matrices in place in the
// mapped file (any type with dot kernels), small vectors (norms, biases)
// widened to F32. Every tensor's presence, shape and type is checked once,
// here, so the forward pass can trust them.
#pragma once

#include "kernels/matmul.hpp"
#include "model/model.hpp"
#include "session/model_config.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lb::session {

struct Matrix {
    std::string name; // the tensor's name, for the observer
    int layer = -1;
    kernels::WeightMatrix w{};     // as the file holds it
    kernels::WeightMatrix tiled{}; // w in its tiled layout once repacked (else data is nullptr)
    explicit operator bool() const { return w.data != nullptr; }
};

struct Layer {
    std::vector<float> attn_norm, ffn_norm;
    Matrix q, k, v, o, gate, up, down;
    std::vector<float> q_bias, k_bias, v_bias, o_bias; // empty when absent
    std::vector<float> q_norm, k_norm;                 // qwen3 (per head), else empty
};

struct Weights {
    Matrix token_embd; // rows read one by one (any type lowbit dequantizes)
    Matrix output;     // token_embd when the output is tied
    std::vector<float> output_norm;
    std::vector<float> rope_freqs; // rope frequency factors (Llama 3.1), or empty
    std::vector<Layer> layers;
    std::vector<std::unique_ptr<uint8_t[]>> copies;   // tensors moved to aligned memory
    std::vector<std::unique_ptr<uint8_t[]>> repacked; // the tiled copies (Matrix::tiled)
};

// Finds and checks every tensor the configuration needs. Throws lb::Error
// naming the file and tensor: a tensor missing (LB_E_FORMAT), of the wrong
// shape (LB_E_FORMAT, saying what was expected), of a type lowbit cannot
// multiply (LB_E_UNSUPPORTED).
Weights load_weights(const Model &model, const ModelConfig &config);

// Gives every matrix whose type has a tiled layout (formats/tiled_layouts.hpp)
// that `dot` multiplies, and whose row count is a multiple of the layout's
// group, its tiled copy (Matrix::tiled), once; n_threads share the work.
// release(data, bytes) is called on each matrix copied (the model releases
// the file's pages: the forward pass reads the copy).
void repack_for(Weights &weights, const kernels::DotKernels &dot, int n_threads,
                const std::function<void(const uint8_t *, size_t)> &release);

// Drops every tiled copy: the matrices are multiplied as the file holds them.
void drop_repacked(Weights &weights);

// The layout of m that `dot` multiplies: its tiled copy if it has one and
// dot has the kernel, else the file's.
const kernels::WeightMatrix &layout_for(const Matrix &m, const kernels::DotKernels &dot);

} // namespace lb::session
