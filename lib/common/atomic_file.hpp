// An output file that appears at its path only when complete: data goes to a
// temporary file in the same folder, which commit() syncs and renames over the
// path. If commit() is never reached (error, cancellation, exception) the
// temporary file is removed and the path is left as it was.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lb {

class AtomicFile {
  public:
    // Creates the temporary file. Throws lb::Error (LB_E_IO) naming path.
    explicit AtomicFile(const std::string &path);
    ~AtomicFile();
    AtomicFile(const AtomicFile &) = delete;
    AtomicFile &operator=(const AtomicFile &) = delete;

    void write(const void *data, size_t size);
    void write_zeros(size_t size);
    uint64_t bytes_written() const { return written_; }
    // Flushes, gives the file the usual permissions, syncs and closes it.
    // Throws lb::Error (LB_E_IO).
    void finish();
    // Renames the finished file over the target path. Throws lb::Error.
    void publish();
    // finish() then publish().
    void commit() {
        finish();
        publish();
    }

    const std::string &path() const { return path_; }
    const std::string &temp_path() const { return temp_path_; }

  private:
    void flush();

    std::string path_;
    std::string temp_path_;
    int fd_ = -1;
    bool committed_ = false;
    uint64_t written_ = 0;
    std::vector<uint8_t> buffer_;
    size_t used_ = 0;
};

} // namespace lb
