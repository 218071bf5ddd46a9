// What a checkpoint's GGUF holds, tensor by tensor: the plan convert writes
// from and a checkpoint model (checkpoint_model.hpp) serves. Each planned
// tensor names its source in the safetensors files (or holds computed values:
// rope_freqs), whether its rows are permuted into llama.cpp's rotary order,
// its GGUF shape and its type; convert_rows() produces its bytes.
#pragma once

#include "convert/hf_config.hpp"
#include "formats/type_traits.hpp"
#include "gguf/gguf.hpp"
#include "lowbit/lowbit.h"
#include "safetensors/shards.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace lb::convert {

// One tensor of the output: where it comes from and what it becomes.
struct Planned {
    std::string name;                            // GGUF name
    const safetensors::Tensor *source = nullptr; // nullptr: computed (rope_freqs)
    int64_t permute_heads = 0;
    lb_type type = LB_TYPE_F32;
    std::vector<int64_t> ne; // GGUF order
    std::vector<float> computed;
};

// Rows of a planned tensor (the product of its outer extents).
int64_t rows_of(const Planned &p);

// The GGUF tensor entry of p (offset 0), its size checked; where names the
// file in errors.
gguf::TensorInfo tensor_info(const Planned &p, const std::string &where);

// The tensors of the GGUF file, in the order convert writes them (globals,
// then layer by layer), their types from outtype (1-D tensors F32; Q8_0 rows
// not a multiple of 32 wide F16; LB_TYPE_NONE: each tensor's source type).
// Throws lb::Error naming the tensor (a shape the config does not imply, a
// tensor a runtime needs missing, one twice).
std::vector<Planned> plan(const HfConfig &c, const safetensors::Shards &shards, lb_type outtype);

// Writes rows [r0, r1) of p, in p.type, to out (contiguous rows).
void convert_rows(const Planned &p, int64_t r0, int64_t r1, uint8_t *out,
                  const formats::SearchKernels &search);

} // namespace lb::convert
