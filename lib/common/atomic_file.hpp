// An output file that appears at its path only when complete, and leaves
// nothing behind otherwise: not on an error, a cancellation, an exception, a
// full disk, and not when the process is killed (SIGKILL) at any point.
//
// On Linux the data goes to an unnamed file in the output's folder
// (O_TMPFILE): it has no name until publish() links it into place, so if the
// process dies before, the kernel frees it with the last descriptor. A path
// that already exists is replaced by linking the file to a temporary name and
// renaming that over the path; a kill between those two calls (microseconds)
// is the only moment a temporary name can be left, and the next AtomicFile
// for the same path removes it (see below).
//
// Filesystems without O_TMPFILE (vfat, exFAT, NFS and CIFS shares, most FUSE
// filesystems; Linux before 3.11) get the classic scheme: a named temporary
// file ".NAME.lowbit-PID-NS-XXXXXX" next to the output (NS: the PID
// namespace), removed on every error and renamed into place when complete. A
// killed process leaves that file; the next AtomicFile for the same path
// removes the temporary files of processes that no longer exist: at once for
// a PID of its own namespace, after 60 s for another namespace's (whose PIDs
// it cannot check).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lb {

class AtomicFile {
  public:
    enum class Method {
        Unnamed, // O_TMPFILE, linked into place by publish()
        Named,   // a named temporary file, renamed into place by publish()
    };

    // Creates the temporary file: unnamed where the filesystem allows it,
    // else named (or named when asked). Throws lb::Error (LB_E_IO) naming path
    // and the reason (a missing or read-only folder, no permission, no space,
    // a path that exists and is neither a regular file nor a symbolic link).
    explicit AtomicFile(const std::string &path, Method preferred = Method::Unnamed);
    ~AtomicFile();
    AtomicFile(const AtomicFile &) = delete;
    AtomicFile &operator=(const AtomicFile &) = delete;

    // Throw lb::Error (LB_E_IO) naming the path and the reason (ENOSPC ...).
    void write(const void *data, size_t size);
    void write_zeros(size_t size);
    uint64_t bytes_written() const { return written_; }
    // Flushes, gives the file the usual permissions and syncs it.
    // Throws lb::Error (LB_E_IO).
    void finish();
    // Puts the finished file at the target path (replacing what was there)
    // and makes that durable. Throws lb::Error (LB_E_IO).
    void publish();
    // finish() then publish().
    void commit() {
        finish();
        publish();
    }

    const std::string &path() const { return path_; }
    Method method() const { return method_; }
    // The temporary file's name for Method::Named, "" for Method::Unnamed.
    const std::string &temp_path() const { return temp_path_; }

  private:
    void flush();
    void open_named();
    void link_unnamed();

    std::string path_;
    std::string folder_;
    Method method_ = Method::Unnamed;
    std::string temp_path_;
    int fd_ = -1;
    bool committed_ = false;
    uint64_t written_ = 0;
    std::vector<uint8_t> buffer_;
    size_t used_ = 0;
};

// Removes the named temporary files that AtomicFiles of processes that no
// longer exist left for path (".NAME.lowbit-PID-..." in its folder; see
// above for when another PID namespace's are taken for dead). Returns
// how many it removed. Never throws.
size_t remove_stale_temporaries(const std::string &path);

} // namespace lb
