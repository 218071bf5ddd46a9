#include "source/archive_members.hpp"

#include "common/error.hpp"
#include "source/zstd_stream.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace lb::source {

namespace {

constexpr const char *kZstSuffix = ".zst";

// Frees the libarchive reader on every path out.
struct Reader {
    archive *a = archive_read_new();
    ~Reader() { archive_read_free(a); }
    Reader() = default;
    Reader(const Reader &) = delete;
    Reader &operator=(const Reader &) = delete;
};

const char *message(archive *a) {
    const char *m = archive_error_string(a);
    return m != nullptr ? m : "unknown error";
}

// One member's data, through libarchive's blocks, into its memory file.
void read_data(archive *a, const std::string &where, MemoryFile &out, bool zst, uint64_t limit) {
    std::unique_ptr<ZstdStream> z;
    if (zst) z = std::make_unique<ZstdStream>(out, limit);
    for (;;) {
        const void *buf = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        const int r = archive_read_data_block(a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) fail(LB_E_FORMAT, "%s: cannot read the member: %s", where.c_str(), message(a));
        if (offset < 0) fail(LB_E_FORMAT, "%s: a data block at a negative offset", where.c_str());
        if (z) {
            z->feed(buf, size); // compressed bytes come in order
        } else {
            if (static_cast<uint64_t>(offset) > limit || size > limit - static_cast<uint64_t>(offset))
                fail(LB_E_FORMAT, "%s: larger than the %llu bytes lowbit reads for it", where.c_str(),
                     static_cast<unsigned long long>(limit));
            out.write_at(static_cast<uint64_t>(offset), buf, size);
        }
    }
    if (z) z->finish();
}

} // namespace

std::string member_name(const std::string &archive, const std::string &raw) {
    if (raw.empty()) fail(LB_E_FORMAT, "%s: a member has an empty name", archive.c_str());
    if (raw.front() == '/' || raw.front() == '\\')
        fail(LB_E_FORMAT, "%s: member \"%s\" has an absolute name", archive.c_str(), raw.c_str());
    std::string out;
    size_t i = 0;
    while (i <= raw.size()) {
        size_t j = raw.find_first_of("/\\", i);
        if (j == std::string::npos) j = raw.size();
        const std::string part = raw.substr(i, j - i);
        if (part == "..")
            fail(LB_E_FORMAT, "%s: member \"%s\" climbs out of the archive (\"..\")", archive.c_str(),
                 raw.c_str());
        if (!part.empty() && part != ".") {
            if (!out.empty()) out += '/';
            out += part;
        }
        i = j + 1;
    }
    if (out.empty()) fail(LB_E_FORMAT, "%s: member \"%s\" names no file", archive.c_str(), raw.c_str());
    return out;
}

ArchiveMembers read_archive(const std::string &path,
                            const std::function<uint64_t(const std::string &)> &wanted) {
    Reader r;
    if (r.a == nullptr) fail(LB_E_NOMEM, "%s: cannot start reading the archive", path.c_str());
    archive_read_support_filter_all(r.a);
    archive_read_support_format_tar(r.a);
    archive_read_support_format_zip(r.a);
    // a file that cannot be read is LB_E_IO; what libarchive refuses after that, LB_E_FORMAT
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) fail(LB_E_IO, "%s: cannot open the archive: %s", path.c_str(), std::strerror(errno));
    ::close(fd);
    if (archive_read_open_filename(r.a, path.c_str(), 1 << 16) != ARCHIVE_OK)
        fail(LB_E_FORMAT, "%s: not an archive lowbit reads (tar or zip), or damaged: %s", path.c_str(),
             message(r.a));
    ArchiveMembers out;
    for (;;) {
        archive_entry *e = nullptr;
        const int h = archive_read_next_header(r.a, &e);
        if (h == ARCHIVE_EOF) break;
        if (h < ARCHIVE_WARN)
            fail(LB_E_FORMAT, "%s: not an archive lowbit reads (tar or zip), or damaged: %s", path.c_str(),
                 message(r.a));
        const char *raw_name = archive_entry_pathname(e);
        if (raw_name == nullptr) raw_name = archive_entry_pathname_utf8(e);
        if (raw_name == nullptr) fail(LB_E_FORMAT, "%s: a member has no readable name", path.c_str());
        const std::string raw = raw_name;
        const std::string where = path + ":" + raw;
        const mode_t type = archive_entry_filetype(e);
        if (type == AE_IFDIR) continue;
        if (type == AE_IFLNK)
            fail(LB_E_FORMAT, "%s: a symbolic link (to \"%s\"): lowbit follows no links in archives",
                 where.c_str(), archive_entry_symlink(e) != nullptr ? archive_entry_symlink(e) : "");
        if (archive_entry_hardlink(e) != nullptr)
            fail(LB_E_FORMAT, "%s: a hard link (to \"%s\"): lowbit follows no links in archives",
                 where.c_str(), archive_entry_hardlink(e));
        if (type != AE_IFREG)
            fail(LB_E_FORMAT, "%s: not a regular file (a device, FIFO or socket)", where.c_str());
        std::string name = member_name(path, raw);
        const bool zst = name.ends_with(kZstSuffix);
        if (zst) name.resize(name.size() - std::strlen(kZstSuffix));
        if (out.files.count(name) != 0)
            fail(LB_E_FORMAT, "%s: member \"%s\" is in the archive twice%s", path.c_str(), name.c_str(),
                 zst ? " (plain and .zst)" : "");
        const uint64_t limit = wanted(name);
        if (limit == 0) {
            out.files.emplace(name, nullptr); // seen, to refuse a second one
            continue;                         // the next header skips the data
        }
        auto file = std::make_unique<MemoryFile>(where);
        read_data(r.a, where, *file, zst, limit);
        if (!zst && archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
            static_cast<uint64_t>(archive_entry_size(e)) > file->size()) {
            if (static_cast<uint64_t>(archive_entry_size(e)) > limit)
                fail(LB_E_FORMAT, "%s: larger than the %llu bytes lowbit reads for it", where.c_str(),
                     static_cast<unsigned long long>(limit));
            file->resize(static_cast<uint64_t>(archive_entry_size(e))); // a sparse tail
        }
        out.files.emplace(name, std::move(file));
    }
    for (auto it = out.files.begin(); it != out.files.end();)
        it = it->second == nullptr ? out.files.erase(it) : std::next(it);
    return out;
}

} // namespace lb::source
