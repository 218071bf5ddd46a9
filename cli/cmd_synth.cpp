// lowbit synth [options] OUT.gguf: writes a llama model with random weights
// of realistic statistics (and optionally its importance matrix), for tests
// and benchmarks.
#include "commands.hpp"
#include "interrupts.hpp"
#include "lowbit/lowbit.h"
#include "progress_bar.hpp"

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace cli {

namespace {

const char *kSynthUsage =
    "usage: lowbit synth [options] OUT.gguf\n"
    "       lowbit synth --format safetensors [options] OUT_FOLDER\n"
    "\n"
    "Writes a llama, qwen2 or qwen3 model with random weights of realistic statistics\n"
    "(Gaussian rows, spread per-row and per-column scales, rare large outliers),\n"
    "deterministic for a seed, for tests and benchmarks. --format safetensors writes it as a\n"
    "Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer.json) that\n"
    "lowbit convert turns back into the same tensors.\n"
    "\n"
    "options:\n"
    "  --layers N            blocks (default 2)\n"
    "  --embd N              hidden size, a multiple of --heads (default 256)\n"
    "  --heads N             attention heads (default 8)\n"
    "  --kv-heads N          key/value heads, dividing --heads (default 4)\n"
    "  --ff N                feed-forward size (default 512)\n"
    "  --arch A              llama (default), qwen2 (Q/K/V biases) or qwen3 (Q/K norms)\n"
    "  --tied                no output.weight: the token embeddings are shared\n"
    "  --type T              F32, F16 or BF16 (default F16)\n"
    "  --seed N              random seed (default 1)\n"
    "  --tokenizer-from FILE copy the tokenizer (and vocabulary size) of a GGUF model\n"
    "                        (default: a byte-level vocabulary of 259 tokens)\n"
    "  --imatrix FILE        also write a matching importance matrix (GGUF)\n"
    "  --format F            gguf (default) or safetensors (a checkpoint folder)\n"
    "  --preset 1b           20 layers, embd 2048, 32 heads, 8 kv heads, ff 8192, F16\n"
    "                        (~1.2B weights, ~2.5 GB); other options override it\n"
    "  -h, --help            show this help\n";

int on_progress(const lb_progress *p, void *user) {
    if (Interrupts::interrupted()) return 1;
    static_cast<ProgressBar *>(user)->draw(p);
    return 0;
}

// A decimal number in [min, max].
bool parse_number(const std::string &s, uint64_t min, uint64_t max, uint64_t *out) {
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), nullptr, 10);
    if (errno != 0 || v < min || v > max) return false;
    *out = v;
    return true;
}

std::string human_count(uint64_t n) {
    char buf[32];
    if (n >= 1000000000ull)
        std::snprintf(buf, sizeof buf, "%.2fB", static_cast<double>(n) / 1e9);
    else if (n >= 1000000ull)
        std::snprintf(buf, sizeof buf, "%.2fM", static_cast<double>(n) / 1e6);
    else if (n >= 1000ull)
        std::snprintf(buf, sizeof buf, "%.1fK", static_cast<double>(n) / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%" PRIu64, n);
    return buf;
}

} // namespace

