// GGUF writer: metadata first, then tensor data streamed in order, each
// tensor padded to the alignment. Output goes through lb::AtomicFile, so a
// failed or cancelled write never leaves a partial file at the output path.
#pragma once

#include "common/atomic_file.hpp"
#include "gguf/gguf.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace lb::gguf {

// Serializes the header (magic, version 3, counts, metadata, tensor infos and
// the padding up to the data section). Tensor offsets are computed here:
// contiguous, in order, each tensor padded to the alignment, which is
// general.alignment or 32.
std::vector<uint8_t> serialize_header(const std::vector<KeyValue> &kvs, std::vector<TensorInfo> &tensors,
                                      const std::string &path);

class Writer {
  public:
    // Creates the temporary output and writes the header. tensors' sizes must
    // be set; their offsets are assigned. Throws lb::Error.
    Writer(const std::string &path, const std::vector<KeyValue> &kvs, std::vector<TensorInfo> tensors);

    // Appends data of the current tensor (tensors are written in order).
    void write(const void *data, size_t size);
    // Ends the current tensor: checks that its size was written, pads.
    void end_tensor();
    // Ends the file (flushed and synced, not yet at its path); returns its
    // size. Throws lb::Error.
    uint64_t finish();
    // Moves the finished file to its path. Throws lb::Error (LB_E_IO).
    void publish() { file_.publish(); }
    // finish() then publish(); returns the size.
    uint64_t commit() {
        const uint64_t size = finish();
        publish();
        return size;
    }

    const std::vector<TensorInfo> &tensors() const { return tensors_; }

  private:
    AtomicFile file_;
    std::vector<TensorInfo> tensors_;
    uint32_t alignment_;
    uint64_t data_start_ = 0;
    size_t current_ = 0;
    uint64_t current_written_ = 0;
};

} // namespace lb::gguf
