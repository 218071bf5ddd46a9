#include "common/parallel.hpp"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace lb {

int hardware_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

void parallel_for(int n_threads, int64_t n, int64_t min_chunk, const std::function<void(int64_t, int64_t)> &fn) {
    if (n <= 0) return;
    min_chunk = std::max<int64_t>(1, min_chunk);
    const int64_t max_parts = (n + min_chunk - 1) / min_chunk;
    const int parts = static_cast<int>(std::min<int64_t>(std::max(1, n_threads), max_parts));
    if (parts <= 1) {
        fn(0, n);
        return;
    }
    std::exception_ptr error;
    std::mutex error_mutex;
    auto run = [&](int part) {
        const int64_t begin = n * part / parts;
        const int64_t end = n * (part + 1) / parts;
        try {
            fn(begin, end);
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
        }
    };
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(parts - 1));
    for (int part = 1; part < parts; ++part) threads.emplace_back(run, part);
    run(0);
    for (auto &t : threads) t.join();
    if (error) std::rethrow_exception(error);
}

} // namespace lb
