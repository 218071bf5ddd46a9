#include "source/zstd_stream.hpp"

#include "common/error.hpp"

#include <vector>
#include <zstd.h>

namespace lb::source {

struct ZstdStream::State {
    State(MemoryFile &o, uint64_t max) : out(o), max_bytes(max) {}
    MemoryFile &out;
    uint64_t max_bytes;
    ZSTD_DStream *z = nullptr;
    std::vector<uint8_t> buffer;
    uint64_t written = 0;
    size_t pending = 0; // ZSTD_decompressStream's last hint: 0 when a frame just ended
    bool any = false;

    // One call of the decoder on in; what it gives is appended to out.
    // Returns the bytes it gave.
    size_t step(ZSTD_inBuffer &in) {
        ZSTD_outBuffer o{buffer.data(), buffer.size(), 0};
        const size_t r = ZSTD_decompressStream(z, &o, &in);
        if (ZSTD_isError(r))
            fail(LB_E_FORMAT, "%s: not valid zstd data: %s", out.name().c_str(), ZSTD_getErrorName(r));
        if (o.pos > max_bytes - written)
            fail(LB_E_FORMAT, "%s: decompresses to more than %llu bytes", out.name().c_str(),
                 static_cast<unsigned long long>(max_bytes));
        out.write_at(written, buffer.data(), o.pos);
        written += o.pos;
        pending = r;
        return o.pos;
    }
};

ZstdStream::ZstdStream(MemoryFile &out, uint64_t max_bytes) : s_(std::make_unique<State>(out, max_bytes)) {
    s_->z = ZSTD_createDStream();
    if (s_->z == nullptr) fail(LB_E_NOMEM, "%s: cannot start zstd decompression", out.name().c_str());
    s_->buffer.resize(ZSTD_DStreamOutSize());
}

ZstdStream::~ZstdStream() {
    ZSTD_freeDStream(s_->z);
}

void ZstdStream::feed(const void *p, size_t n) {
    ZSTD_inBuffer in{p, n, 0};
    if (n > 0) s_->any = true;
    while (in.pos < in.size) s_->step(in);
}

void ZstdStream::finish() {
    if (!s_->any) fail(LB_E_FORMAT, "%s: empty, not zstd data", s_->out.name().c_str());
    // flush what the decoder still holds for the last frame
    ZSTD_inBuffer none{nullptr, 0, 0};
    while (s_->pending != 0 && s_->step(none) > 0) {
    }
    if (s_->pending != 0)
        fail(LB_E_FORMAT, "%s: truncated: the zstd data ends inside a frame", s_->out.name().c_str());
}

void unzstd(const uint8_t *p, size_t n, MemoryFile &out, uint64_t max_bytes) {
    ZstdStream z(out, max_bytes);
    z.feed(p, n);
    z.finish();
}

} // namespace lb::source
