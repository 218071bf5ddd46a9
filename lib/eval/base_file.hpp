// lowbit's saved base-logits file: the base model's distribution at every
// scored position of a text, so that one run of a 16-bit model serves the
// KL-divergence of many quantized ones. Written and read chunk by chunk
// (memory O(ctx x vocab), never O(text x vocab)).
//
// Layout (little-endian), version 1:
//   header, 48 bytes:
//     char     magic[8]      "lowbitLP"
//     uint32   version       1
//     uint32   n_vocab       the logit row width
//     uint32   n_ctx         tokens per chunk
//     uint32   n_chunks
//     uint32   first         the first scored position of a chunk (n_ctx / 2)
//     uint32   add_bos       1 if each chunk's first token was replaced by BOS
//     uint64   vocab_hash    FNV-1a 64 of the vocabulary's token texts (see vocab_hash())
//     uint64   reserved      0
//   tokens: uint64 size, then one zstd frame of n_ctx x n_chunks int32: the
//     text's tokens (before any BOS replacement)
//   n_chunks records: uint64 size, then one zstd frame of, for the
//     n = n_ctx - 1 - first scored positions of the chunk:
//       float top[n], float nll[n], float kept[n], int32 argmax[n]
//       (see base_log_probs.hpp)
//       the high bytes of q[n][n_vocab], then their low bytes
//   trailer: char "lowbitLE", uint32 n_chunks
// A reader checks every size against the header and the file, and each
// frame's content size against what the header implies, before it
// decompresses anything.
#pragma once

#include "eval/base_log_probs.hpp"
#include "tokenizer/vocab.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace lb {
class AtomicFile;
}

namespace lb::eval {

struct BaseFileHeader {
    uint32_t n_vocab = 0, n_ctx = 0, n_chunks = 0, first = 0;
    bool add_bos = false;
    uint64_t vocab_hash = 0;
};

// FNV-1a 64 over each token's text followed by a NUL byte.
uint64_t vocab_hash(const tokenizer::Vocab &v);

class BaseFileWriter {
  public:
    // Creates the file (an AtomicFile: it appears only when finish() ran).
    // Throws lb::Error (LB_E_IO).
    BaseFileWriter(const std::string &path, const BaseFileHeader &h, const std::vector<int32_t> &tokens);
    ~BaseFileWriter();
    void write_chunk(const BaseChunk &chunk);
    // Writes the trailer and puts the file in place.
    void finish();

  private:
    void write_frame(const std::vector<uint8_t> &content);
    std::string path_;
    BaseFileHeader header_;
    std::unique_ptr<AtomicFile> out_;
    uint32_t chunks_written_ = 0;
};

class BaseFileReader {
  public:
    // Opens and checks the header and the tokens. Throws lb::Error
    // (LB_E_IO: cannot read; LB_E_FORMAT: not such a file, a size that does
    // not fit, a corrupt or truncated frame — the message names the file).
    explicit BaseFileReader(const std::string &path);
    ~BaseFileReader();
    const BaseFileHeader &header() const { return header_; }
    const std::vector<int32_t> &tokens() const { return tokens_; }
    // Reads the next chunk's positions into chunk. Throws lb::Error.
    void read_chunk(BaseChunk &chunk);
    // Checks the trailer after the last chunk. Throws lb::Error.
    void finish();

  private:
    std::vector<uint8_t> read_frame(uint64_t expected, const char *what);
    void read_exact(void *dst, size_t n, const char *what);
    std::string path_;
    std::FILE *file_ = nullptr;
    uint64_t file_size_ = 0, offset_ = 0;
    BaseFileHeader header_;
    std::vector<int32_t> tokens_;
    uint32_t chunks_read_ = 0;
};

} // namespace lb::eval
