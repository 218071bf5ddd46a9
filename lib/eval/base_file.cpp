#include "eval/base_file.hpp"

#include "common/atomic_file.hpp"
#include "common/error.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <sys/stat.h>
#include <zstd.h>

namespace lb::eval {

namespace {

constexpr char kMagic[8] = {'l', 'o', 'w', 'b', 'i', 't', 'L', 'P'};
constexpr char kEndMagic[8] = {'l', 'o', 'w', 'b', 'i', 't', 'L', 'E'};
constexpr uint32_t kVersion = 1;
constexpr int kLevel = 3;
// Limits a reader accepts (far beyond any real run; they bound what a
// crafted header can make it allocate): tokens in the text, bytes of a chunk.
constexpr uint64_t kMaxTokens = uint64_t(1) << 28;
constexpr uint64_t kMaxChunkBytes = uint64_t(1) << 32;

uint64_t scored(const BaseFileHeader &h) {
    return h.n_ctx - 1 - h.first;
}

uint64_t chunk_bytes(const BaseFileHeader &h) {
    return scored(h) * (16 + 2 * static_cast<uint64_t>(h.n_vocab));
}

void put_u32(std::vector<uint8_t> &out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_u64(std::vector<uint8_t> &out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
    return v;
}
uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
}

template <typename T> void append(std::vector<uint8_t> &out, const std::vector<T> &v) {
    const size_t at = out.size();
    out.resize(at + v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(out.data() + at, v.data(), v.size() * sizeof(T));
}

} // namespace

uint64_t vocab_hash(const tokenizer::Vocab &v) {
    uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&h](uint8_t b) {
        h ^= b;
        h *= 0x100000001b3ull;
    };
    for (const std::string &t : v.text) {
        for (const char c : t) mix(static_cast<uint8_t>(c));
        mix(0);
    }
    return h;
}

// --- writing ------------------------------------------------------------------

BaseFileWriter::BaseFileWriter(const std::string &path, const BaseFileHeader &h,
                               const std::vector<int32_t> &tokens)
    : path_(path), header_(h), out_(std::make_unique<AtomicFile>(path)) {
    std::vector<uint8_t> head(kMagic, kMagic + 8);
    put_u32(head, kVersion);
    put_u32(head, h.n_vocab);
    put_u32(head, h.n_ctx);
    put_u32(head, h.n_chunks);
    put_u32(head, h.first);
    put_u32(head, h.add_bos ? 1 : 0);
    put_u64(head, h.vocab_hash);
    put_u64(head, 0);
    out_->write(head.data(), head.size());
    std::vector<uint8_t> ids;
    append(ids, tokens);
    write_frame(ids);
}

BaseFileWriter::~BaseFileWriter() = default;

void BaseFileWriter::write_frame(const std::vector<uint8_t> &content) {
    std::vector<uint8_t> frame(ZSTD_compressBound(content.size()));
    // with the frame's content size and a checksum of it, which the reader checks
    std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx *)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    if (cctx == nullptr) fail(LB_E_NOMEM, "%s: cannot create a zstd context", path_.c_str());
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kLevel);
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_contentSizeFlag, 1);
    const size_t n = ZSTD_compress2(cctx.get(), frame.data(), frame.size(), content.data(), content.size());
    if (ZSTD_isError(n)) fail(LB_E_INTERNAL, "%s: zstd: %s", path_.c_str(), ZSTD_getErrorName(n));
    std::vector<uint8_t> size;
    put_u64(size, n);
    out_->write(size.data(), size.size());
    out_->write(frame.data(), n);
}

