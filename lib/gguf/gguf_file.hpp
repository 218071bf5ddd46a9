// A GGUF file opened for reading: the validated header plus the mapping that
// holds the tensor data.
#pragma once

#include "common/mapped_file.hpp"
#include "gguf/gguf.hpp"

#include <string>

namespace lb::gguf {

class GgufFile {
  public:
    // Maps and validates path; throws lb::Error.
    explicit GgufFile(const std::string &path);

    const std::string &path() const { return map_.path(); }
    const Header &header() const { return header_; }
    const MappedFile &mapping() const { return map_; }
    uint64_t file_size() const { return map_.size(); }
    // Data of tensor i (validated to lie inside the file).
    const uint8_t *tensor_data(size_t i) const {
        return map_.data() + header_.data_offset + header_.tensors[i].offset;
    }

  private:
    MappedFile map_;
    Header header_;
};

} // namespace lb::gguf
