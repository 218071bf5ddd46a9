// Per-tensor errors of a quantized model on a text: the base model evaluates
// the text (cut as chunks.hpp cuts it), and every matrix product of that run,
// weight W with input rows x, is repeated with the quantized model's tensor of
// the same name W_q: the tensor's relative output error is
// sum ||W_q x - W x||^2 / sum ||W x||^2 over all its inputs, both weights
// dequantized to F32. The inputs are the base's, so each tensor's own error
// is isolated from the errors of the layers before it.
#pragma once

#include "eval/kld.hpp"
#include "model/model.hpp"
#include "session/session.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace lb::eval {

struct TensorError {
    std::string name;
    int layer = -1;
    lb_type base_type = LB_TYPE_F32, type = LB_TYPE_F32;
    uint64_t n_rows = 0;    // input rows multiplied
    double error = 0.0;     // sum ||W_q x - W x||^2
    double reference = 0.0; // sum ||W x||^2

    // error / reference; 0 when both are 0
    double relative() const;
};

// Measures every weight the base's run multiplies against the tensor of the
// same name in quantized. Returns them worst (highest relative error) first,
// ties in name order. The base's observer still sees every product; its
// cache is used and emptied. Throws lb::Error: LB_E_INVALID_ARG (a text
// shorter than two contexts, a bad context, a tensor missing from quantized
// or of another shape), LB_E_UNSUPPORTED (a type lowbit cannot read),
// LB_E_CANCELLED (progress returned false, the observer, a cancel).
std::vector<TensorError> tensor_errors(session::Session &base, const Model &quantized,
                                       const std::string &text, const KldOptions &o,
                                       const ChunkProgress &progress);

} // namespace lb::eval
