// lowbit quantize [options] IN [OUT] TYPE [NTHREADS]: llama-quantize's
// command line.
#include "commands.hpp"
#include "lowbit/lowbit.h"

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace cli {

namespace {

const char *kUsage =
    "usage: lowbit quantize [options] IN [OUT] TYPE [NTHREADS]\n"
    "\n"
    "Quantizes the GGUF model IN to TYPE and writes OUT (default: ggml-model-TYPE.gguf\n"
    "next to IN). TYPE is a name (case-insensitive) or llama.cpp's file type number.\n"
    "\n"
    "options:\n"
    "  --threads N          worker threads (default: all hardware threads)\n"
    "  --allow-requantize   accept input tensors that are already quantized\n"
    "  -h, --help           show this help\n";

lb_quantizer *g_quantizer = nullptr;
std::atomic<bool> g_interrupted{false};

void on_signal(int) {
    g_interrupted.store(true);
    lb_quantizer_cancel(g_quantizer); // async-signal-safe: an atomic store
}

struct Ui {
    bool tty = false;
    bool bar_shown = false;
    std::chrono::steady_clock::time_point last{};

    void clear_bar() {
        if (bar_shown) std::fprintf(stderr, "\r\033[K");
        bar_shown = false;
    }
};

int on_progress(const lb_progress *p, void *user) {
    Ui *ui = static_cast<Ui *>(user);
    if (!ui->tty) return 0;
    const auto now = std::chrono::steady_clock::now();
    const bool done = p->done_elements == p->total_elements;
    if (!done && now - ui->last < std::chrono::milliseconds(100)) return 0;
    ui->last = now;
    const double frac = p->total_elements > 0 ? static_cast<double>(p->done_elements) / static_cast<double>(p->total_elements) : 1.0;
    const int width = 30, filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    std::fprintf(stderr, "\r\033[K[%s] %3d%%  %zu/%zu %s", bar.c_str(), static_cast<int>(frac * 100.0),
                 p->tensor_index + 1, p->tensor_count, p->tensor_name);
    ui->bar_shown = true;
    return 0;
}

void on_log(lb_log_level level, const char *message, void *user) {
    Ui *ui = static_cast<Ui *>(user);
    ui->clear_bar();
    std::fprintf(stderr, "lowbit: %s%s\n", level == LB_LOG_WARN ? "warning: " : "", message);
}

bool parse_threads(const std::string &s, int *out) {
    if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    *out = std::atoi(s.c_str());
    return true;
}

std::string default_output(const std::string &in, const char *type_name) {
    const size_t slash = in.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : in.substr(0, slash + 1);
    return dir + "ggml-model-" + type_name + ".gguf";
}

double mib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

} // namespace

int cmd_quantize(const Args &args) {
    Args pos;
    int threads = 0;
    bool allow_requantize = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (a == "-h" || a == "--help") {
            std::printf("%s", kUsage);
            return 0;
        } else if (a == "--allow-requantize") {
            allow_requantize = true;
        } else if (a == "--threads" || a == "-t") {
            if (i + 1 >= args.size() || !parse_threads(args[i + 1], &threads))
                return error("quantize: " + a + " needs a number of threads");
            ++i;
        } else if (a.size() > 1 && a[0] == '-') {
            return error("quantize: unknown option '" + a + "' (see lowbit quantize --help)");
        } else {
            pos.push_back(a);
        }
    }

    // IN TYPE | IN OUT TYPE | IN TYPE NTHREADS | IN OUT TYPE NTHREADS
    std::string in, out, type;
    lb_ftype ftype;
    int n_threads_positional = -1;
    if (pos.size() == 2) {
        in = pos[0], type = pos[1];
    } else if (pos.size() == 3) {
        int t;
        if (lb_ftype_from_name(&ftype, pos[1].c_str()) == LB_OK && parse_threads(pos[2], &t))
            in = pos[0], type = pos[1], n_threads_positional = t;
        else
            in = pos[0], out = pos[1], type = pos[2];
    } else if (pos.size() == 4) {
        in = pos[0], out = pos[1], type = pos[2];
        if (!parse_threads(pos[3], &n_threads_positional))
            return error("quantize: NTHREADS '" + pos[3] + "' is not a number");
    } else {
        std::fprintf(stderr, "%s", kUsage);
        return error("quantize: expected IN [OUT] TYPE [NTHREADS]");
    }
    if (n_threads_positional >= 0) threads = n_threads_positional;
    if (lb_ftype_from_name(&ftype, type.c_str()) != LB_OK) {
        std::string known;
        for (int id = 0; id < 64; ++id)
            if (lb_ftype_name(static_cast<lb_ftype>(id)) != nullptr &&
                lb_ftype_is_supported(static_cast<lb_ftype>(id)))
                known += std::string(known.empty() ? "" : ", ") + lb_ftype_name(static_cast<lb_ftype>(id));
        return error("quantize: unknown quantization type '" + type + "'; this build supports: " + known);
    }
    if (out.empty()) out = default_output(in, lb_ftype_name(ftype));

    lb_model *model = nullptr;
    if (lb_model_open(&model, in.c_str()) != LB_OK) return api_error("cannot read model");
    lb_quantizer *q = nullptr;
    if (lb_quantizer_new(&q) != LB_OK) {
        lb_model_close(model);
        return api_error("cannot create quantizer");
    }
    Ui ui;
    ui.tty = ::isatty(STDERR_FILENO) != 0;
    int status = 0;
    if (lb_quantizer_set_ftype(q, ftype) != LB_OK || lb_quantizer_set_threads(q, threads) != LB_OK ||
        lb_quantizer_set_allow_requantize(q, allow_requantize ? 1 : 0) != LB_OK ||
        lb_quantizer_set_progress(q, on_progress, &ui) != LB_OK || lb_quantizer_set_log(q, on_log, &ui) != LB_OK) {
        status = api_error("quantize");
    } else {
        g_quantizer = q;
        struct sigaction sa = {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        struct sigaction old_int, old_term;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        const lb_status st = lb_quantizer_run(q, model, out.c_str());
        sigaction(SIGINT, &old_int, nullptr);
        sigaction(SIGTERM, &old_term, nullptr);
        g_quantizer = nullptr;
        ui.clear_bar();
        if (st == LB_E_CANCELLED && g_interrupted.load()) {
            std::fprintf(stderr, "lowbit: interrupted; no output written\n");
            status = 130;
        } else if (st != LB_OK) {
            status = api_error("quantize");
        } else {
            const uint64_t elements = lb_quantizer_stat(q, LB_STAT_ELEMENTS);
            const uint64_t in_bytes = lb_quantizer_stat(q, LB_STAT_INPUT_BYTES);
            const uint64_t out_bytes = lb_quantizer_stat(q, LB_STAT_OUTPUT_BYTES);
            auto bpw = [&](uint64_t b) { return elements > 0 ? 8.0 * static_cast<double>(b) / static_cast<double>(elements) : 0.0; };
            std::printf("lowbit: %s -> %s (%s)\n", in.c_str(), out.c_str(), lb_ftype_name(ftype));
            std::printf("  tensors:     %" PRIu64 " (%" PRIu64 " converted, %" PRIu64 " fell back to another type)\n",
                        lb_quantizer_stat(q, LB_STAT_TENSORS), lb_quantizer_stat(q, LB_STAT_QUANTIZED),
                        lb_quantizer_stat(q, LB_STAT_FALLBACKS));
            std::printf("  input:       %.2f MiB of tensor data, %.2f bits per weight\n", mib(in_bytes), bpw(in_bytes));
            std::printf("  output:      %.2f MiB of tensor data, %.2f bits per weight; file %" PRIu64 " bytes\n",
                        mib(out_bytes), bpw(out_bytes), lb_quantizer_stat(q, LB_STAT_OUTPUT_FILE_BYTES));
            std::printf("  time:        %.3f s\n", static_cast<double>(lb_quantizer_stat(q, LB_STAT_ELAPSED_US)) / 1e6);
        }
    }
    lb_quantizer_free(q);
    lb_model_close(model);
    return status;
}

} // namespace cli
