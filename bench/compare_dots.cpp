// compare_dots: lowbit's dot products against those of the ggml CPU backend
// llama.cpp would load on this CPU (the peer's libggml-cpu-<variant>.so,
// loaded with dlopen), in one process, single thread, on identical weights.
// Per weight type: 64 weight rows of 4096 values quantized by lowbit (in
// L2), each times one activation row, one dot product at a time, as ggml's
// mul_mat calls vec_dot for a single token; each library converts the
// activations with its own code, once, outside the timing. lowbit runs its
// kernel set in use (LOWBIT_KERNELS chooses another). Paired samples, median
// rates in millions of weights per second, the median of the paired ratios
// lowbit / ggml (above 1: lowbit is faster) with its quartiles.
//
// Usage: compare_dots [--variant zen4|haswell|...] [--samples N] [--only T1,T2]
// (default variant: zen4 if this CPU has AVX-512 VNNI and BF16, else haswell).
#include "ggml_peer.hpp"
#include "kernels/kernels.hpp"
#include "lowbit/lowbit.h"
#include "paired.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int64_t kWidth = 4096, kRows = 64;

using VecDot = void (*)(int n, float *s, size_t bs, const void *x, size_t bx, const void *y, size_t by,
                        int nrc);
using FromFloat = void (*)(const float *x, void *y, int64_t n);

struct Variant {
    void *handle = nullptr;
    void *symbol(const std::string &name) const {
        void *p = ::dlsym(handle, name.c_str());
        if (p == nullptr) {
            std::fprintf(stderr, "compare_dots: %s not in the variant library\n", name.c_str());
            std::exit(2);
        }
        return p;
    }
};

struct TypeCase {
    lb_type type;
    const char *dot;        // ggml_vec_dot_<dot>
    const char *activation; // ggml's conversion of the activations
    size_t activation_bytes_per_value_x32;
};

