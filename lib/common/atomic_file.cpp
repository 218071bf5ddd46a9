#include "common/atomic_file.hpp"

#include "common/error.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lb {

namespace {

// Small enough that the output reaches the file as it is made (a kill or a
// full disk shows early), large enough that write() calls cost nothing.
constexpr size_t kBufferSize = 1u << 20;
// A named temporary file of another PID namespace (or of an older lowbit,
// whose names carry none) younger than this is never taken for stale: its
// PID says nothing here.
constexpr int64_t kStaleSeconds = 60;

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

// ".NAME.lowbit-": what every temporary name for path starts with.
std::string temp_prefix(const std::string &path) {
    std::string prefix(1, '.');
    prefix.append(base_of(path)).append(".lowbit-");
    return prefix;
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

// This process's PID namespace (the inode of /proc/self/ns/pid), 0 if
// unknown: a PID is only meaningful inside its namespace.
unsigned long long pid_namespace() {
    struct stat st;
    if (::stat("/proc/self/ns/pid", &st) != 0) return 0;
    return static_cast<unsigned long long>(st.st_ino);
}

// A fresh temporary name for path: ".NAME.lowbit-PID-NS-XXXXXX" in its
// folder (NS: the PID namespace, in hex).
std::string temp_name(const std::string &path) {
    static std::atomic<uint64_t> counter{0};
    const uint64_t t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    const uint64_t x = (t ^ (counter.fetch_add(1) * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
    char tail[64];
    std::snprintf(tail, sizeof tail, "%ld-%llx-%06llx", static_cast<long>(::getpid()), pid_namespace(),
                  static_cast<unsigned long long>((x >> 40) & 0xffffff));
    return folder_of(path) + "/" + temp_prefix(path) + tail;
}

// Links the unnamed file open as fd to the name `to`; returns 0 or an errno.
int link_fd(int fd, const std::string &to) {
    char proc[64];
    std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (::linkat(AT_FDCWD, proc, AT_FDCWD, to.c_str(), AT_SYMLINK_FOLLOW) == 0) return 0;
    const int e = errno;
    if (e != ENOENT || ::access("/proc/self/fd", F_OK) == 0) return e;
    // no /proc: link the descriptor itself (needs CAP_DAC_READ_SEARCH)
    if (::linkat(fd, "", AT_FDCWD, to.c_str(), AT_EMPTY_PATH) == 0) return 0;
    return errno;
}

void sync_folder(const std::string &folder) {
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

} // namespace

size_t remove_stale_temporaries(const std::string &path) {
    const std::string folder = folder_of(path), prefix = temp_prefix(path);
    DIR *dir = ::opendir(folder.c_str());
    if (dir == nullptr) return 0;
    size_t removed = 0;
    const int64_t now = static_cast<int64_t>(std::time(nullptr));
    const unsigned long long own_namespace = pid_namespace();
    while (const dirent *e = ::readdir(dir)) {
        const char *name = e->d_name;
        if (std::strncmp(name, prefix.c_str(), prefix.size()) != 0) continue;
        char *end = nullptr;
        const long pid = std::strtol(name + prefix.size(), &end, 10);
        if (pid <= 0 || end == name + prefix.size() || *end != '-') continue;
        // "PID-NS-XXXXXX" names their namespace; "PID-XXXXXX" (older) does not
        const char *ns_text = end + 1;
        const unsigned long long ns = std::strtoull(ns_text, &end, 16);
        const bool same_namespace =
            own_namespace != 0 && end != ns_text && *end == '-' && ns == own_namespace;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue; // alive, or cannot tell
        struct stat st;
        if (::fstatat(::dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
        if (!same_namespace && now - static_cast<int64_t>(st.st_mtime) < kStaleSeconds) continue;
        if (::unlinkat(::dirfd(dir), name, 0) == 0) ++removed;
    }
    ::closedir(dir);
    return removed;
}

AtomicFile::AtomicFile(const std::string &path, Method preferred) : path_(path), folder_(folder_of(path)) {
    if (path.empty() || path.back() == '/') fail(LB_E_IO, "'%s': not a file path", path.c_str());
    // rename() would replace a device, a FIFO or a socket by the output
    // (/dev/null, for root); a symbolic link is replaced itself, as before
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        fail(LB_E_IO, "%s: exists and is not a regular file; lowbit does not replace it", path.c_str());
    remove_stale_temporaries(path);
    if (preferred == Method::Unnamed) {
        fd_ = ::open(folder_.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
        if (fd_ < 0) {
            // EOPNOTSUPP: the filesystem has no O_TMPFILE; EISDIR: nor has the
            // kernel (O_TMPFILE contains O_DIRECTORY)
            if (errno != EOPNOTSUPP && errno != EISDIR)
                fail(LB_E_IO, "%s: cannot create the output in '%s': %s", path.c_str(), folder_.c_str(),
                     std::strerror(errno));
            open_named();
        }
    } else {
        open_named();
    }
    buffer_.resize(kBufferSize);
}

void AtomicFile::open_named() {
    method_ = Method::Named;
    temp_path_ = temp_name(path_);
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0)
        fail(LB_E_IO, "%s: cannot create a temporary file in '%s': %s", path_.c_str(), folder_.c_str(),
             std::strerror(errno));
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (method_ == Method::Named && !committed_) ::unlink(temp_path_.c_str());
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
    // an unnamed file was created with the mode open(O_CREAT, 0666) gives;
    // a named one with 0600, so it gets that mode now
    if (method_ == Method::Named && ::fchmod(fd_, 0666 & ~current_umask()) != 0)
        fail(LB_E_IO, "%s: cannot set permissions: %s", path_.c_str(), std::strerror(errno));
    if (::fsync(fd_) != 0) fail(LB_E_IO, "%s: cannot write: %s", path_.c_str(), std::strerror(errno));
    if (method_ == Method::Named) {
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) fail(LB_E_IO, "%s: cannot write: %s", path_.c_str(), std::strerror(errno));
    }
}

void AtomicFile::link_unnamed() {
    int e = link_fd(fd_, path_);
    if (e == EEXIST) {
        // replace the existing file: link under a temporary name, rename over
        std::string temp;
        for (int attempt = 0; attempt < 100 && e == EEXIST; ++attempt)
            e = link_fd(fd_, temp = temp_name(path_));
        if (e == 0 && ::rename(temp.c_str(), path_.c_str()) != 0) {
            e = errno;
            ::unlink(temp.c_str());
        }
    }
    if (e != 0)
        fail(LB_E_IO, "%s: cannot put the finished file in place: %s", path_.c_str(),
             e == ENOENT ? "the folder no longer exists" : std::strerror(e));
}

void AtomicFile::publish() {
    if (method_ == Method::Unnamed) {
        link_unnamed();
        const int fd = fd_;
        fd_ = -1;
        ::close(fd);
    } else if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
        fail(LB_E_IO, "%s: cannot rename the finished temporary file into place: %s", path_.c_str(),
             std::strerror(errno));
    }
    committed_ = true;
    sync_folder(folder_); // make the new name itself durable
}

} // namespace lb