int cmd_synth(const Args &args) {
    lb_synth_options o;
    lb_synth_options_init(&o, LB_SYNTH_OPTIONS_VERSION);
    // Explicit options are applied after the preset, whatever their order.
    bool preset_1b = false;
    bool has[5] = {};
    uint64_t dims[5] = {}; // layers, embd, heads, kv-heads, ff
    const char *dim_flags[5] = {"--layers", "--embd", "--heads", "--kv-heads", "--ff"};
    bool tied = false, has_type = false, has_seed = false;
    lb_synth_arch arch = LB_SYNTH_LLAMA;
    lb_type type = LB_TYPE_F16;
    uint64_t seed = 0;
    std::string out, tokenizer_from, imatrix;
    bool checkpoint = false;

    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto value = [&](std::string *v) {
            if (i + 1 >= args.size()) return false;
            *v = args[++i];
            return true;
        };
        std::string v;
        int dim = -1;
        for (int d = 0; d < 5; ++d)
            if (a == dim_flags[d]) dim = d;
        if (a == "-h" || a == "--help") {
            std::printf("%s", kSynthUsage);
            return 0;
        } else if (dim >= 0) {
            if (!value(&v)) return error("synth: " + a + " needs a number");
            if (!parse_number(v, 1, UINT32_MAX, &dims[dim]))
                return error("synth: " + a + " '" + v + "' is not a positive number below 2^32");
            has[dim] = true;
        } else if (a == "--tied") {
            tied = true;
        } else if (a == "--arch") {
            if (!value(&v)) return error("synth: --arch needs llama, qwen2 or qwen3");
            if (v == "llama")
                arch = LB_SYNTH_LLAMA;
            else if (v == "qwen2")
                arch = LB_SYNTH_QWEN2;
            else if (v == "qwen3")
                arch = LB_SYNTH_QWEN3;
            else
                return error("synth: --arch must be llama, qwen2 or qwen3, not '" + v + "'");
        } else if (a == "--type") {
            if (!value(&v)) return error("synth: --type needs F32, F16 or BF16");
            if (lb_type_from_name(&type, v.c_str()) != LB_OK ||
                (type != LB_TYPE_F32 && type != LB_TYPE_F16 && type != LB_TYPE_BF16))
                return error("synth: --type '" + v + "' is not F32, F16 or BF16");
            has_type = true;
        } else if (a == "--seed") {
            if (!value(&v)) return error("synth: --seed needs a number");
            if (!parse_number(v, 0, UINT64_MAX, &seed))
                return error("synth: --seed '" + v + "' is not a number from 0 to 2^64-1");
            has_seed = true;
        } else if (a == "--tokenizer-from") {
            if (!value(&tokenizer_from) || tokenizer_from.empty())
                return error("synth: --tokenizer-from needs a GGUF file");
        } else if (a == "--imatrix") {
            if (!value(&imatrix) || imatrix.empty()) return error("synth: --imatrix needs an output file");
        } else if (a == "--format") {
            if (!value(&v)) return error("synth: --format needs gguf or safetensors");
            if (v != "gguf" && v != "safetensors")
                return error("synth: --format must be gguf or safetensors, not '" + v + "'");
            checkpoint = v == "safetensors";
        } else if (a == "--preset") {
            if (!value(&v)) return error("synth: --preset needs a name (1b)");
            if (v != "1b" && v != "1B") return error("synth: unknown preset '" + v + "' (known: 1b)");
            preset_1b = true;
        } else if (a.size() > 1 && a[0] == '-') {
            return error("synth: unknown option '" + a + "' (see lowbit synth --help)");
        } else if (!out.empty()) {
            return error("synth: more than one output file ('" + out + "', '" + a + "')");
        } else {
            out = a;
        }
    }
    if (out.empty()) {
        std::fprintf(stderr, "%s", kSynthUsage);
        return error("synth: expected an output file");
    }
    if (!imatrix.empty() && imatrix == out) return error("synth: --imatrix names the model's output file");
    if (checkpoint && !tokenizer_from.empty())
        return error("synth: --tokenizer-from: a safetensors checkpoint carries the built-in vocabulary");

    if (preset_1b) {
        o.n_layer = 20, o.n_embd = 2048, o.n_head = 32, o.n_head_kv = 8, o.n_ff = 8192;
        o.type = LB_TYPE_F16;
    }
    uint32_t *fields[5] = {&o.n_layer, &o.n_embd, &o.n_head, &o.n_head_kv, &o.n_ff};
    for (int d = 0; d < 5; ++d)
        if (has[d]) *fields[d] = static_cast<uint32_t>(dims[d]);
    if (tied) o.tied_output = 1;
    o.arch = arch;
    if (has_type) o.type = type;
    if (has_seed) o.seed = seed;
    if (!tokenizer_from.empty()) o.tokenizer_from = tokenizer_from.c_str();

    ProgressBar ui;
    const auto start = std::chrono::steady_clock::now();
    lb_status st;
    {
        const Interrupts interrupts; // the progress callback stops the writing
        st = checkpoint ? lb_synth_write_checkpoint(&o, out.c_str(), on_progress, &ui)
                        : lb_synth_write_model(&o, out.c_str(), on_progress, &ui);
    }
    ui.clear();
    if (st == LB_E_CANCELLED && Interrupts::interrupted()) {
        std::fprintf(stderr, "lowbit: interrupted; no output written\n");
        return 130;
    }
    if (st != LB_OK) return api_error("synth");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // The summary, read back from the file through the public API.
    lb_model *m = nullptr;
    if (lb_model_open(&m, out.c_str()) != LB_OK) return api_error("synth: cannot read back the model");
    uint64_t params = 0;
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i)
        params += static_cast<uint64_t>(lb_model_tensor_n_elements(m, i));
    int64_t n_vocab = 0;
    size_t tok = 0;
    if (lb_model_tensor_find(&tok, m, "token_embd.weight") == LB_OK) n_vocab = lb_model_tensor_dim(m, tok, 1);
    const size_t n_tensors = lb_model_tensor_count(m);
    const uint64_t file_size = lb_model_file_size(m);
    lb_model_close(m);

    const char *arch_name = o.arch == LB_SYNTH_QWEN2 ? "qwen2" : o.arch == LB_SYNTH_QWEN3 ? "qwen3" : "llama";
    std::printf("lowbit: wrote %s: %s %s, %u layers, embd %u, %u heads (%u kv), ff %u, vocab %" PRId64
                ", %s output, %s, seed %" PRIu64 "\n",
                out.c_str(), arch_name, checkpoint ? "Hugging Face checkpoint" : "GGUF", o.n_layer, o.n_embd,
                o.n_head, o.n_head_kv, o.n_ff, n_vocab, o.tied_output ? "tied" : "untied",
                lb_type_name(o.type), o.seed);
    std::printf("  parameters:  %" PRIu64 " (%s) in %zu tensors; file %" PRIu64
                " bytes (%.2f MiB) in %.2f s\n",
                params, human_count(params).c_str(), n_tensors, file_size, mib(file_size), seconds);

    if (!imatrix.empty()) {
        if (lb_synth_write_imatrix(&o, imatrix.c_str()) != LB_OK) return api_error("synth: imatrix");
        std::printf("  imatrix:     %s\n", imatrix.c_str());
    }
    return 0;
}

} // namespace cli
