// The safetensors format (Hugging Face checkpoints): an 8-byte little-endian
// header length N, N bytes of JSON (an object: tensor name -> {"dtype",
// "shape", "data_offsets": [begin, end]} with offsets from the first byte
// after the header, and an optional "__metadata__" object of strings), then
// the tensor data. The file is untrusted: it is validated as the Rust
// `safetensors` crate validates it (header at most 100 MB, data exactly
// covered by the tensors, no overlap and no hole, byte sizes that match the
// shapes), and more: each entry has exactly its three fields, names are
// non-empty and unique (a key given twice in the JSON is refused, not
// overwritten), and only the dtypes lowbit converts (F32, F16, BF16) are
// accepted.
#pragma once

#include "common/mapped_file.hpp"
#include "lowbit/lowbit.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace lb::safetensors {

// As the Rust crate's MAX_HEADER_SIZE.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char *kMetadataKey = "__metadata__";

struct Tensor {
    std::string name;
    lb_type type = LB_TYPE_F32;    // LB_TYPE_F32, LB_TYPE_F16 or LB_TYPE_BF16
    std::vector<int64_t> shape;    // as stored: row-major, outermost first ([] = scalar)
    const uint8_t *data = nullptr; // inside the file's mapping
    uint64_t size = 0;             // bytes = product(shape) * element size
    uint64_t offset = 0;           // of data, from the start of the file

    // Product of the shape (1 for a scalar); the reader checked it does not
    // overflow.
    uint64_t n_elements() const;
};

// Bytes of one element of an accepted dtype: 4 for F32, 2 for F16 and BF16.
uint64_t element_size(lb_type type);
// "F32", "F16", "BF16": the safetensors name of an accepted type.
const char *dtype_name(lb_type type);

class File {
  public:
    // Maps path (lb::MappedFile) and validates it. Throws lb::Error naming
    // the path, and the tensor at fault: LB_E_IO if it cannot be read,
    // LB_E_FORMAT if it is not a valid safetensors file, LB_E_UNSUPPORTED
    // for a valid file holding a dtype lowbit does not convert (F64, I8,
    // BOOL, F8_E4M3, ...).
    explicit File(const std::string &path);
    // The same for a file already mapped (a folder's, or an archive
    // member's held in memory), named in errors by file->path().
    explicit File(std::unique_ptr<MappedFile> file);
    ~File();
    File(const File &) = delete;
    File &operator=(const File &) = delete;

    const std::string &path() const;
    // In the order of their data offsets.
    const std::vector<Tensor> &tensors() const { return tensors_; }
    // nullptr if absent.
    const Tensor *find(const std::string &name) const;
    // "__metadata__" (string values only, as the format says).
    const std::map<std::string, std::string> &metadata() const { return metadata_; }
    // To release() pages after use, or check_size() before reading.
    const MappedFile &mapped() const { return *file_; }
    // Offset of the data section (8 + the header length).
    uint64_t data_offset() const { return data_offset_; }

  private:
    std::unique_ptr<MappedFile> file_;
    std::vector<Tensor> tensors_;
    std::unordered_map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
    uint64_t data_offset_ = 0;
};

} // namespace lb::safetensors
