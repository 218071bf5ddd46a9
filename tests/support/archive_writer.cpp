#include "archive_writer.hpp"

#include "test_data.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <zstd.h>

namespace testarchive {

bool write_archive(const std::string &path, Packing packing, const std::vector<Member> &members) {
    archive *a = archive_write_new();
    bool ok = true;
    auto check = [&](int r, const char *what) {
        if (r < ARCHIVE_WARN && ok) {
            ADD_FAILURE() << path << ": libarchive " << what << ": " << archive_error_string(a);
            ok = false;
        }
    };
    if (packing == Packing::Zip) {
        check(archive_write_set_format_zip(a), "zip");
    } else {
        check(archive_write_set_format_pax_restricted(a), "pax");
        if (packing == Packing::TarGz) check(archive_write_add_filter_gzip(a), "gzip");
        if (packing == Packing::TarZst) check(archive_write_add_filter_zstd(a), "zstd");
        if (packing == Packing::TarXz) check(archive_write_add_filter_xz(a), "xz");
    }
    check(archive_write_open_filename(a, path.c_str()), "open");
    for (const Member &m : members) {
        if (!ok) break;
        archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m.name.c_str());
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 1700000000, 0);
        switch (m.kind) {
        case Kind::File:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, static_cast<la_int64_t>(m.bytes.size()));
            break;
        case Kind::Dir: archive_entry_set_filetype(e, AE_IFDIR); break;
        case Kind::Symlink:
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, m.target.c_str());
            break;
        case Kind::Hardlink:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, m.target.c_str());
            archive_entry_set_size(e, 0);
            break;
        case Kind::Fifo: archive_entry_set_filetype(e, AE_IFIFO); break;
        }
        check(archive_write_header(a, e), "header");
        if (ok && m.kind == Kind::File && !m.bytes.empty()) {
            const la_ssize_t n = archive_write_data(a, m.bytes.data(), m.bytes.size());
            if (n != static_cast<la_ssize_t>(m.bytes.size())) check(ARCHIVE_FATAL, "data");
        }
        archive_entry_free(e);
    }
    check(archive_write_close(a), "close");
    archive_write_free(a);
    return ok;
}

std::vector<Member> folder_members(const std::string &folder, const std::string &top) {
    std::vector<Member> out;
    for (const auto &entry : std::filesystem::directory_iterator(folder)) {
        if (!entry.is_regular_file()) continue;
        const std::string name = entry.path().filename().string();
        out.push_back({top.empty() ? name : top + "/" + name, testdata::read_file(entry.path().string())});
    }
    std::sort(out.begin(), out.end(), [](const Member &a, const Member &b) { return a.name < b.name; });
    return out;
}

std::vector<uint8_t> zstd_compress(const std::vector<uint8_t> &bytes) {
    std::vector<uint8_t> out(ZSTD_compressBound(bytes.size()));
    const size_t n = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), 3);
    EXPECT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
    out.resize(ZSTD_isError(n) ? 0 : n);
    return out;
}

} // namespace testarchive