// ggml's pairing (vec_dot_type) and its own row conversions
const TypeCase kCases[] = {
    {LB_TYPE_F32, "f32", nullptr, 32 * 4},
    {LB_TYPE_F16, "f16", "ggml_cpu_fp32_to_fp16", 32 * 2},
    {LB_TYPE_BF16, "bf16", "ggml_cpu_fp32_to_bf16", 32 * 2},
    {LB_TYPE_Q4_0, "q4_0_q8_0", "quantize_row_q8_0", 34},
    {LB_TYPE_Q4_1, "q4_1_q8_1", "quantize_row_q8_1", 36},
    {LB_TYPE_Q5_0, "q5_0_q8_0", "quantize_row_q8_0", 34},
    {LB_TYPE_Q5_1, "q5_1_q8_1", "quantize_row_q8_1", 36},
    {LB_TYPE_Q8_0, "q8_0_q8_0", "quantize_row_q8_0", 34},
    {LB_TYPE_Q2_K, "q2_K_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_Q3_K, "q3_K_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_Q4_K, "q4_K_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_Q5_K, "q5_K_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_Q6_K, "q6_K_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_IQ4_NL, "iq4_nl_q8_0", "quantize_row_q8_0", 34},
    {LB_TYPE_IQ4_XS, "iq4_xs_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_TQ1_0, "tq1_0_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_TQ2_0, "tq2_0_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_MXFP4, "mxfp4_q8_0", "quantize_row_q8_0", 34},
    {LB_TYPE_NVFP4, "nvfp4_q8_0", "quantize_row_q8_0", 34},
    {LB_TYPE_Q1_0, "q1_0_q8_0", "quantize_row_q8_0", 34},
    {LB_TYPE_Q2_0, "q2_0_q8_0", "quantize_row_q8_0", 34},
    {LB_TYPE_IQ2_XXS, "iq2_xxs_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_IQ2_XS, "iq2_xs_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_IQ2_S, "iq2_s_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_IQ3_XXS, "iq3_xxs_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_IQ3_S, "iq3_s_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_IQ1_S, "iq1_s_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
    {LB_TYPE_IQ1_M, "iq1_m_q8_K", "quantize_row_q8_K", (292 + 7) / 8},
};

bool has(const std::string &features, const char *f) {
    return (" " + features + " ").find(std::string(" ") + f + " ") != std::string::npos;
}

} // namespace

int main(int argc, char **argv) {
    std::string variant, only;
    int samples = 11;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--variant" && i + 1 < argc)
            variant = argv[++i];
        else if (a == "--samples" && i + 1 < argc)
            samples = std::max(3, std::atoi(argv[++i]));
        else if (a == "--only" && i + 1 < argc)
            only = std::string(",") + argv[++i] + ",";
        else {
            std::fprintf(stderr,
                         "usage: compare_dots [--variant zen4|haswell|...] [--samples N] [--only T1,T2]\n");
            return 1;
        }
    }
    const std::string features = lb_cpu_features();
    if (variant.empty())
        variant = has(features, "avx512vnni") && has(features, "avx512bf16") ? "zen4" : "haswell";
    peer::Ggml::get(); // libggml-base first
    Variant v;
    const std::string path = peer::library_dir() + "/libggml-cpu-" + variant + ".so";
    v.handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (v.handle == nullptr) {
        std::fprintf(stderr, "compare_dots: cannot load %s: %s\n", path.c_str(), ::dlerror());
        return 2;
    }
    reinterpret_cast<void (*)()>(v.symbol("ggml_cpu_init"))();

    std::printf("lowbit:   %s, kernels %s (cpu: %s)\n", lb_version(), lb_kernels_active(), features.c_str());
    std::printf("ggml:     %s\n", path.c_str());
    std::printf("setup:    1 thread, %lld weight rows x %lld, one dot product at a time, %d sample pairs\n\n",
                static_cast<long long>(kRows), static_cast<long long>(kWidth), samples);
    std::printf("format  lowbit Mw/s    ggml Mw/s   ratio  ratio IQR    |lowbit-ggml| / sum|w a|\n");
    std::printf("------  -----------    ---------   -----  -----------  -----------------------\n");

    std::mt19937 rng(20261201);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> w(static_cast<size_t>(kRows * kWidth)), x(static_cast<size_t>(kWidth));
    for (float &f : w) f = normal(rng);
    for (float &f : x) f = normal(rng);

    const lb::kernels::DotKernels &dots = lb::kernels::active().dot();
    for (const TypeCase &c : kCases) {
        const std::string name = lb_type_name(c.type);
        if (!only.empty() && only.find("," + name + ",") == std::string::npos) continue;
        size_t row = 0;
        lb_row_size(&row, c.type, kWidth);
        std::vector<uint8_t> q(row * kRows);
        const std::vector<float> ones(kWidth, 1.0f); // for the types that need an importance vector
        if (lb_quantize_rows(c.type, w.data(), kRows, kWidth,
                             lb_type_requires_imatrix(c.type) ? ones.data() : nullptr, q.data(),
                             q.size()) != LB_OK) {
            std::fprintf(stderr, "compare_dots: %s: %s\n", name.c_str(), lb_last_error());
            return 1;
        }
        const lb::kernels::WeightKernels &k = dots.by_type[c.type];
        std::vector<uint8_t> ours(k.activation_row_bytes(kWidth) + 64);
        k.quantize_activations(x.data(), ours.data(), kWidth);
        std::vector<uint8_t> theirs(static_cast<size_t>(kWidth) * c.activation_bytes_per_value_x32 / 32 + 64);
        if (c.activation == nullptr)
            std::memcpy(theirs.data(), x.data(), static_cast<size_t>(kWidth) * 4);
        else
            reinterpret_cast<FromFloat>(v.symbol(c.activation))(x.data(), theirs.data(), kWidth);
        const VecDot ggml_dot = reinterpret_cast<VecDot>(v.symbol(std::string("ggml_vec_dot_") + c.dot));

        std::vector<float> out_lowbit(kRows), out_ggml(kRows);
        const auto lowbit_run = [&] {
            for (int64_t r = 0; r < kRows; ++r)
                out_lowbit[r] = k.dot(kWidth, q.data() + r * row, ours.data());
        };
        const auto ggml_run = [&] {
            for (int64_t r = 0; r < kRows; ++r)
                ggml_dot(static_cast<int>(kWidth), &out_ggml[r], 0, q.data() + r * row, 0, theirs.data(), 0,
                         1);
        };
        const bench::Paired m =
            bench::measure_pairs(lowbit_run, ggml_run, static_cast<double>(kRows * kWidth), samples, 5.0);
        // how far apart the two libraries' results are, relative to the size of the sum
        std::vector<float> wf(static_cast<size_t>(kWidth));
        double worst = 0;
        for (int64_t r = 0; r < kRows; ++r) {
            lb_dequantize_rows(c.type, q.data() + r * row, row, 1, kWidth, wf.data());
            double mag = 0;
            for (int64_t i = 0; i < kWidth; ++i) mag += std::abs(static_cast<double>(wf[i]) * x[i]);
            worst = std::max(worst, std::abs(static_cast<double>(out_lowbit[r]) - out_ggml[r]) / mag);
        }
        std::printf("%-6s  %11.1f  %11.1f  %6.2f  %4.2f-%-4.2f    %.1e\n", name.c_str(), m.a / 1e6, m.b / 1e6,
                    m.ratio, m.ratio_low, m.ratio_high, worst);
    }
    return 0;
}
