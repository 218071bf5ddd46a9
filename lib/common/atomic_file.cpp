#include "common/atomic_file.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lb {

namespace {

constexpr size_t kBufferSize = 4u << 20;

std::string folder_of(const std::string &path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::string base_of(const std::string &path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The process umask, read without changing it (umask() would race with
// other threads creating files).
mode_t current_umask() {
    FILE *f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return 022;
    char line[256];
    unsigned mask = 022;
    while (std::fgets(line, sizeof line, f) != nullptr)
        if (std::sscanf(line, "Umask: %o", &mask) == 1) break;
    std::fclose(f);
    return static_cast<mode_t>(mask);
}

} // namespace

AtomicFile::AtomicFile(const std::string &path) : path_(path) {
    if (path.empty() || path.back() == '/') fail(LB_E_IO, "'%s': not a file path", path.c_str());
    temp_path_ = folder_of(path) + "/." + base_of(path) + ".lowbit-XXXXXX";
    std::vector<char> templ(temp_path_.begin(), temp_path_.end());
    templ.push_back('\0');
    fd_ = ::mkostemp(templ.data(), O_CLOEXEC);
    if (fd_ < 0)
        fail(LB_E_IO, "%s: cannot create a temporary file in '%s': %s", path.c_str(), folder_of(path).c_str(),
             std::strerror(errno));
    temp_path_.assign(templ.data());
    buffer_.resize(kBufferSize);
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicFile::flush() {
    size_t off = 0;
    while (off < used_) {
        const ssize_t n = ::write(fd_, buffer_.data() + off, used_ - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(LB_E_IO, "%s: cannot write: %s", path_.c_str(), std::strerror(errno));
        }
        off += static_cast<size_t>(n);
    }
    used_ = 0;
}

void AtomicFile::write(const void *data, size_t size) {
    const uint8_t *p = static_cast<const uint8_t *>(data);
    written_ += size;
    while (size > 0) {
        const size_t n = std::min(size, buffer_.size() - used_);
        std::memcpy(buffer_.data() + used_, p, n);
        used_ += n;
        p += n;
        size -= n;
        if (used_ == buffer_.size()) flush();
    }
}

void AtomicFile::write_zeros(size_t size) {
    static const uint8_t zeros[256] = {};
    while (size > 0) {
        const size_t n = std::min(size, sizeof zeros);
        write(zeros, n);
        size -= n;
    }
}

void AtomicFile::finish() {
    flush();
    // the mode a plain open(O_CREAT, 0666) would have given
    if (::fchmod(fd_, 0666 & ~current_umask()) != 0)
        fail(LB_E_IO, "%s: cannot set permissions: %s", path_.c_str(), std::strerror(errno));
    if (::fsync(fd_) != 0) fail(LB_E_IO, "%s: cannot sync: %s", path_.c_str(), std::strerror(errno));
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(LB_E_IO, "%s: cannot close: %s", path_.c_str(), std::strerror(errno));
}

void AtomicFile::publish() {
    if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
        fail(LB_E_IO, "%s: cannot rename the finished temporary file into place: %s", path_.c_str(),
             std::strerror(errno));
    committed_ = true;
    // make the rename itself durable
    const int dir = ::open(folder_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

} // namespace lb
