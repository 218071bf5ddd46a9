// Quantizes one model to a file type with lowbit and with llama.cpp's
// llama_model_quantize (libllama from the reference peer), each in its own
// child process with the same thread count, and prints wall time, peak RSS
// (the child's ru_maxrss) and the ratios. Without a model argument it writes
// (once) the synthetic "1B" model: 20 layers, n_embd 2048, 32 heads, 8 KV
// heads, n_ff 8192, F16 (about 2.5 GB).
//
// With --imatrix FILE (a GGUF importance matrix) both tools take it: lowbit
// reads the file, llama.cpp gets its per-column means as llama-quantize passes
// them. --imatrix synth writes (once) lowbit's synthetic importance matrix of
// the synthetic model (lb_synth_write_imatrix); the file types that need one
// (IQ2_M, IQ1_S ...) fail without it, in both tools.
//
// usage: quantize_model [--model FILE] [--type Q4_K_M] [--threads 2] [--dir DIR] [--imatrix FILE|synth]
#include "ggml_peer.hpp"
#include "lowbit/lowbit.h"
#include "machine.hpp"
#include "peer_imatrix.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

struct Result {
    bool ok = false;
    double seconds = 0;
    double peak_rss_mib = 0;
    uint64_t bytes = 0;
};

// Runs fn in a child process; returns its wall time and peak RSS.
template <typename F> Result in_child(F fn, const std::string &out) {
    Result r;
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid == 0) _exit(fn() ? 0 : 1);
    int status = 0;
    struct rusage usage = {};
    if (wait4(pid, &status, 0, &usage) != pid) return r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
    r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    struct stat st;
    if (::stat(out.c_str(), &st) == 0) r.bytes = static_cast<uint64_t>(st.st_size);
    return r;
}

lb_synth_options synthetic_1b() {
    lb_synth_options o;
    lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
    o.n_layer = 20;
    o.n_embd = 2048;
    o.n_head = 32;
    o.n_head_kv = 8;
    o.n_ff = 8192;
    o.type = LB_TYPE_F16;
    o.seed = 1;
    return o;
}

} // namespace