void BaseFileWriter::write_chunk(const BaseChunk &c) {
    if (c.size() != scored(header_) || c.n_vocab != header_.n_vocab)
        fail(LB_E_INTERNAL, "%s: a chunk of %zu positions x %lld, not %llu x %u", path_.c_str(), c.size(),
             static_cast<long long>(c.n_vocab), static_cast<unsigned long long>(scored(header_)),
             header_.n_vocab);
    std::vector<uint8_t> content;
    content.reserve(chunk_bytes(header_));
    append(content, c.top);
    append(content, c.nll);
    append(content, c.kept);
    append(content, c.argmax);
    // byte planes: the high bytes (which repeat) compress apart from the low ones
    const size_t at = content.size();
    content.resize(at + 2 * c.q.size());
    for (size_t i = 0; i < c.q.size(); ++i) {
        content[at + i] = static_cast<uint8_t>(c.q[i] >> 8);
        content[at + c.q.size() + i] = static_cast<uint8_t>(c.q[i]);
    }
    write_frame(content);
    ++chunks_written_;
}

void BaseFileWriter::finish() {
    if (chunks_written_ != header_.n_chunks)
        fail(LB_E_INTERNAL, "%s: %u chunks written of %u", path_.c_str(), chunks_written_, header_.n_chunks);
    std::vector<uint8_t> tail(kEndMagic, kEndMagic + 8);
    put_u32(tail, chunks_written_);
    out_->write(tail.data(), tail.size());
    out_->commit();
}

// --- reading ------------------------------------------------------------------

BaseFileReader::BaseFileReader(const std::string &path) : path_(path) {
    file_ = std::fopen(path.c_str(), "rb");
    if (file_ == nullptr) fail(LB_E_IO, "cannot open %s: %s", path.c_str(), std::strerror(errno));
    struct stat st;
    if (::fstat(::fileno(file_), &st) != 0 || !S_ISREG(st.st_mode)) {
        std::fclose(file_);
        file_ = nullptr;
        fail(LB_E_IO, "%s is not a regular file", path.c_str());
    }
    file_size_ = static_cast<uint64_t>(st.st_size);
    uint8_t head[48];
    read_exact(head, sizeof head, "the header");
    if (std::memcmp(head, kMagic, 8) != 0)
        fail(LB_E_FORMAT, "%s is not a lowbit base-logits file (no \"lowbitLP\" at its start)", path.c_str());
    const uint32_t version = get_u32(head + 8);
    if (version != kVersion)
        fail(LB_E_FORMAT, "%s: base-logits file version %u (this lowbit reads version %u)", path.c_str(),
             version, kVersion);
    header_.n_vocab = get_u32(head + 12);
    header_.n_ctx = get_u32(head + 16);
    header_.n_chunks = get_u32(head + 20);
    header_.first = get_u32(head + 24);
    const uint32_t add_bos = get_u32(head + 28);
    header_.add_bos = add_bos != 0;
    header_.vocab_hash = get_u64(head + 32);
    if (header_.n_vocab == 0 || header_.n_ctx < 2 || header_.first != header_.n_ctx / 2 || add_bos > 1 ||
        header_.n_chunks == 0)
        fail(LB_E_FORMAT, "%s: impossible header (vocabulary %u, context %u, first scored %u, %u chunks)",
             path.c_str(), header_.n_vocab, header_.n_ctx, header_.first, header_.n_chunks);
    const uint64_t n_tokens = static_cast<uint64_t>(header_.n_ctx) * header_.n_chunks;
    if (n_tokens > kMaxTokens || chunk_bytes(header_) > kMaxChunkBytes)
        fail(LB_E_FORMAT, "%s: %u chunks of %u tokens over a vocabulary of %u are beyond what lowbit reads",
             path.c_str(), header_.n_chunks, header_.n_ctx, header_.n_vocab);
    const std::vector<uint8_t> ids = read_frame(n_tokens * 4, "the tokens");
    tokens_.resize(n_tokens);
    std::memcpy(tokens_.data(), ids.data(), ids.size());
    for (const int32_t t : tokens_)
        if (t < 0 || static_cast<uint32_t>(t) >= header_.n_vocab)
            fail(LB_E_FORMAT, "%s: token id %d outside the vocabulary of %u", path.c_str(), t,
                 header_.n_vocab);
}

BaseFileReader::~BaseFileReader() {
    if (file_ != nullptr) std::fclose(file_);
}

