// The evaluation llama-perplexity runs (one context of tokens, evaluated in
// batches, the logits of every position kept) done by lowbit's session and by
// llama.cpp's libllama from the reference peer, on the same files and tokens,
// each engine in its own process (so that its peak RSS is its own), with the
// same threads, context and batch. Prints tokens/s (the median of the timed
// repeats, after one untimed warm-up), peak RSS and the ratios.
//
// Without --model it writes (once, into --dir) a synthetic ~100M-parameter
// llama model: 8 layers, n_embd 768, 12 heads, 4 KV heads, n_ff 2048, the
// 32,000-token vocabulary of llama.cpp's models/ggml-vocab-llama-spm.gguf
// (from the peer's source), untied output, F16; and lowbit's files of it in the other
// --types (written once each). llama.cpp runs with the CPU backends --llama-cpu lists:
// "haswell" (AVX2, like for like with lowbit's AVX2 kernels) and "best" (the
// one llama.cpp picks for this CPU).
//
// --task imatrix times the collection of an importance matrix over --chunks
// chunks of real text (tests/data/tinystories_val.txt): lowbit's
// lb_imatrix_collect against libllama with a cb_eval callback summing the
// squares of every weight product's input, as llama-imatrix collects (on the
// F16 model). --task kld times lb_kld_from_file (the F16 base's
// distributions saved once, untimed) on the quantized files against
// libllama decoding the same chunks with all logits: llama-perplexity
// --kl-divergence does that and then its own KLD arithmetic, so libllama's
// figure is an upper bound of its speed.
//
// usage: eval_model [--task eval|imatrix|kld] [--model FILE]
//                   [--types F16,Q8_0,Q4_K_M] [--threads 2] [--ctx 512]
//                   [--batch 512] [--repeats 3] [--chunks 4] [--text FILE]
//                   [--llama-cpu haswell,best] [--dir DIR]
#include "ggml_peer.hpp"
#include "llama_peer.hpp"
#include "lowbit/lowbit.h"
#include "machine.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

struct Settings {
    int threads = 2, ctx = 512, batch = 512, repeats = 3, chunks = 4;
    std::string task = "eval", text = LOWBIT_TEXT_DEFAULT, base;
};

