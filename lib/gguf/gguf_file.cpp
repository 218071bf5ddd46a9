#include "gguf/gguf_file.hpp"

namespace lb::gguf {

GgufFile::GgufFile(const std::string &path) : map_(path), header_(parse(map_.data(), map_.size(), path)) {}

} // namespace lb::gguf
