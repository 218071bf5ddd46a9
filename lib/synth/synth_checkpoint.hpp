// Synthetic models as Hugging Face checkpoints: the model synth_model.hpp
// generates, written as a folder transformers would save (config.json,
// model.safetensors with transformers' names and Q/K rows in its order,
// tokenizer.json and tokenizer_config.json of the built-in byte vocabulary),
// for the conversion tests and benchmarks. Converting it (lowbit convert
// --outtype the options' type) gives the tensors write_model() writes, bit
// for bit: the norms are stored as F32, the matrices in the options' type.
#pragma once

#include "synth/synth_model.hpp"

#include <cstdint>
#include <string>

namespace lb::synth {

// Writes the checkpoint to folder, which must not exist or be empty: the
// files are written into a temporary folder beside it, renamed to folder
// when complete (removed on an error or cancellation). Returns the bytes
// written. Throws lb::Error: LB_E_INVALID_ARG (bad options, a tokenizer_from:
// checkpoints carry the built-in vocabulary), LB_E_IO (naming the folder),
// LB_E_CANCELLED.
uint64_t write_checkpoint(const lb_synth_options &o, const std::string &folder, const WriteOptions &w = {});

} // namespace lb::synth
