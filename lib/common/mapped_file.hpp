// A file mapped read-only into memory.
//
// What holds if the file changes while mapped: a file replaced by another
// (renamed over, or deleted and written anew) does not matter, the mapping
// keeps the original. A file written in place shows the new bytes. A file
// truncated below its mapped size makes reads of the lost pages raise SIGBUS;
// check_size() tells whether that happened, and the quantizer calls it before
// every tensor and chunk, so a truncation is an error, not a signal, unless it
// lands while a chunk is read (the lowbit CLI reports that SIGBUS too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lb {

class MappedFile {
  public:
    // Opens and maps path. Throws lb::Error (LB_E_IO) naming the file.
    explicit MappedFile(const std::string &path);
    // Maps the regular file open on fd (a duplicate of it: the caller keeps
    // and closes its own), naming it name in errors: a file held in memory
    // (a memfd), such as an archive member.
    MappedFile(int fd, const std::string &name);
    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    const uint8_t *data() const { return data_; }
    uint64_t size() const { return size_; }
    const std::string &path() const { return path_; }
    // Device and inode, to tell whether another path names the same file.
    uint64_t device() const { return device_; }
    uint64_t inode() const { return inode_; }
    // Tells the kernel the pages of [p, p + n) will not be read again soon:
    // they leave this process's memory (and are read from the file again if
    // they are used after all). A range outside the mapping is left alone.
    void release(const uint8_t *p, uint64_t n) const;
    // Throws lb::Error (LB_E_IO) naming the file if it is now shorter than
    // when it was mapped (truncated while in use).
    void check_size() const;

  private:
    // Maps fd (owned from here on) as path_.
    void map(int fd);

    std::string path_;
    const uint8_t *data_ = nullptr;
    uint64_t size_ = 0;
    uint64_t device_ = 0;
    uint64_t inode_ = 0;
    int fd_ = -1; // kept open for check_size()
};

} // namespace lb