void BaseFileReader::read_exact(void *dst, size_t n, const char *what) {
    if (n > file_size_ - offset_ || std::fread(dst, 1, n, file_) != n)
        fail(LB_E_FORMAT, "%s is truncated: %s ends after byte %llu", path_.c_str(), what,
             static_cast<unsigned long long>(file_size_));
    offset_ += n;
}

std::vector<uint8_t> BaseFileReader::read_frame(uint64_t expected, const char *what) {
    uint8_t size[8];
    read_exact(size, sizeof size, what);
    const uint64_t n = get_u64(size);
    if (n > file_size_ - offset_)
        fail(LB_E_FORMAT, "%s is truncated: %s needs %llu bytes, %llu are left", path_.c_str(), what,
             static_cast<unsigned long long>(n), static_cast<unsigned long long>(file_size_ - offset_));
    std::vector<uint8_t> frame(n);
    read_exact(frame.data(), n, what);
    const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
    if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN || content != expected ||
        ZSTD_findFrameCompressedSize(frame.data(), frame.size()) != n)
        fail(LB_E_FORMAT, "%s: %s is not one zstd frame of %llu bytes", path_.c_str(), what,
             static_cast<unsigned long long>(expected));
    std::vector<uint8_t> out(expected);
    const size_t got = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
    if (ZSTD_isError(got) || got != expected)
        fail(LB_E_FORMAT, "%s: %s is corrupt (zstd: %s)", path_.c_str(), what,
             ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short");
    return out;
}

void BaseFileReader::read_chunk(BaseChunk &c) {
    if (chunks_read_ >= header_.n_chunks)
        fail(LB_E_INTERNAL, "%s: all %u chunks were read", path_.c_str(), header_.n_chunks);
    const std::string what = "chunk " + std::to_string(chunks_read_ + 1);
    const std::vector<uint8_t> content = read_frame(chunk_bytes(header_), what.c_str());
    const size_t n = scored(header_);
    c.resize(n, header_.n_vocab);
    const uint8_t *p = content.data();
    std::memcpy(c.top.data(), p, 4 * n);
    std::memcpy(c.nll.data(), p + 4 * n, 4 * n);
    std::memcpy(c.kept.data(), p + 8 * n, 4 * n);
    std::memcpy(c.argmax.data(), p + 12 * n, 4 * n);
    const uint8_t *hi = p + 16 * n, *lo = hi + c.q.size();
    for (size_t i = 0; i < c.q.size(); ++i) c.q[i] = static_cast<uint16_t>(hi[i] << 8 | lo[i]);
    for (size_t k = 0; k < n; ++k)
        if (c.argmax[k] < 0 || static_cast<uint32_t>(c.argmax[k]) >= header_.n_vocab || !(c.top[k] <= 0.0f) ||
            !std::isfinite(c.top[k]) || !(c.nll[k] >= 0.0f) || !std::isfinite(c.nll[k]) ||
            !(c.kept[k] <= 0.0f) || !std::isfinite(c.kept[k]))
            fail(LB_E_FORMAT,
                 "%s: %s, position %zu: impossible values (top log-probability %g, nll %g, kept %g, argmax "
                 "%d)",
                 path_.c_str(), what.c_str(), k, static_cast<double>(c.top[k]), static_cast<double>(c.nll[k]),
                 static_cast<double>(c.kept[k]), c.argmax[k]);
    ++chunks_read_;
}

void BaseFileReader::finish() {
    uint8_t tail[12];
    read_exact(tail, sizeof tail, "the trailer");
    if (std::memcmp(tail, kEndMagic, 8) != 0 || get_u32(tail + 8) != header_.n_chunks)
        fail(LB_E_FORMAT, "%s: no valid trailer after chunk %u", path_.c_str(), header_.n_chunks);
    if (offset_ != file_size_)
        fail(LB_E_FORMAT, "%s: %llu bytes after the trailer", path_.c_str(),
             static_cast<unsigned long long>(file_size_ - offset_));
}

} // namespace lb::eval
