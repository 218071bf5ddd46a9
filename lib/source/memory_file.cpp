#include "source/memory_file.hpp"

#include "common/error.hpp"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace lb::source {

MemoryFile::MemoryFile(const std::string &name) : name_(name) {
    fd_ = ::memfd_create("lowbit-member", MFD_CLOEXEC);
    if (fd_ < 0) fail(LB_E_IO, "%s: cannot hold it in memory: %s", name.c_str(), std::strerror(errno));
}

MemoryFile::~MemoryFile() {
    if (fd_ >= 0) ::close(fd_);
}

void MemoryFile::write_at(uint64_t offset, const void *p, size_t n) {
    const auto *bytes = static_cast<const uint8_t *>(p);
    while (n > 0) {
        const ssize_t w = ::pwrite(fd_, bytes, n, static_cast<off_t>(offset));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            fail(LB_E_IO, "%s: cannot hold it in memory: %s", name_.c_str(),
                 w < 0 ? std::strerror(errno) : "no space");
        bytes += w;
        n -= static_cast<size_t>(w);
        offset += static_cast<uint64_t>(w);
        if (offset > size_) size_ = offset;
    }
}

void MemoryFile::resize(uint64_t size) {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
        fail(LB_E_IO, "%s: cannot hold it in memory: %s", name_.c_str(), std::strerror(errno));
    size_ = size;
}

} // namespace lb::source
