// A scratch folder for the fuzz targets' outputs: one per process, under
// $TMPDIR (or /tmp), removed with what is left in it when the process exits.
#pragma once

#include <cstdlib>
#include <dirent.h>
#include <string>
#include <unistd.h>

namespace fuzz {

inline const std::string &scratch_dir() {
    // never destroyed: the exit handler below runs after static destructors
    static const std::string *const dir = [] {
        const char *tmp = std::getenv("TMPDIR");
        auto *d = new std::string(std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                                  "/lowbit-fuzz-XXXXXX");
        if (::mkdtemp(d->data()) == nullptr) std::abort();
        std::atexit([] {
            const std::string &folder = scratch_dir();
            if (DIR *h = ::opendir(folder.c_str())) {
                while (const dirent *e = ::readdir(h))
                    if (e->d_name[0] != '.' || (e->d_name[1] != '\0' && e->d_name[1] != '.'))
                        ::unlink((folder + "/" + e->d_name).c_str());
                ::closedir(h);
            }
            ::rmdir(folder.c_str());
        });
        return d;
    }();
    return *dir;
}

inline std::string scratch_path(const std::string &name) {
    return scratch_dir() + "/" + name;
}

// A model lowbit wrote must open again: anything else is a bug.
inline void reopen_or_trap(const std::string &path) {
    lb_model *m = nullptr;
    if (lb_model_open(&m, path.c_str()) != LB_OK) __builtin_trap();
    lb_model_close(m);
    ::unlink(path.c_str());
}

} // namespace fuzz
