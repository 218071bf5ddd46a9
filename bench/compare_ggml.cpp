// compare_ggml: lowbit against the reference peer (llama.cpp's
// libggml-base.so, loaded with dlopen) in one process and one run, on
// identical data. For Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, F16 and BF16 it measures
// the single-thread throughput of
//   quantize          lb_quantize_rows(imatrix NULL) vs ggml_quantize_chunk(imatrix NULL)
//   quantize+imatrix  both with the same importance vector
//   dequantize        lb_dequantize_rows vs ggml's dequantize_row_* (one call per row)
// on rows of 4096 Gaussian floats from a fixed seed (a block of rows that
// stays in the caches), and dequantize again on a tensor too large for them
// (--dram-mb, default 256 MB of floats), with the machine's copy bandwidth
// (memcpy of the same tensor) beside it. Each measurement is a
// warm-up call, then N pairs of samples of at least a few milliseconds each,
// one lowbit and one ggml back to back, so that both sides of a pair see the
// same machine load; the table gives the median rates in millions of
// elements per second and the median of the paired ratios lowbit / ggml
// (above 1: lowbit is faster) with its quartiles.
//
// Usage: compare_ggml [--rows N] [--samples N] [--sample-ms N] [--dram-mb N] [--only T1,T2]
// Exits 2 if the peer cannot be loaded (set LOWBIT_PEER_DIR, see
// scripts/install-peer.sh).
#include "ggml_peer.hpp"
#include "lowbit/lowbit.h"
#include "paired.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int64_t kRowWidth = 4096;

// The types whose ggml quantizer takes no importance vector at the peer's
// release (ggml-quants.c: quantize_q8_0, _mxfp4, _nvfp4, _tq1_0, _tq2_0,
// _q1_0, _q2_0).
bool ggml_ignores_imatrix(lb_type type) {
    switch (type) {
    case LB_TYPE_Q8_0:
    case LB_TYPE_MXFP4:
    case LB_TYPE_NVFP4:
    case LB_TYPE_TQ1_0:
    case LB_TYPE_TQ2_0:
    case LB_TYPE_Q1_0:
    case LB_TYPE_Q2_0: return true;
    default: return false;
    }
}
constexpr uint32_t kSeed = 20240611;

struct Options {
    int64_t rows = 64;
    int samples = 21;
    double sample_ms = 10.0;
    int64_t dram_mb = 256; // the float size of the tensor that does not fit the caches
    std::string only;      // comma-separated type names; empty: all
};

[[noreturn]] void usage_error(const char *message) {
    std::fprintf(stderr,
                 "compare_ggml: %s\nusage: compare_ggml [--rows N] [--samples N] [--sample-ms N] [--dram-mb "
                 "N] [--only T1,T2]\n",
                 message);
    std::exit(1);
}

Options parse_options(int argc, char **argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::printf(
                "usage: compare_ggml [--rows N] [--samples N] [--sample-ms N] [--dram-mb N] [--only T1,T2]\n"
                "Compares lowbit's and ggml's row quantizers and dequantizers (see bench/README.md).\n");
            std::exit(0);
        }
        if (i + 1 >= argc) usage_error(("missing value after " + arg).c_str());
        const char *value = argv[++i];
        if (arg == "--only") {
            o.only = std::string(",") + value + ",";
            continue;
        }
        char *end = nullptr;
        const double v = std::strtod(value, &end);
        if (end == value || *end != '\0' || !(v >= 1 && v <= 1e6))
            usage_error(("bad value for " + arg).c_str());
        if (arg == "--rows")
            o.rows = static_cast<int64_t>(v);
        else if (arg == "--samples")
            o.samples = static_cast<int>(v);
        else if (arg == "--sample-ms")
            o.sample_ms = v;
        else if (arg == "--dram-mb")
            o.dram_mb = static_cast<int64_t>(v);
        else
            usage_error(("unknown option " + arg).c_str());
    }
    return o;
}

