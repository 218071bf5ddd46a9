#include "progress_bar.hpp"

#include <cstdio>
#include <string>
#include <unistd.h>

namespace cli {

ProgressBar::ProgressBar() : tty_(::isatty(STDERR_FILENO) != 0) {}

void ProgressBar::draw(const lb_progress *p) {
    const double frac = p->total_elements > 0
                            ? static_cast<double>(p->done_elements) / static_cast<double>(p->total_elements)
                            : 1.0;
    char counts[64];
    std::snprintf(counts, sizeof counts, "%zu/%zu ", p->tensor_index + 1, p->tensor_count);
    draw(frac, counts + std::string(p->tensor_name), p->done_elements == p->total_elements);
}

void ProgressBar::draw(double frac, const std::string &label, bool done) {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!done && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    frac = frac < 0.0 ? 0.0 : frac > 1.0 ? 1.0 : frac;
    const int width = 30, filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    std::fprintf(stderr, "\r\033[K[%s] %3d%%  %s", bar.c_str(), static_cast<int>(frac * 100.0),
                 label.c_str());
    shown_ = true;
}

void ProgressBar::clear() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
}

double mib(uint64_t bytes) {
    return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

} // namespace cli
