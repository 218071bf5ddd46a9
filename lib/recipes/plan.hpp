// The quantization plan: which type every tensor of a model gets. This is
// where llama.cpp's rules are applied, in llama.cpp's order of precedence:
// tensors that may not be quantized keep their type; then the file type's
// mixture; then the shape fallback.
#pragma once

#include "gguf/gguf.hpp"
#include "lowbit/lowbit.h"

#include <string>
#include <vector>

namespace lb::recipes {

struct PlanOptions {
    lb_ftype ftype = LB_FTYPE_Q8_0;
    bool has_imatrix = false;
    bool quantize_output = true; // false with --leave-output-tensor
};

// What the model's metadata says about its shape.
struct ModelFacts {
    std::string arch; // general.architecture
    int n_layer = 0;  // <arch>.block_count
};

struct TensorPlan {
    lb_type type = LB_TYPE_F32; // type written
    bool may_quantize = false;  // llama.cpp's tensor_allows_quantization
    bool fallback = false;      // the shape forced another type
    std::string note;           // the fallback warning, if any
};

ModelFacts model_facts(const gguf::Header &header);

// One entry per tensor of header, in file order. Throws lb::Error
// (LB_E_UNSUPPORTED) when a tensor's shape has no fallback.
std::vector<TensorPlan> make_plan(const gguf::Header &header, const PlanOptions &options, const std::string &path);

} // namespace lb::recipes