// "model name" of the first processor in /proc/cpuinfo, and the number of
// processors listed there.
void print_machine() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line, model = "unknown";
    int processors = 0;
    bool avx2 = false, fma = false, f16c = false;
    while (std::getline(cpuinfo, line)) {
        const auto value = [&] {
            const size_t colon = line.find(':');
            return colon == std::string::npos ? std::string() : line.substr(colon + 2);
        };
        if (line.rfind("processor", 0) == 0)
            ++processors;
        else if (line.rfind("model name", 0) == 0 && model == "unknown")
            model = value();
        else if (line.rfind("flags", 0) == 0) {
            std::istringstream flags(value());
            for (std::string flag; flags >> flag;) {
                avx2 = avx2 || flag == "avx2";
                fma = fma || flag == "fma";
                f16c = f16c || flag == "f16c";
            }
        }
    }
    std::string load = "unknown";
    std::ifstream loadavg("/proc/loadavg");
    std::getline(loadavg, load);
    std::printf("machine:  %s, %d logical cores (hardware_concurrency %u), avx2 %s, fma %s, f16c %s\n",
                model.c_str(), processors, std::thread::hardware_concurrency(), avx2 ? "yes" : "no",
                fma ? "yes" : "no", f16c ? "yes" : "no");
    std::printf("load:     %s (/proc/loadavg at start)\n", load.c_str());
}

// The llama.cpp release the peer was built from, from node-llama-cpp's
// build metadata next to the libraries ("unknown" if absent).
std::string peer_release() {
    std::ifstream meta(peer::library_dir() + "/_nlcBuildMetadata.json");
    const std::string text((std::istreambuf_iterator<char>(meta)), std::istreambuf_iterator<char>());
    const std::string key = "\"release\":\"";
    const size_t at = text.find(key);
    if (at == std::string::npos) return "unknown";
    const size_t end = text.find('"', at + key.size());
    return end == std::string::npos ? "unknown" : text.substr(at + key.size(), end - at - key.size());
}

// Same data for both libraries: weights ~ N(0, 1), an importance vector of
// positive values spread over two orders of magnitude.
struct Data {
    std::vector<float> weights;
    std::vector<float> importance;
    explicit Data(int64_t rows) : weights(static_cast<size_t>(rows * kRowWidth)), importance(kRowWidth) {
        std::mt19937 rng(kSeed);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        for (float &w : weights) w = normal(rng);
        for (float &w : importance) {
            const float g = normal(rng);
            w = 0.01f + g * g;
        }
    }
};

// lowbit as a, ggml as b (paired.hpp)
bench::Paired measure(const std::function<void()> &lowbit, const std::function<void()> &ggml, double elements,
                      const Options &o) {
    return bench::measure_pairs(lowbit, ggml, elements, o.samples, o.sample_ms);
}

// The machine's copy bandwidth from `from` to `to` (as large as each other):
// memcpy's bytes read plus bytes written per second, the best of a few
// copies (the least disturbed by other work on the machine).
double copy_bandwidth(const std::vector<float> &from, std::vector<float> &to) {
    const size_t bytes = from.size() * sizeof(float);
    double best = 0;
    for (int i = 0; i < 5; ++i) {
        const double s = bench::seconds_of([&] { std::memcpy(to.data(), from.data(), bytes); }, 1);
        best = std::max(best, 2.0 * static_cast<double>(bytes) / s);
    }
    return best;
}

[[noreturn]] void fail(const std::string &message) {
    std::fprintf(stderr, "compare_ggml: %s\n", message.c_str());
    std::exit(1);
}

void check(lb_status s, const char *what) {
    if (s != LB_OK) fail(std::string(what) + ": " + lb_status_name(s) + ": " + lb_last_error());
}

} // namespace

