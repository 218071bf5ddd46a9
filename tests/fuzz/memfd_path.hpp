// Fuzz inputs as files: the library reads models and imatrices from paths, so
// each input is written to an anonymous in-memory file (memfd) and read back
// through its /proc/self/fd path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace fuzz {

class MemFile {
  public:
    MemFile(const uint8_t *data, size_t size) {
        fd_ = ::memfd_create("lowbit-fuzz", MFD_CLOEXEC);
        if (fd_ < 0) return;
        size_t done = 0;
        while (done < size) {
            const ssize_t n = ::write(fd_, data + done, size - done);
            if (n <= 0) break;
            done += static_cast<size_t>(n);
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    ~MemFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    MemFile(const MemFile &) = delete;
    MemFile &operator=(const MemFile &) = delete;

    bool ok() const { return fd_ >= 0; }
    const char *path() const { return path_.c_str(); }

  private:
    int fd_ = -1;
    std::string path_;
};

} // namespace fuzz