// The start of the text, long enough for the chunks (about 4 characters per
// token of llama's vocabulary; 6 leave room), so that tokenizing the rest of
// a long file is not timed.
std::string read_text(const std::string &path, const Settings &s) {
    std::ifstream f(path, std::ios::binary);
    std::string t((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return t.substr(0, static_cast<size_t>(s.chunks) * static_cast<size_t>(s.ctx) * 6);
}

bool open_session(const std::string &model, const Settings &s, lb_model **m, lb_session **session) {
    if (lb_model_open(m, model.c_str()) != LB_OK || lb_session_new(session, *m) != LB_OK ||
        lb_session_set_param(*session, LB_SESSION_THREADS, s.threads) != LB_OK ||
        lb_session_set_param(*session, LB_SESSION_CONTEXT, s.ctx) != LB_OK ||
        lb_session_set_param(*session, LB_SESSION_BATCH, s.batch) != LB_OK ||
        lb_session_set_param(*session, LB_SESSION_CACHE_TYPE, LB_TYPE_F16) != LB_OK) {
        std::fprintf(stderr, "lowbit: %s\n", lb_last_error());
        return false;
    }
    return true;
}

double since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<std::string> split(const std::string &s) {
    std::vector<std::string> out;
    std::stringstream in(s);
    for (std::string part; std::getline(in, part, ',');)
        if (!part.empty()) out.push_back(part);
    return out;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// The same tokens for both engines: BOS, then seeded pseudo-random ids.
std::vector<int32_t> bench_tokens(int n, int32_t n_vocab) {
    std::mt19937 rng(20261201);
    std::uniform_int_distribution<int32_t> pick(3, n_vocab - 1);
    std::vector<int32_t> t(static_cast<size_t>(n));
    t[0] = 1;
    for (size_t i = 1; i < t.size(); ++i) t[i] = pick(rng);
    return t;
}

// --- the child processes: one evaluation engine each, seconds on stdout -----

std::string base_logits_path(const Settings &s) {
    return s.base + ".bench-base.lblogits";
}

// --task kld: the base's distributions over the chunks, saved once by the
// parent (untimed, and outside the children whose peak RSS is measured).
bool save_base(const Settings &s) {
    const std::string text = read_text(s.text, s);
    lb_model *m = nullptr;
    lb_session *session = nullptr;
    if (!open_session(s.base, s, &m, &session)) return false;
    lb_kld_options ko;
    lb_kld_options_init(&ko, LB_KLD_OPTIONS_VERSION);
    ko.n_ctx = s.ctx;
    ko.max_chunks = s.chunks;
    const bool ok = lb_kld_save_base(session, text.data(), text.size(), &ko, base_logits_path(s).c_str(),
                                     nullptr, nullptr, nullptr) == LB_OK;
    if (!ok) std::fprintf(stderr, "lowbit: %s\n", lb_last_error());
    lb_session_free(session);
    lb_model_close(m);
    return ok;
}

// --task imatrix and kld: each repeat's seconds per chunk.
int run_lowbit_task(const std::string &model, const Settings &s) {
    lb_model *m = nullptr;
    lb_session *session = nullptr;
    if (!open_session(model, s, &m, &session)) return 1;
    const std::string text = read_text(s.text, s);
    const std::string base_logits = base_logits_path(s), out = model + ".bench-imatrix.gguf";
    lb_imatrix_options io;
    lb_imatrix_options_init(&io, LB_IMATRIX_OPTIONS_VERSION);
    io.n_ctx = s.ctx;
    io.max_chunks = s.chunks;
    for (int r = 0; r <= s.repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        lb_status st;
        uint64_t chunks = 0;
        if (s.task == "imatrix") {
            lb_imatrix_result res{};
            res.version = LB_IMATRIX_RESULT_VERSION;
            st = lb_imatrix_collect(session, text.data(), text.size(), &io, out.c_str(), nullptr, nullptr,
                                    &res);
            chunks = res.n_chunks;
        } else {
            lb_kld_result res{};
            res.version = LB_KLD_RESULT_VERSION;
            st = lb_kld_from_file(session, base_logits.c_str(), nullptr, nullptr, &res);
            chunks = res.n_chunks;
        }
        if (st != LB_OK || chunks == 0) {
            std::fprintf(stderr, "lowbit: %s\n", lb_last_error());
            return 1;
        }
        if (r > 0) std::printf("%.6f\n", since(start) / static_cast<double>(chunks));
    }
    std::remove(out.c_str());
    lb_session_free(session);
    lb_model_close(m);
    return 0;
}

int run_lowbit(const std::string &model, const Settings &s) {
    if (s.task != "eval") return run_lowbit_task(model, s);
    lb_model *m = nullptr;
    lb_session *session = nullptr;
    if (!open_session(model, s, &m, &session)) return 1;
    const std::vector<int32_t> tokens =
        bench_tokens(s.ctx, static_cast<int32_t>(lb_session_vocab_size(session)));
    const std::vector<uint8_t> all(tokens.size(), 1);
    for (int r = 0; r <= s.repeats; ++r) {
        lb_session_clear(session);
        const auto start = std::chrono::steady_clock::now();
        if (lb_session_eval(session, tokens.data(), tokens.size(), all.data()) != LB_OK) {
            std::fprintf(stderr, "lowbit: %s\n", lb_last_error());
            return 1;
        }
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (r > 0) std::printf("%.6f\n", seconds); // r = 0: the warm-up
    }
    lb_session_free(session);
    lb_model_close(m);
    return 0;
}

int run_llama(const std::string &model, const std::string &cpu, const Settings &s) {
    ::setenv("LOWBIT_PEER_CPU", cpu.c_str(), 1);
    try {
        const peer::LlamaModel llama(model, false);
        peer::LlamaRunOptions o;
        o.n_ctx = s.ctx;
        o.n_batch = s.batch;
        o.threads = s.threads;
        o.f32_kv = false; // llama.cpp's default F16 cache, as lowbit's
        if (s.task == "eval") {
            const std::vector<double> seconds =
                llama.eval_seconds(bench_tokens(s.ctx, llama.n_vocab()), o, s.repeats + 1);
            for (size_t r = 1; r < seconds.size(); ++r) std::printf("%.6f\n", seconds[r]);
            return 0;
        }
        // the text's chunks, BOS first, as llama-imatrix and llama-perplexity cut it
        const std::vector<int32_t> tokens = llama.tokenize(read_text(s.text, s), true, false);
        const int chunks = std::min(s.chunks, static_cast<int>(tokens.size() / static_cast<size_t>(s.ctx)));
        for (int r = 0; r <= s.repeats; ++r) {
            const auto start = std::chrono::steady_clock::now();
            if (s.task == "imatrix") {
                llama.imatrix(tokens, s.ctx, chunks, false, o);
            } else {
                for (int c = 0; c < chunks; ++c) {
                    std::vector<int32_t> chunk(tokens.begin() + static_cast<std::ptrdiff_t>(c) * s.ctx,
                                               tokens.begin() + static_cast<std::ptrdiff_t>(c + 1) * s.ctx);
                    chunk[0] = llama.bos();
                    llama.eval_seconds(chunk, o, 1);
                }
            }
            if (r > 0) std::printf("%.6f\n", since(start) / static_cast<double>(chunks));
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "llama.cpp: %s\n", e.what());
        return 1;
    }
    return 0;
}

// --- the parent ---------------------------------------------------------------

struct Result {
    bool ok = false;
    std::vector<double> seconds;
    double peak_rss_mib = 0;
};

// Runs this program again with args; reads its stdout; its peak RSS.
Result in_child(const std::vector<std::string> &args) {
    Result r;
    int out[2];
    if (::pipe(out) != 0) return r;
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::close(out[0]);
        ::close(out[1]);
        std::vector<char *> argv;
        for (const std::string &a : args) argv.push_back(const_cast<char *>(a.c_str()));
        argv.push_back(nullptr);
        ::execv("/proc/self/exe", argv.data());
        _exit(127);
    }
    ::close(out[1]);
    std::string text;
    char buf[256];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    int status = 0;
    struct rusage usage = {};
    if (::wait4(pid, &status, 0, &usage) != pid) return r;
    r.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
    std::stringstream in(text);
    for (double v; in >> v;) r.seconds.push_back(v);
    r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !r.seconds.empty();
    return r;
}

bool write_models(const std::string &dir, const std::string &vocab, std::string *f16,
                  const std::vector<std::string> &types) {
    *f16 = dir + "/synthetic-100m-f16.gguf";
    if (!bench::file_exists(*f16)) {
        std::fprintf(stderr, "writing the synthetic ~100M model to %s ...\n", f16->c_str());
        lb_synth_options o;
        lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
        o.n_layer = 8;
        o.n_embd = 768;
        o.n_head = 12;
        o.n_head_kv = 4;
        o.n_ff = 2048;
        o.type = LB_TYPE_F16;
        o.seed = 1;
        o.tokenizer_from = vocab.c_str();
        if (lb_synth_write_model(&o, f16->c_str(), nullptr, nullptr) != LB_OK) {
            std::fprintf(stderr, "cannot write the model: %s\n", lb_last_error());
            return false;
        }
    }
    for (const std::string &name : types) {
        if (name == "F16") continue;
        const char *type = name.c_str();
        const std::string out = dir + "/synthetic-100m-" + name + ".gguf";
        if (bench::file_exists(out)) continue;
        lb_ftype ftype;
        lb_model *m = nullptr;
        lb_quantizer *q = nullptr;
        const bool ok = lb_ftype_from_name(&ftype, type) == LB_OK &&
                        lb_model_open(&m, f16->c_str()) == LB_OK && lb_quantizer_new(&q) == LB_OK &&
                        lb_quantizer_set_ftype(q, ftype) == LB_OK &&
                        lb_quantizer_run(q, m, out.c_str()) == LB_OK;
        lb_quantizer_free(q);
        lb_model_close(m);
        if (!ok) {
            std::fprintf(stderr, "cannot quantize to %s: %s\n", type, lb_last_error());
            return false;
        }
    }
    return true;
}

std::string usage(const char *argv0) {
    return std::string("usage: ") + argv0 +
           " [--model FILE] [--types F16,Q8_0,Q4_K_M] [--threads 2] [--ctx 512] [--batch 512]"
           " [--repeats 3] [--task eval|imatrix|kld] [--chunks 4] [--text FILE] [--base FILE]"
           " [--llama-cpu haswell,best] [--dir DIR]\n";
}

} // namespace

int main(int argc, char **argv) {
    Settings s;
    std::string model, dir = "build/bench-models", child, child_cpu;
    std::vector<std::string> types = {"F16", "Q8_0", "Q4_K_M"}, cpus = {"haswell", "best"};
    bool types_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool v = i + 1 < argc;
        if (a == "--model" && v)
            model = argv[++i];
        else if (a == "--dir" && v)
            dir = argv[++i];
        else if (a == "--types" && v) {
            types = split(argv[++i]);
            types_given = true;
        } else if (a == "--llama-cpu" && v)
            cpus = split(argv[++i]);
        else if (a == "--threads" && v)
            s.threads = std::atoi(argv[++i]);
        else if (a == "--ctx" && v)
            s.ctx = std::atoi(argv[++i]);
        else if (a == "--batch" && v)
            s.batch = std::atoi(argv[++i]);
        else if (a == "--repeats" && v)
            s.repeats = std::atoi(argv[++i]);
        else if (a == "--task" && v)
            s.task = argv[++i];
        else if (a == "--chunks" && v)
            s.chunks = std::atoi(argv[++i]);
        else if (a == "--text" && v)
            s.text = argv[++i];
        else if (a == "--base" && v)
            s.base = argv[++i];
        else if (a == "--child" && i + 2 < argc) {
            child = argv[++i];
            child_cpu = argv[++i];
        } else {
            std::fprintf(stderr, "%s", usage(argv[0]).c_str());
            return 2;
        }
    }
    const bool task_ok = s.task == "eval" || s.task == "imatrix" || s.task == "kld";
    if (s.threads < 1 || s.ctx < 2 || s.batch < 1 || s.repeats < 1 || s.chunks < 1 || !task_ok) {
        std::fprintf(stderr, "%s", usage(argv[0]).c_str());
        return 2;
    }
    if (child == "lowbit") return run_lowbit(model, s);
    if (child == "llama") return run_llama(model, child_cpu, s);

    std::vector<std::pair<std::string, std::string>> files; // label, path
    if (model.empty()) {
        const std::string vocab = std::string(LOWBIT_PEER_SRC) + "/models/ggml-vocab-llama-spm.gguf";
        std::system(("mkdir -p '" + dir + "'").c_str());
        std::string f16;
        if (!types_given && s.task == "imatrix") types = {"F16"}; // collected on the 16-bit model
        if (!types_given && s.task == "kld") types = {"Q8_0", "Q4_K_M"};
        if (!write_models(dir, vocab, &f16, types)) return 1;
        if (s.base.empty()) s.base = f16;
        for (const std::string &t : types)
            files.emplace_back(t, t == "F16" ? f16 : dir + "/synthetic-100m-" + t + ".gguf");
    } else {
        files.emplace_back(model.substr(model.rfind('/') + 1), model);
    }
    if (s.task == "kld" && !save_base(s)) return 1;
    std::printf("lowbit:   %s; kernels %s\n", lb_version(),
                std::getenv("LOWBIT_KERNELS") != nullptr ? std::getenv("LOWBIT_KERNELS") : "default");
    std::printf("peer:     libllama.so of node-llama-cpp 3.22.1 in %s\n", peer::library_dir().c_str());
    std::printf("machine:  %s, %ld logical cores\n", bench::cpu_model().c_str(),
                ::sysconf(_SC_NPROCESSORS_ONLN));
    if (s.task == "eval")
        std::printf(
            "run:      %d tokens in one context, batch %d, all logits, F16 cache, %d threads; median of %d"
            " timed runs after a warm-up; each engine in its own process\n\n",
            s.ctx, s.batch, s.threads, s.repeats);
    else
        std::printf(
            "run:      %s over %d chunks of %d tokens of %s, batch %d, F16 cache, %d threads; median of"
            " %d timed runs after a warm-up; each engine in its own process%s\n\n",
            s.task == "imatrix" ? "an importance matrix" : "KL-divergence from the F16 base", s.chunks, s.ctx,
            s.text.c_str(), s.batch, s.threads, s.repeats,
            s.task == "kld" ? "\n          (llama.cpp: decoding the chunks with all logits alone)" : "");
    std::printf("%-8s %-20s %10s %10s %13s %10s %10s\n", "weights", "engine", "tokens/s", "min-max",
                "peak RSS MiB", "speed", "RSS");
    bool ok = true;
    const std::string ctx = std::to_string(s.ctx), batch = std::to_string(s.batch),
                      threads = std::to_string(s.threads), repeats = std::to_string(s.repeats);
    for (const auto &[label, path] : files) {
        std::system(("cat '" + path + "' > /dev/null").c_str()); // in the page cache for both
        auto run = [&](const std::string &engine, const std::string &cpu) {
            return in_child({argv[0],
                             "--model",
                             path,
                             "--ctx",
                             ctx,
                             "--batch",
                             batch,
                             "--threads",
                             threads,
                             "--repeats",
                             repeats,
                             "--task",
                             s.task,
                             "--chunks",
                             std::to_string(s.chunks),
                             "--text",
                             s.text,
                             "--base",
                             s.base.empty() ? path : s.base,
                             "--child",
                             engine,
                             cpu});
        };
        const Result ours = run("lowbit", "-");
        auto line = [&](const std::string &engine, const Result &r, const Result *base) {
            if (!r.ok) {
                std::printf("%-8s %-20s FAILED\n", label.c_str(), engine.c_str());
                ok = false;
                return;
            }
            const double tps = s.ctx / median(r.seconds);
            const double lo = s.ctx / *std::max_element(r.seconds.begin(), r.seconds.end());
            const double hi = s.ctx / *std::min_element(r.seconds.begin(), r.seconds.end());
            char range[32], speed[16] = "", rss[16] = "";
            std::snprintf(range, sizeof range, "%.0f-%.0f", lo, hi);
            if (base != nullptr && base->ok) {
                std::snprintf(speed, sizeof speed, "%.2fx", (s.ctx / median(base->seconds)) / tps);
                std::snprintf(rss, sizeof rss, "%.2fx", base->peak_rss_mib / r.peak_rss_mib);
            }
            std::printf("%-8s %-20s %10.1f %10s %13.1f %10s %10s\n", label.c_str(), engine.c_str(), tps,
                        range, r.peak_rss_mib, speed, rss);
        };
        line("lowbit", ours, nullptr);
        for (const std::string &cpu : cpus) line("llama.cpp " + cpu, run("llama", cpu), &ours);
    }
    if (s.task == "kld") std::remove(base_logits_path(s).c_str());
    std::printf("\nspeed: lowbit's tokens/s over llama.cpp's; RSS: lowbit's peak RSS over llama.cpp's\n");
    return ok ? 0 : 1;
}
