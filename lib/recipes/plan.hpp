// The quantization plan: which type every tensor of a model gets, decided
// the way llama.cpp's llama-quantize decides it, in its order of precedence:
//  1. tensors llama.cpp never quantizes keep their type;
//  2. --token-embedding-type / --output-tensor-type;
//  3. when the file type's default type is quantized: the first matching
//     --tensor-type pattern, else the mixture (unless --pure); then the shape
//     fallback.
#pragma once

#include "gguf/gguf.hpp"
#include "lowbit/lowbit.h"
#include "recipes/mixture.hpp"
#include "recipes/model_facts.hpp"

#include <regex>
#include <string>
#include <vector>

namespace lb::recipes {

struct TypePattern {
    std::string pattern; // as the user wrote it
    std::regex regex;
    lb_type type;
};

struct PlanOptions {
    lb_ftype ftype = LB_FTYPE_Q8_0;
    bool has_imatrix = false;
    bool quantize_output = true; // false with --leave-output-tensor
    bool pure = false;
    bool only_copy = false;
    bool visit_in_file_order = false; // --keep-split visits tensors by shard and offset
    lb_type output_type = LB_TYPE_NONE;
    lb_type token_embd_type = LB_TYPE_NONE;
    std::vector<TypePattern> tensor_types;
};

struct TensorPlan {
    lb_type type = LB_TYPE_F32;    // type written
    bool may_quantize = false;     // llama.cpp's tensor_allows_quantization
    bool fallback = false;         // the shape forced another type
    bool requires_imatrix = false; // llama.cpp's tensor_requires_imatrix
    std::string note;              // the fallback warning, if any
};

// One entry per tensor in `tensors` (the tensors as they will be written,
// after pruning), in the same order. Throws lb::Error naming the tensor when
// a type cannot hold it (no fallback, or a user-chosen type that does not fit
// its row width).
std::vector<TensorPlan> make_plan(const std::vector<gguf::TensorInfo> &tensors, const ModelFacts &facts,
                                  const PlanOptions &options, const std::string &path);

} // namespace lb::recipes
