// Paired timing for the benchmarks that put two implementations side by side:
// samples taken in pairs, one of each back to back (in alternating order), so
// that both sides of a pair see the same machine load.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace bench {

inline double seconds_of(const std::function<void()> &fn, int calls) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Calls per sample so that one sample takes at least sample_ms.
inline int calls_per_sample(const std::function<void()> &fn, double sample_ms) {
    fn(); // warm-up: caches, page faults, lazy initialization
    const double once = std::max(seconds_of(fn, 1), 1e-7);
    return std::max(1, static_cast<int>(sample_ms * 1e-3 / once + 0.999));
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Paired {
    double a = 0, b = 0;                  // median rates, elements per second
    double ratio = 0;                     // median of the paired ratios a / b
    double ratio_low = 0, ratio_high = 0; // quartiles of the paired ratios
};

// `samples` pairs of a and b, each sample at least sample_ms long; rates are
// `elements` per call per second.
inline Paired measure_pairs(const std::function<void()> &a, const std::function<void()> &b, double elements,
                            int samples, double sample_ms) {
    const int a_calls = calls_per_sample(a, sample_ms), b_calls = calls_per_sample(b, sample_ms);
    std::vector<double> a_rates, b_rates, ratios;
    for (int s = 0; s < samples; ++s) {
        double ra = 0, rb = 0;
        const auto sample_a = [&] { ra = elements * a_calls / seconds_of(a, a_calls); };
        const auto sample_b = [&] { rb = elements * b_calls / seconds_of(b, b_calls); };
        if (s % 2 == 0)
            sample_a(), sample_b();
        else
            sample_b(), sample_a();
        a_rates.push_back(ra);
        b_rates.push_back(rb);
        ratios.push_back(ra / rb);
    }
    Paired r;
    r.a = median(a_rates);
    r.b = median(b_rates);
    r.ratio = median(ratios);
    std::sort(ratios.begin(), ratios.end());
    r.ratio_low = ratios[ratios.size() / 4];
    r.ratio_high = ratios[(ratios.size() * 3) / 4];
    return r;
}

} // namespace bench
