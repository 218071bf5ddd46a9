// Archives for tests, written with libarchive's writer (a tar in pax form,
// plain or compressed, or a zip), members given by name: regular files, and
// the entries a reader must refuse (links, FIFOs, hostile names).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace testarchive {

enum class Kind { File, Dir, Symlink, Hardlink, Fifo };

struct Member {
    Member(std::string n, std::vector<uint8_t> b = {}, Kind k = Kind::File, std::string t = "")
        : name(std::move(n)), bytes(std::move(b)), kind(k), target(std::move(t)) {}
    std::string name;
    std::vector<uint8_t> bytes; // a File's
    Kind kind = Kind::File;
    std::string target; // a link's
};

enum class Packing { Tar, TarGz, TarZst, TarXz, Zip };

// Writes members to path in that packing; fails the test (ADD_FAILURE) and
// returns false if libarchive refuses.
bool write_archive(const std::string &path, Packing packing, const std::vector<Member> &members);

// The regular files of folder (not recursing), each named top + "/" + its
// name (its own name when top is empty), in name order.
std::vector<Member> folder_members(const std::string &folder, const std::string &top);

// bytes as one zstd frame (libzstd, level 3).
std::vector<uint8_t> zstd_compress(const std::vector<uint8_t> &bytes);

} // namespace testarchive
