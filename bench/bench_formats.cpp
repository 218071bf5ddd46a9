// Microbenchmarks of lowbit's row API on one thread: lb_quantize_rows
// (without and with an importance vector) and lb_dequantize_rows for Q4_0,
// Q4_1, Q5_0, Q5_1, Q8_0, F16 and BF16, on 64 rows of 4096 Gaussian floats
// from a fixed seed. items_per_second counts elements (weights).
#include "lowbit/lowbit.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int64_t kRows = 64;
constexpr int64_t kRowWidth = 4096;
constexpr int64_t kElements = kRows * kRowWidth;
constexpr uint32_t kSeed = 20240611;

const lb_type kTypes[] = {LB_TYPE_Q4_0, LB_TYPE_Q4_1, LB_TYPE_Q5_0, LB_TYPE_Q5_1,
                          LB_TYPE_Q8_0, LB_TYPE_F16,  LB_TYPE_BF16};

// The same inputs for every benchmark: weights ~ N(0, 1) and an importance
// vector of positive values spread over two orders of magnitude.
struct Inputs {
    std::vector<float> weights;
    std::vector<float> importance;
    Inputs() : weights(kElements), importance(kRowWidth) {
        std::mt19937 rng(kSeed);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (float &w : weights) w = normal(rng);
        for (float &w : importance) {
            const float g = normal(rng);
            w = 0.01f + g * g;
        }
    }
};

const Inputs &inputs() {
    static const Inputs in;
    return in;
}

size_t rows_bytes(lb_type type) {
    size_t row = 0;
    if (lb_row_size(&row, type, kRowWidth) != LB_OK) {
        std::fprintf(stderr, "lb_row_size(%s): %s\n", lb_type_name(type), lb_last_error());
        std::exit(1);
    }
    return row * static_cast<size_t>(kRows);
}

void quantize(benchmark::State &state, lb_type type, bool with_imatrix) {
    const Inputs &in = inputs();
    std::vector<uint8_t> out(rows_bytes(type));
    const float *imatrix = with_imatrix ? in.importance.data() : nullptr;
    for (auto _ : state) {
        const lb_status s =
            lb_quantize_rows(type, in.weights.data(), kRows, kRowWidth, imatrix, out.data(), out.size());
        if (s != LB_OK) {
            state.SkipWithError(lb_last_error());
            break;
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * kElements);
}

void dequantize(benchmark::State &state, lb_type type) {
    const Inputs &in = inputs();
    std::vector<uint8_t> packed(rows_bytes(type));
    if (lb_quantize_rows(type, in.weights.data(), kRows, kRowWidth, nullptr, packed.data(), packed.size()) !=
        LB_OK) {
        state.SkipWithError(lb_last_error());
        return;
    }
    std::vector<float> out(kElements);
    for (auto _ : state) {
        const lb_status s =
            lb_dequantize_rows(type, packed.data(), packed.size(), kRows, kRowWidth, out.data());
        if (s != LB_OK) {
            state.SkipWithError(lb_last_error());
            break;
        }
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * kElements);
}

void register_all() {
    for (lb_type type : kTypes) {
        const std::string name = lb_type_name(type);
        benchmark::RegisterBenchmark(("quantize/" + name).c_str(), quantize, type, false)
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("quantize_imatrix/" + name).c_str(), quantize, type, true)
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("dequantize/" + name).c_str(), dequantize, type)
            ->Unit(benchmark::kMicrosecond);
    }
}

} // namespace

int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::AddCustomContext("lowbit_version", lb_version());
    benchmark::AddCustomContext("rows", std::to_string(kRows) + " x " + std::to_string(kRowWidth));
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
