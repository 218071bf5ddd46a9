// Zstandard decompression (Debian's libzstd) into a memory file, fed in
// pieces: a .zst file of a checkpoint folder, or a .zst member of an archive.
// The input must end where a frame ends: a cut-off file is an error, never a
// short file.
#pragma once

#include "source/memory_file.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace lb::source {

class ZstdStream {
  public:
    // Decompresses into out, at most max_bytes (more is LB_E_FORMAT naming
    // the file: a member's limit, or a bomb).
    ZstdStream(MemoryFile &out, uint64_t max_bytes);
    ~ZstdStream();
    ZstdStream(const ZstdStream &) = delete;
    ZstdStream &operator=(const ZstdStream &) = delete;

    // Throws lb::Error (LB_E_FORMAT) naming the file if the data is not zstd.
    void feed(const void *p, size_t n);
    // Throws lb::Error (LB_E_FORMAT) naming the file if the input stopped
    // inside a frame (truncated) or held none.
    void finish();

  private:
    struct State;
    std::unique_ptr<State> s_;
};

// Decompresses the whole of [p, p + n) into out.
void unzstd(const uint8_t *p, size_t n, MemoryFile &out, uint64_t max_bytes);

} // namespace lb::source
