#include "kernels_info.hpp"

#include "json.hpp"
#include "lowbit/lowbit.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace cli {

namespace {

std::vector<std::string> words(const char *text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

std::string joined(const std::vector<std::string> &items, const char *sep) {
    std::string s;
    for (const std::string &i : items) s += (s.empty() ? "" : sep) + i;
    return s;
}

std::vector<std::string> sets(bool available_only) {
    std::vector<std::string> out;
    for (size_t i = 0; i < lb_kernels_count(); ++i)
        if (!available_only || lb_kernels_available(lb_kernels_name(i))) out.push_back(lb_kernels_name(i));
    return out;
}

// LOWBIT_KERNELS, or nullptr if it is unset or empty
const char *forced() {
    const char *f = std::getenv("LOWBIT_KERNELS");
    return f != nullptr && *f != '\0' ? f : nullptr;
}

} // namespace

int print_cpu_info(bool json) {
    const char *active = lb_kernels_active();
    const char *f = forced();
    const bool honoured = f != nullptr && lb_kernels_available(f);
    if (json) {
        std::string s = "{\n  \"cpu_features\": [";
        const std::vector<std::string> features = words(lb_cpu_features());
        for (size_t i = 0; i < features.size(); ++i) s += (i ? ", " : "") + json_string(features[i]);
        s += "],\n  \"kernel_sets\": [";
        const std::vector<std::string> all = sets(false);
        for (size_t i = 0; i < all.size(); ++i)
            s += std::string(i ? ", " : "") + "{\"name\": " + json_string(all[i]) +
                 ", \"runs_here\": " + (lb_kernels_available(all[i].c_str()) ? "true" : "false") + "}";
        s += "],\n  \"active\": " + json_string(active) + ",\n  \"forced\": ";
        s += f != nullptr ? json_string(f) : "null";
        s += std::string(",\n  \"forced_used\": ") + (honoured ? "true" : "false") + "\n}\n";
        std::fputs(s.c_str(), stdout);
        return 0;
    }
    std::printf("cpu:       %s\n", lb_cpu_features());
    std::printf("kernels:   %s in this build; this CPU runs %s\n", joined(sets(false), ", ").c_str(),
                joined(sets(true), ", ").c_str());
    if (honoured)
        std::printf("using:     %s (LOWBIT_KERNELS)\n", active);
    else if (f != nullptr)
        std::printf("using:     %s (the fastest this CPU runs; LOWBIT_KERNELS=%s is not one of them)\n",
                    active, f);
    else
        std::printf("using:     %s (the fastest this CPU runs; LOWBIT_KERNELS chooses another)\n", active);
    return 0;
}

void warn_unusable_forced_kernels() {
    const char *f = forced();
    if (f == nullptr || lb_kernels_available(f)) return;
    std::fprintf(
        stderr,
        "lowbit: warning: LOWBIT_KERNELS=%s is not a kernel set this CPU runs (it runs %s); using %s\n", f,
        joined(sets(true), ", ").c_str(), lb_kernels_active());
}

} // namespace cli
