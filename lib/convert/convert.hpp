// A Hugging Face checkpoint (config.json, safetensors, tokenizer.json)
// to a GGUF file, as llama.cpp's convert_hf_to_gguf.py writes it for the
// llama family: llama.cpp's tensor names, Q/K rows in its rotary order,
// every <arch>.* hyper-parameter, the tokenizer, general.* keys, and the
// weights in the type asked for (1-D tensors stay F32, as llama.cpp keeps
// them). Tensors are converted one at a time, their source pages released
// after use, so memory stays near one tensor whatever the model's size.
#pragma once

#include "convert/hf_config.hpp"
#include "gguf/gguf.hpp"
#include "lowbit/lowbit.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lb::convert {

struct ConvertOptions {
    lb_type outtype = LB_TYPE_F16; // F32, F16, BF16 or Q8_0 (llama.cpp's --outtype; f16 its default)
    int n_threads = 0;             // 0: every hardware thread
    // After each tensor: weights done and in all, the tensor's index, the
    // count of tensors, its GGUF name; false cancels.
    std::function<bool(uint64_t, uint64_t, size_t, size_t, const std::string &)> progress;
};

struct ConvertResult {
    size_t n_tensors = 0;
    uint64_t bytes = 0; // the output file's size
    std::string arch;   // general.architecture
};

// Converts the checkpoint at path (a folder or an archive of one:
// source/source.hpp) to out_path (atomically). Throws lb::Error naming the file,
// field or tensor at fault: LB_E_IO, LB_E_FORMAT (a malformed file, a
// missing tensor, a shape that disagrees with the config), LB_E_UNSUPPORTED
// (an architecture, dtype, tensor or tokenizer lowbit does not convert),
// LB_E_INVALID_ARG (an output type it does not write), LB_E_CANCELLED.
ConvertResult convert_checkpoint(const std::string &path, const std::string &out_path,
                                 const ConvertOptions &o);

// The metadata convert_checkpoint writes for a checkpoint whose config.json
// is c.
std::vector<gguf::KeyValue> checkpoint_kvs(const source::Source &src, const HfConfig &c, lb_type outtype);

} // namespace lb::convert
