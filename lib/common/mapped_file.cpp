#include "common/mapped_file.hpp"

#include "common/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lb {

MappedFile::MappedFile(const std::string &path) : path_(path) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
    // refused below as not a regular file)
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) fail(LB_E_IO, "%s: cannot open: %s", path.c_str(), std::strerror(errno));
    map(fd);
}

MappedFile::MappedFile(int fd, const std::string &name) : path_(name) {
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) fail(LB_E_IO, "%s: cannot open: %s", name.c_str(), std::strerror(errno));
    map(own);
}

void MappedFile::map(int fd) {
    const std::string &path = path_;
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        fail(LB_E_IO, "%s: cannot stat: %s", path.c_str(), std::strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(LB_E_IO, "%s: not a regular file", path.c_str());
    }
    size_ = static_cast<uint64_t>(st.st_size);
    device_ = static_cast<uint64_t>(st.st_dev);
    inode_ = static_cast<uint64_t>(st.st_ino);
    if (size_ > 0) {
        void *p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            const int e = errno;
            ::close(fd);
            fail(LB_E_IO, "%s: cannot map into memory: %s", path.c_str(), std::strerror(e));
        }
        data_ = static_cast<const uint8_t *>(p);
    }
    fd_ = fd;
}

void MappedFile::check_size() const {
    struct stat st;
    if (::fstat(fd_, &st) != 0) fail(LB_E_IO, "%s: cannot stat: %s", path_.c_str(), std::strerror(errno));
    if (static_cast<uint64_t>(st.st_size) < size_)
        fail(LB_E_IO,
             "%s: the file shrank from %llu to %llu bytes while it was being read (truncated or rewritten by "
             "another program)",
             path_.c_str(), static_cast<unsigned long long>(size_),
             static_cast<unsigned long long>(st.st_size));
}

void MappedFile::release(const uint8_t *p, uint64_t n) const {
    // only pages of this mapping (memory elsewhere is not the kernel's to drop)
    if (data_ == nullptr || n == 0 || p < data_ || p > data_ + size_ ||
        n > static_cast<uint64_t>(data_ + size_ - p))
        return;
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    // whole pages inside the range only
    const uint64_t begin = (static_cast<uint64_t>(p - data_) + page - 1) / page * page;
    const uint64_t end = static_cast<uint64_t>(p - data_) + n;
    const uint64_t last = end / page * page;
    if (last > begin) ::madvise(const_cast<uint8_t *>(data_) + begin, last - begin, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t *>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
}

} // namespace lb
