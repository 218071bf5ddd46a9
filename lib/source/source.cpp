#include "source/source.hpp"

#include "common/error.hpp"
#include "source/archive_members.hpp"
#include "source/zstd_stream.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sys/stat.h>
#include <vector>

namespace lb::source {

namespace {

constexpr const char *kConfig = "config.json";
// the JSON files and tokenizer.model: their readers' own limits are lower
constexpr uint64_t kMaxSmallFileBytes = 1ull << 30;

// Archive names, longest first so that ".tar.gz" wins over ".gz".
const char *const kArchiveSuffixes[] = {".tar.gz", ".tar.zst", ".tar.xz", ".tar.bz2", ".tgz",
                                        ".tzst",   ".txz",     ".tar",    ".zip"};

std::string base_name(std::string path) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The size limit of a file a checkpoint reads (0: not one).
uint64_t wanted_file(const std::string &base) {
    if (base.ends_with(".safetensors")) return std::numeric_limits<uint64_t>::max();
    if (base.ends_with(".json") || base == "tokenizer.model") return kMaxSmallFileBytes;
    return 0;
}

// A member at the top or in one top folder that a checkpoint reads.
uint64_t wanted_member(const std::string &name) {
    const size_t slash = name.find('/');
    if (slash != std::string::npos && name.find('/', slash + 1) != std::string::npos) return 0;
    return wanted_file(slash == std::string::npos ? name : name.substr(slash + 1));
}

bool regular_file(const std::string &path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

} // namespace

bool is_archive_path(const std::string &path) {
    for (const char *s : kArchiveSuffixes)
        if (path.ends_with(s)) return true;
    return false;
}

Source::Source(const std::string &path) : path_(path) {
    while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
    struct stat st;
    if (::stat(path_.c_str(), &st) != 0)
        fail(LB_E_IO, "%s: cannot open the checkpoint: %s", path_.c_str(), std::strerror(errno));
    if (S_ISDIR(st.st_mode)) return;
    if (!S_ISREG(st.st_mode) || !is_archive_path(path_))
        fail(LB_E_IO, "%s: not a folder, nor an archive of one (.tar, .tar.gz, .tar.zst, .zip ...)",
             path_.c_str());
    archive_ = true;
    ArchiveMembers read = read_archive(path_, wanted_member);
    // the checkpoint's place: config.json at the top, else in exactly one top folder
    std::vector<std::string> tops;
    if (read.files.count(kConfig) == 0)
        for (const auto &[name, file] : read.files)
            if (const size_t slash = name.find('/');
                slash != std::string::npos && name.substr(slash + 1) == kConfig)
                tops.push_back(name.substr(0, slash + 1));
    if (read.files.count(kConfig) == 0 && tops.empty())
        fail(LB_E_FORMAT, "%s: not a Hugging Face checkpoint: no config.json at its top or in a top folder",
             path_.c_str());
    if (tops.size() > 1)
        fail(LB_E_FORMAT, "%s: holds several checkpoints (%s and %s): give an archive of one", path_.c_str(),
             tops[0].c_str(), tops[1].c_str());
    top_ = tops.empty() ? "" : tops.front();
    for (auto &[name, file] : read.files) {
        if (name.compare(0, top_.size(), top_) != 0) continue;
        const std::string rest = name.substr(top_.size());
        if (rest.find('/') != std::string::npos) continue;
        compressed_[rest] = file->name().ends_with(".zst");
        members_.emplace(rest, std::move(file));
    }
}

Source::~Source() = default;

std::string Source::stem() const {
    if (!top_.empty()) return top_.substr(0, top_.size() - 1);
    std::string base = base_name(path_);
    if (archive_)
        for (const char *s : kArchiveSuffixes)
            if (base.ends_with(s) && base.size() > std::strlen(s)) {
                base.resize(base.size() - std::strlen(s));
                break;
            }
    return base;
}

std::string Source::where(const std::string &name) const {
    if (archive_) {
        const auto it = compressed_.find(name);
        return path_ + ":" + top_ + name + (it != compressed_.end() && it->second ? ".zst" : "");
    }
    const std::string plain = path_ + "/" + name;
    return !regular_file(plain) && regular_file(plain + ".zst") ? plain + ".zst" : plain;
}

bool Source::has(const std::string &name) const {
    if (archive_) return members_.count(name) != 0;
    return regular_file(path_ + "/" + name) || regular_file(path_ + "/" + name + ".zst");
}

std::unique_ptr<MappedFile> Source::map(const std::string &name) const {
    if (archive_) {
        const auto it = members_.find(name);
        if (it == members_.end()) fail(LB_E_IO, "%s: not in the archive", where(name).c_str());
        return std::make_unique<MappedFile>(it->second->fd(), it->second->name());
    }
    const std::string plain = path_ + "/" + name;
    if (regular_file(plain) || !regular_file(plain + ".zst")) return std::make_unique<MappedFile>(plain);
    const MappedFile packed(plain + ".zst");
    MemoryFile file(packed.path());
    unzstd(packed.data(), packed.size(), file,
           wanted_file(name) != 0 ? wanted_file(name) : kMaxSmallFileBytes);
    return std::make_unique<MappedFile>(file.fd(), file.name());
}

} // namespace lb::source
