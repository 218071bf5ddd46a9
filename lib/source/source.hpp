// Where a Hugging Face checkpoint's files come from: a folder, or an archive
// of one (.tar, .tar.gz/.tgz, .tar.zst/.tzst, .tar.xz/.txz, .tar.bz2, .zip).
// In either, a file NAME.zst stands for NAME decompressed (libzstd).
//
// An archive is read once, front to back, when the Source is made: the files
// a checkpoint needs (*.json, *.safetensors, tokenizer.model) are kept in
// memory files, every other member is skipped, nothing is unpacked to disk
// and no member name is used as a path (archive_members.hpp). The checkpoint
// may lie at the archive's top or in one top folder ("Llama-3.2-1B/..."),
// as `tar -C models -c Llama-3.2-1B` writes it. Memory then holds the
// checkpoint's uncompressed size (the kernel may page it out); a folder's
// files are mapped from disk.
#pragma once

#include "common/mapped_file.hpp"
#include "source/memory_file.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <string>

namespace lb::source {

// Whether path is named as an archive Source opens.
bool is_archive_path(const std::string &path);

class Source {
  public:
    // Opens a folder, or reads an archive. Throws lb::Error naming the path
    // (and member): LB_E_IO if it cannot be read, LB_E_FORMAT for a damaged
    // or refused archive, or one with no config.json at its top or in a top
    // folder.
    explicit Source(const std::string &path);
    ~Source();
    Source(const Source &) = delete;
    Source &operator=(const Source &) = delete;

    const std::string &path() const { return path_; }
    bool is_archive() const { return archive_; }
    // The folder's base name; an archive's top folder, else its base name
    // without the extension: the model's name when its config gives none.
    std::string stem() const;
    // What messages call file name: "FOLDER/NAME", "ARCHIVE:TOP/NAME" (with
    // .zst when it came compressed).
    std::string where(const std::string &name) const;
    // Whether file name (or name.zst) is there.
    bool has(const std::string &name) const;
    // The file mapped. Throws lb::Error naming where(name): LB_E_IO if it is
    // absent or unreadable, LB_E_FORMAT for bad zstd data.
    std::unique_ptr<MappedFile> map(const std::string &name) const;

  private:
    std::string path_;
    bool archive_ = false;
    std::string top_; // the archive's top folder holding the checkpoint, with '/', or ""
    std::map<std::string, std::unique_ptr<MemoryFile>> members_;
    std::map<std::string, bool> compressed_; // member name -> it was NAME.zst
};

} // namespace lb::source
