// The progress bar the commands draw on stderr while a long call runs, and
// the size formatting they share.
#pragma once

#include "lowbit/lowbit.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace cli {

// A one-line bar ("[####......]  40%  3/12 blk.0.attn_q.weight"), redrawn at
// most every 100 ms, and only when stderr is a terminal.
class ProgressBar {
  public:
    ProgressBar();
    // Redraws the bar for p (the last call, done == total, always draws).
    void draw(const lb_progress *p);
    // Redraws the bar at fraction done (0..1) with a label after it.
    void draw(double fraction, const std::string &label, bool done);
    // Erases the bar, so that the next line starts clean.
    void clear();

  private:
    bool tty_ = false;
    bool shown_ = false;
    std::chrono::steady_clock::time_point last_{};
};

// bytes in MiB
double mib(uint64_t bytes);

} // namespace cli
