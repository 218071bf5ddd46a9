// Small helpers the whole-model benchmarks share: what machine this is, and
// whether a cached model file is already there.
#pragma once

#include <fstream>
#include <string>
#include <sys/stat.h>

namespace bench {

inline bool file_exists(const std::string &path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

// "model name" of the first processor in /proc/cpuinfo
inline std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

} // namespace bench
