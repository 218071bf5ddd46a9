// Splitting work over threads.
#pragma once

#include <cstdint>
#include <functional>

namespace lb {

// Number of hardware threads (at least 1).
int hardware_threads();

// Calls fn(begin, end) on contiguous, disjoint ranges that cover [0, n),
// using up to n_threads threads (the calling thread is one of them). Ranges
// are at least min_chunk items long. The first exception thrown by any call is
// rethrown after all threads have finished.
void parallel_for(int n_threads, int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)> &fn);

} // namespace lb
