// Fuzz target: any bytes as an archive (tar in any dialect and compression
// libarchive reads, or zip), through lb::source::read_archive as a Source
// reads it: a clear error (lb::Error naming the file) or members whose names
// are clean relative names (no empty, "." or ".." component, not absolute)
// and whose memory files hold at most their limit; every byte of every
// member is read back through its mapping. Never a crash, a sanitizer
// report, a leak or a hang.
#include "common/error.hpp"
#include "common/mapped_file.hpp"
#include "memfd_path.hpp"
#include "source/archive_members.hpp"

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

namespace {

constexpr uint64_t kLimit = 1 << 20;

bool clean(const std::string &name) {
    if (name.empty() || name.front() == '/' || name.back() == '/') return false;
    size_t start = 0;
    for (;;) {
        const size_t end = name.find('/', start);
        const std::string part =
            name.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (part.empty() || part == "." || part == "..") return false;
        if (end == std::string::npos) return true;
        start = end + 1;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const fuzz::MemFile file(data, size);
    if (!file.ok()) return 0;
    try {
        const lb::source::ArchiveMembers members =
            lb::source::read_archive(file.path(), [](const std::string &) { return kLimit; });
        uint32_t sum = 0;
        for (const auto &[name, member] : members.files) {
            if (!clean(name) || member == nullptr || member->size() > kLimit) __builtin_trap();
            const lb::MappedFile mapped(member->fd(), member->name());
            if (mapped.size() != member->size()) __builtin_trap();
            for (uint64_t i = 0; i < mapped.size(); ++i) sum += mapped.data()[i];
        }
        volatile uint32_t sink = sum;
        (void)sink;
    } catch (const lb::Error &e) {
        if (std::strstr(e.what(), file.path()) == nullptr) __builtin_trap();
    }
    return 0;
}