int main(int argc, char **argv) {
    const Options o = parse_options(argc, argv);

    const peer::Ggml *ggml = nullptr;
    try {
        ggml = &peer::Ggml::get();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "compare_ggml: the reference peer could not be loaded: %s\n", e.what());
        return 2;
    }

    std::printf("lowbit:   %s (header %s)\n", lb_version(), LB_VERSION_STRING);
    const char *kernels = std::getenv("LOWBIT_KERNELS");
    std::printf("kernels:  %s\n",
                kernels != nullptr && *kernels != '\0'
                    ? kernels
                    : "lowbit's default (the fastest set this CPU supports; LOWBIT_KERNELS overrides)");
    std::printf("ggml:     libggml-base.so from llama.cpp release %s in %s\n", peer_release().c_str(),
                peer::library_dir().c_str());
    print_machine();
    std::printf("setup:    1 thread, %lld rows x %lld floats ~ N(0,1), seed %u; warm-up, then %d sample pairs"
                " of >= %.0f ms per side\n\n",
                static_cast<long long>(o.rows), static_cast<long long>(kRowWidth), kSeed, o.samples,
                o.sample_ms);

    const Data data(o.rows);
    // the DRAM tensor: the cached rows repeated (its quantized bytes differ
    // only by the repetition, which neither library can exploit)
    const int64_t dram_rows = std::max<int64_t>(o.rows, o.dram_mb * 1024 * 1024 / 4 / kRowWidth);
    std::vector<float> dram_floats(static_cast<size_t>(dram_rows * kRowWidth));
    for (size_t i = 0; i < dram_floats.size(); ++i) dram_floats[i] = data.weights[i % data.weights.size()];
    const double dram_elements = static_cast<double>(dram_floats.size());
    std::printf(
        "dram:     %lld rows (%.0f MB of floats); the copy bandwidth (memcpy of them, read + write, best"
        " of 5) measured before each format's DRAM row\n\n",
        static_cast<long long>(dram_rows), dram_elements * 4 / 1e6);
    const int64_t rows = o.rows;
    const double elements = static_cast<double>(rows * kRowWidth);
    const lb_type types[] = {LB_TYPE_Q4_0,   LB_TYPE_Q4_1,    LB_TYPE_Q5_0,  LB_TYPE_Q5_1,    LB_TYPE_Q8_0,
                             LB_TYPE_Q2_K,   LB_TYPE_Q3_K,    LB_TYPE_Q4_K,  LB_TYPE_Q5_K,    LB_TYPE_Q6_K,
                             LB_TYPE_IQ4_NL, LB_TYPE_IQ4_XS,  LB_TYPE_TQ1_0, LB_TYPE_TQ2_0,   LB_TYPE_MXFP4,
                             LB_TYPE_NVFP4,  LB_TYPE_Q1_0,    LB_TYPE_Q2_0,  LB_TYPE_IQ2_XXS, LB_TYPE_IQ2_XS,
                             LB_TYPE_IQ2_S,  LB_TYPE_IQ3_XXS, LB_TYPE_IQ3_S, LB_TYPE_IQ1_S,   LB_TYPE_IQ1_M,
                             LB_TYPE_F16,    LB_TYPE_BF16};

    std::printf("%-6s %-17s %12s %12s %7s  %-11s  %s\n", "format", "op", "lowbit Me/s", "ggml Me/s", "ratio",
                "ratio IQR", "note");
    std::printf("%-6s %-17s %12s %12s %7s  %-11s  %s\n", "------", "-----------------", "-----------",
                "---------", "-----", "-----------", "----");
    bool dequantize_mismatch = false;
    for (const lb_type type : types) {
        const char *name = lb_type_name(type);
        if (!o.only.empty() && o.only.find(std::string(",") + name + ",") == std::string::npos) continue;
        size_t row_bytes = 0;
        check(lb_row_size(&row_bytes, type, kRowWidth), "lb_row_size");
        const int64_t ggml_row_bytes =
            static_cast<int64_t>(ggml->type_size(type)) * (kRowWidth / ggml->blck_size(type));
        if (ggml_row_bytes != static_cast<int64_t>(row_bytes))
            fail(std::string("row size of ") + name + " differs between lowbit and ggml");
        const size_t total_bytes = row_bytes * static_cast<size_t>(rows);
        std::vector<uint8_t> lowbit_out(total_bytes), ggml_out(total_bytes);
        const peer::DequantizeRow ggml_dequantize = ggml->dequantize(type);
        if (ggml_dequantize == nullptr) fail(std::string("the peer has no dequantizer for ") + name);

        const auto print_row = [&](const char *op, const bench::Paired &r, const std::string &note) {
            std::printf("%-6s %-17s %12.1f %12.1f %7.2f  %5.2f-%-5.2f  %s\n", name, op, r.a / 1e6, r.b / 1e6,
                        r.ratio, r.ratio_low, r.ratio_high, note.c_str());
            std::fflush(stdout);
        };

        for (const bool with_imatrix : {false, true}) {
            if (!with_imatrix && lb_type_requires_imatrix(type)) continue; // neither quantizes without
            const float *imatrix = with_imatrix ? data.importance.data() : nullptr;
            const auto lowbit_quantize = [&] {
                check(lb_quantize_rows(type, data.weights.data(), rows, kRowWidth, imatrix, lowbit_out.data(),
                                       lowbit_out.size()),
                      "lb_quantize_rows");
            };
            const auto ggml_quantize = [&] {
                const size_t written = ggml->quantize_chunk(type, data.weights.data(), ggml_out.data(), 0,
                                                            rows, kRowWidth, imatrix);
                if (written != total_bytes) fail("ggml_quantize_chunk wrote an unexpected number of bytes");
            };
            const bench::Paired r = measure(lowbit_quantize, ggml_quantize, elements, o);
            std::string note;
            if (with_imatrix && !lb_type_is_quantized(type))
                note = "both ignore the imatrix";
            else if (with_imatrix && ggml_ignores_imatrix(type))
                note = "ggml ignores the imatrix; lowbit searches";
            print_row(with_imatrix ? "quantize+imatrix" : "quantize", r, note);
        }

        // Dequantize the same bytes (lowbit's quantization, without an imatrix where the type allows)
        // with both, and check that they agree bit for bit.
        check(lb_quantize_rows(type, data.weights.data(), rows, kRowWidth,
                               lb_type_requires_imatrix(type) ? data.importance.data() : nullptr,
                               lowbit_out.data(), lowbit_out.size()),
              "lb_quantize_rows");
        std::vector<float> lowbit_floats(static_cast<size_t>(rows * kRowWidth));
        std::vector<float> ggml_floats(lowbit_floats.size());
        const auto lowbit_dequantize = [&] {
            check(lb_dequantize_rows(type, lowbit_out.data(), lowbit_out.size(), rows, kRowWidth,
                                     lowbit_floats.data()),
                  "lb_dequantize_rows");
        };
        const auto ggml_dequantize_rows = [&] {
            for (int64_t r = 0; r < rows; ++r)
                ggml_dequantize(lowbit_out.data() + static_cast<size_t>(r) * row_bytes,
                                ggml_floats.data() + r * kRowWidth, kRowWidth);
        };
        const bench::Paired r = measure(lowbit_dequantize, ggml_dequantize_rows, elements, o);
        const bool same =
            std::memcmp(lowbit_floats.data(), ggml_floats.data(), lowbit_floats.size() * sizeof(float)) == 0;
        dequantize_mismatch |= !same;
        print_row("dequantize", r, same ? "outputs bit-identical" : "OUTPUTS DIFFER");

        // The DRAM tensor: its bytes read and its floats written, against the
        // copy bandwidth (which moves the same floats both ways).
        // (the rows quantized above, repeated as the floats are: the slow
        // lattice searches would take minutes over the whole tensor)
        std::vector<uint8_t> dram_q(row_bytes * static_cast<size_t>(dram_rows));
        for (size_t i = 0; i < dram_q.size(); ++i) dram_q[i] = lowbit_out[i % lowbit_out.size()];
        std::vector<float> dram_out(dram_floats.size());
        const double copy_rate = copy_bandwidth(dram_floats, dram_out);
        const auto lowbit_dram = [&] {
            check(
                lb_dequantize_rows(type, dram_q.data(), dram_q.size(), dram_rows, kRowWidth, dram_out.data()),
                "lb_dequantize_rows");
        };
        const auto ggml_dram = [&] {
            for (int64_t r = 0; r < dram_rows; ++r)
                ggml_dequantize(dram_q.data() + static_cast<size_t>(r) * row_bytes,
                                dram_out.data() + r * kRowWidth, kRowWidth);
        };
        Options dram_options = o;
        dram_options.samples = std::min(o.samples, 7);
        const bench::Paired d = measure(lowbit_dram, ggml_dram, dram_elements, dram_options);
        const double moved =
            static_cast<double>(dram_q.size() + dram_out.size() * sizeof(float)) / dram_elements;
        char note[160];
        std::snprintf(note, sizeof note, "of copy bandwidth (%.1f GB/s): lowbit %.0f%%, ggml %.0f%%",
                      copy_rate / 1e9, 100 * d.a * moved / copy_rate, 100 * d.b * moved / copy_rate);
        print_row("dequantize DRAM", d, note);
    }
    std::printf(
        "\nMe/s = millions of elements per second, median of the samples. ratio = median over the sample"
        " pairs of lowbit / ggml\n(above 1: lowbit faster); ratio IQR = its quartiles, a measure of the"
        " noise.\n");
    if (dequantize_mismatch) {
        std::fprintf(stderr, "compare_ggml: lowbit's and ggml's dequantized outputs differ\n");
        return 1;
    }
    return 0;
}
