// compare_tiled: the tiled layouts (Q8R16, Q4_K_4: docs/formats.md) against
// the standard layout of the same weights, through the same matrix-product
// driver (lb::kernels::matmul, one thread), for every kernel set of this CPU
// with a kernel for the layout. Weights: 256 rows x 4096 Gaussian values,
// quantized by lowbit; activations: batches of 1, 16 and 64 tokens (the
// driver's conversion of the activations is timed on both sides). Paired
// samples; the median rates in millions of weights x tokens per second and
// the median of the paired ratios tiled / standard (above 1: the tiled layout
// is faster), with its quartiles.
//
// Usage: compare_tiled [--samples N]
#include "formats/tiled_layouts.hpp"
#include "kernels/kernels.hpp"
#include "kernels/matmul.hpp"
#include "lowbit/lowbit.h"
#include "paired.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int64_t kWidth = 4096, kRows = 256;

} // namespace

int main(int argc, char **argv) {
    int samples = 11;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--samples" && i + 1 < argc) {
            samples = std::max(3, std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr, "usage: compare_tiled [--samples N]\n");
            return 1;
        }
    }
    std::printf("lowbit:   %s (cpu: %s)\n", lb_version(), lb_cpu_features());
    std::printf("setup:    1 thread, %lld weight rows x %lld, %d sample pairs\n\n",
                static_cast<long long>(kRows), static_cast<long long>(kWidth), samples);
    std::printf("layout  kernels  tokens  tiled Mw/s  standard Mw/s   ratio  ratio IQR   max |tiled-std| / "
                "max |y|\n");
    std::printf("------  -------  ------  ----------  -------------   -----  ---------   "
                "-------------------------\n");

    std::mt19937 rng(20261202);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> w(static_cast<size_t>(kRows * kWidth)), x(static_cast<size_t>(64 * kWidth));
    for (float &f : w) f = normal(rng);
    for (float &f : x) f = normal(rng);

    for (lb::formats::Layout layout : {lb::formats::Layout::q8r16, lb::formats::Layout::q4_k_4}) {
        const lb::formats::LayoutTraits &lt = lb::formats::layout_traits(layout);
        size_t row = 0;
        lb_row_size(&row, lt.base, kWidth);
        std::vector<uint8_t> q(row * kRows), tiled(row * kRows);
        if (lb_quantize_rows(lt.base, w.data(), kRows, kWidth, nullptr, q.data(), q.size()) != LB_OK) {
            std::fprintf(stderr, "compare_tiled: %s\n", lb_last_error());
            return 1;
        }
        const size_t group = row * static_cast<size_t>(lt.rows);
        for (size_t g = 0; g < q.size() / group; ++g)
            lb::formats::interleave(layout, kWidth, q.data() + g * group, tiled.data() + g * group);
        const lb::kernels::WeightMatrix standard{
            .type = lt.base, .n = kWidth, .rows = kRows, .data = q.data(), .row_bytes = row};
        lb::kernels::WeightMatrix packed = standard;
        packed.data = tiled.data();
        packed.layout = layout;
        bool any = false;
        for (int s = 0; s < lb::kernels::set_count(); ++s) {
            const lb::kernels::KernelSet *set = lb::kernels::find(lb::kernels::set_name(s));
            if (set == nullptr || set->dot().tiled[static_cast<int>(layout)] == nullptr) continue;
            any = true;
            for (int64_t tokens : {1, 16, 64}) {
                std::vector<float> y_tiled(static_cast<size_t>(kRows * tokens)), y_std(y_tiled.size());
                lb::kernels::MatmulScratch s1, s2;
                const auto run_tiled = [&] {
                    lb::kernels::matmul(set->dot(), packed, x.data(), tokens, y_tiled.data(), 1, s1);
                };
                const auto run_std = [&] {
                    lb::kernels::matmul(set->dot(), standard, x.data(), tokens, y_std.data(), 1, s2);
                };
                const bench::Paired m = bench::measure_pairs(
                    run_tiled, run_std, static_cast<double>(kRows * kWidth * tokens), samples, 20.0);
                double worst = 0, top = 0;
                for (size_t i = 0; i < y_std.size(); ++i) {
                    worst = std::max(worst, std::fabs(double(y_tiled[i]) - y_std[i]));
                    top = std::max(top, std::fabs(double(y_std[i])));
                }
                std::printf("%-6s  %-7s  %6lld  %10.1f  %13.1f  %6.2f  %4.2f-%-4.2f   %.1e\n", lt.name,
                            set->name, static_cast<long long>(tokens), m.a / 1e6, m.b / 1e6, m.ratio,
                            m.ratio_low, m.ratio_high, worst / top);
                std::fflush(stdout);
            }
        }
        if (!any) std::printf("%-6s  (no kernel set of this CPU has a kernel for it)\n", lt.name);
    }
    return 0;
}
