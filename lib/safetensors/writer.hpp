// Writes a safetensors file (the layout safetensors.hpp reads): the header
// of the tensors given, in name order, padded with spaces to a multiple of 8
// bytes as the Rust crate pads it, then their data in the same order,
// streamed. The file appears at its path only when complete (lb::AtomicFile).
#pragma once

#include "common/atomic_file.hpp"
#include "lowbit/lowbit.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lb::safetensors {

struct WriteTensor {
    std::string name;
    lb_type type = LB_TYPE_F32; // F32, F16 or BF16
    std::vector<int64_t> shape; // row-major, outermost first
};

class Writer {
  public:
    // Sorts the tensors by name; the data must then come in that order
    // (tensors()). Throws lb::Error (LB_E_IO) naming path,
    // (LB_E_INVALID_ARG) for a type other than F32, F16, BF16 or a name twice.
    Writer(const std::string &path, std::vector<WriteTensor> tensors,
           const std::map<std::string, std::string> &metadata);

    const std::vector<WriteTensor> &tensors() const { return tensors_; }
    // Appends data of the current tensor.
    void write(const void *data, size_t size);
    // Ends the current tensor; throws lb::Error (LB_E_INVALID_ARG) if its
    // bytes were not exactly its size.
    void end_tensor();
    // Publishes the file once every tensor has ended; returns its size.
    uint64_t commit();

  private:
    std::string path_;
    std::vector<WriteTensor> tensors_;
    std::vector<uint64_t> sizes_;
    AtomicFile file_;
    size_t current_ = 0;
    uint64_t written_ = 0; // of the current tensor
};

} // namespace lb::safetensors
