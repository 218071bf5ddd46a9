// The members of an archive (libarchive: tar in any of its dialects, plain
// or compressed with gzip, zstd, xz or bzip2, and zip) read in one pass into
// memory files: nothing is unpacked to disk, and member names are never used
// as paths. An archive holding a link (symbolic or hard), a device or FIFO,
// an absolute name, a ".." component or the same name twice is refused
// naming the member. Members named NAME.zst are decompressed and kept as
// NAME.
#pragma once

#include "source/memory_file.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace lb::source {

// A member's name with "." and empty components dropped ("./a//b" is "a/b").
// Throws lb::Error (LB_E_FORMAT) naming archive and member for an empty,
// absolute or ".." name.
std::string member_name(const std::string &archive, const std::string &raw);

struct ArchiveMembers {
    // Clean member name (without a .zst suffix that was decompressed) ->
    // its bytes. Only members wanted() chose are read; the others are
    // skipped over.
    std::map<std::string, std::unique_ptr<MemoryFile>> files;
};

// Reads archive. wanted(name) says whether to keep a member (name without
// .zst) and its size limit in bytes (0: skip it). Throws lb::Error naming
// the archive and member: LB_E_IO if it cannot be opened, LB_E_FORMAT if it
// is not an archive libarchive reads, is damaged or truncated, or holds a
// refused member.
ArchiveMembers read_archive(const std::string &archive,
                            const std::function<uint64_t(const std::string &)> &wanted);

} // namespace lb::source
