// A file held in memory (a memfd): what an archive member or a .zst file is
// unpacked into, so that it can be mapped (lb::MappedFile) like a file on
// disk without anything being written to disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lb::source {

class MemoryFile {
  public:
    // name: what errors call it (the archive and member, or the .zst file).
    // Throws lb::Error (LB_E_IO) if the kernel gives no memfd.
    explicit MemoryFile(const std::string &name);
    ~MemoryFile();
    MemoryFile(const MemoryFile &) = delete;
    MemoryFile &operator=(const MemoryFile &) = delete;

    // Writes n bytes at offset (past the end grows the file; a gap reads as
    // zeros). Throws lb::Error (LB_E_IO) naming the file if memory runs out.
    void write_at(uint64_t offset, const void *p, size_t n);
    // Sets the size (a sparse member's tail reads as zeros).
    void resize(uint64_t size);
    uint64_t size() const { return size_; }
    int fd() const { return fd_; }
    const std::string &name() const { return name_; }

  private:
    std::string name_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

} // namespace lb::source