int main(int argc, char **argv) {
    std::string model, dir = "build/bench-models", type = "Q4_K_M", imatrix;
    int threads = 2;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--model" && i + 1 < argc)
            model = argv[++i];
        else if (a == "--dir" && i + 1 < argc)
            dir = argv[++i];
        else if (a == "--type" && i + 1 < argc)
            type = argv[++i];
        else if (a == "--threads" && i + 1 < argc)
            threads = std::atoi(argv[++i]);
        else if (a == "--imatrix" && i + 1 < argc)
            imatrix = argv[++i];
        else {
            std::fprintf(stderr,
                         "usage: %s [--model FILE] [--type Q4_K_M] [--threads 2] [--dir DIR] "
                         "[--imatrix FILE|synth]\n",
                         argv[0]);
            return 2;
        }
    }
    lb_ftype ftype;
    if (lb_ftype_from_name(&ftype, type.c_str()) != LB_OK) {
        std::fprintf(stderr, "unknown type %s\n", type.c_str());
        return 2;
    }
    std::system(("mkdir -p '" + dir + "'").c_str());
    const bool synthetic = model.empty();
    if (synthetic) {
        model = dir + "/synthetic-1b-f16.gguf";
        if (!bench::file_exists(model)) {
            std::fprintf(stderr, "writing the synthetic 1B model to %s ...\n", model.c_str());
            const lb_synth_options o = synthetic_1b();
            if (lb_synth_write_model(&o, model.c_str(), nullptr, nullptr) != LB_OK) {
                std::fprintf(stderr, "cannot write the model: %s\n", lb_last_error());
                return 1;
            }
        }
    }
    if (imatrix == "synth") {
        if (!synthetic) {
            std::fprintf(stderr, "--imatrix synth is the synthetic model's: give a file for %s\n",
                         model.c_str());
            return 2;
        }
        imatrix = dir + "/synthetic-1b.imatrix.gguf";
        if (!bench::file_exists(imatrix)) {
            const lb_synth_options o = synthetic_1b();
            if (lb_synth_write_imatrix(&o, imatrix.c_str()) != LB_OK) {
                std::fprintf(stderr, "cannot write the importance matrix: %s\n", lb_last_error());
                return 1;
            }
        }
    }
    peer::ImatrixEntries peer_imatrix;
    std::string error;
    if (!imatrix.empty() && !peer::read_imatrix_entries(imatrix, peer_imatrix, &error)) {
        std::fprintf(stderr, "%s\n", error.c_str()); // names the file
        return 1;
    }
    try {
        peer::Llama::get();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 2;
    }
    const std::string out_lowbit = dir + "/lowbit-" + type + ".gguf",
                      out_llama = dir + "/llama-" + type + ".gguf";
    // drop the page cache's copy of the input from the comparison: read it once first
    std::system(("cat '" + model + "' > /dev/null").c_str());

    const Result lowbit = in_child(
        [&] {
            lb_model *m = nullptr;
            lb_quantizer *q = nullptr;
            const bool ok = lb_model_open(&m, model.c_str()) == LB_OK && lb_quantizer_new(&q) == LB_OK &&
                            lb_quantizer_set_ftype(q, ftype) == LB_OK &&
                            lb_quantizer_set_threads(q, threads) == LB_OK &&
                            (imatrix.empty() || lb_quantizer_set_imatrix(q, imatrix.c_str()) == LB_OK) &&
                            lb_quantizer_run(q, m, out_lowbit.c_str()) == LB_OK;
            if (!ok) std::fprintf(stderr, "lowbit: %s\n", lb_last_error());
            return ok;
        },
        out_lowbit);
    const Result llama = in_child(
        [&] {
            const peer::Llama &l = peer::Llama::get();
            l.log_set([](int, const char *, void *) {}, nullptr);
            peer::Llama::QuantizeParams p = l.model_quantize_default_params();
            p.ftype = ftype;
            p.nthread = threads;
            if (!imatrix.empty()) p.imatrix = peer_imatrix.entries.data();
            return l.model_quantize(model.c_str(), out_llama.c_str(), &p) == 0;
        },
        out_llama);

    struct stat st;
    const double model_gib =
        ::stat(model.c_str(), &st) == 0 ? static_cast<double>(st.st_size) / (1 << 30) : 0;
    std::printf("model:    %s (%.2f GiB)\n", model.c_str(), model_gib);
    std::printf("machine:  %s, %ld logical cores\n", bench::cpu_model().c_str(),
                sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("run:      %s, %d threads each, each in its own process\n", type.c_str(), threads);
    std::printf("imatrix:  %s\n\n", imatrix.empty() ? "none" : imatrix.c_str());
    std::printf("%-10s %10s %14s %14s %s\n", "tool", "wall s", "peak RSS MiB", "output MiB", "");
    std::printf("%-10s %10.2f %14.1f %14.1f %s\n", "lowbit", lowbit.seconds, lowbit.peak_rss_mib,
                static_cast<double>(lowbit.bytes) / (1 << 20), lowbit.ok ? "" : "FAILED");
    std::printf("%-10s %10.2f %14.1f %14.1f %s\n", "llama.cpp", llama.seconds, llama.peak_rss_mib,
                static_cast<double>(llama.bytes) / (1 << 20), llama.ok ? "" : "FAILED");
    if (lowbit.ok && llama.ok)
        std::printf("\nlowbit / llama.cpp: time %.2f, peak RSS %.2f\n", lowbit.seconds / llama.seconds,
                    lowbit.peak_rss_mib / llama.peak_rss_mib);
    std::remove(out_lowbit.c_str());
    std::remove(out_llama.c_str());
    return lowbit.ok && llama.ok ? 0 : 1;
}
