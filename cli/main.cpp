// lowbit: quantize LLMs to GGUF and run them. Subcommands: info, quantize, synth, tokenize, perplexity, kld,
// imatrix, generate.
#include "commands.hpp"
#include "input_guard.hpp"
#include "kernels_info.hpp"
#include "lowbit/lowbit.h"

#include <cstdio>
#include <cstring>

namespace cli {

int error(const std::string &message) {
    std::fprintf(stderr, "lowbit: error: %s\n", message.c_str());
    return 1;
}

int api_error(const char *what) {
    std::fprintf(stderr, "lowbit: error: %s: %s\n", what, lb_last_error());
    return 1;
}

lb_model *open_model(const std::string &path) {
    guard_input(path);
    lb_model *m = nullptr;
    if (lb_model_open(&m, path.c_str()) != LB_OK) {
        api_error("cannot read model");
        return nullptr;
    }
    for (size_t i = 0; i < lb_model_warning_count(m); ++i)
        std::fprintf(stderr, "lowbit: warning: %s\n", lb_model_warning(m, i));
    return m;
}

} // namespace cli

namespace {

const char *kUsage =
    "usage: lowbit COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  info FILE [--json]                     show a GGUF file's metadata and tensors\n"
    "  info --cpu [--json]                    the CPU's features and the kernel set in use\n"
    "  quantize [options] IN [OUT] TYPE [N]   quantize a model (see lowbit quantize --help)\n"
    "  synth [options] OUT                    write a synthetic model (see lowbit synth --help)\n"
    "  tokenize MODEL TEXT                    the model's tokens of a text\n"
    "  perplexity MODEL -f TEXT [options]     the perplexity of a text, as llama-perplexity\n"
    "  kld --base B --model M -f TEXT         KL-divergence of M from B, as llama-perplexity "
    "--kl-divergence\n"
    "  imatrix MODEL -f TEXT [-o OUT]         an importance matrix, as llama-imatrix collects it\n"
    "  convert SRC OUT.gguf [--outtype T]     a Hugging Face checkpoint (folder, .tar.zst, .zip) to GGUF\n"
    "  compare BASE Q1 [Q2 ...] -f TEXT       size, bpw, PPL, KLD and speed of quantized files side by side\n"
    "  generate MODEL -p PROMPT [options]     continue a prompt\n"
    "  repack IN OUT --to LAYOUT              matrices into a tiled layout (q8r16, q4_k_4) or back\n"
    "  --version                              print the version\n";

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "%s", kUsage);
        return 1;
    }
    const std::string cmd = argv[1];
    const cli::Args args(argv + 2, argv + argc);
    if (cmd == "--version" || cmd == "version") {
        std::printf("lowbit %s\n", lb_version());
        return 0;
    }
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
        std::printf("%s", kUsage);
        return 0;
    }
    cli::warn_unusable_forced_kernels();
    if (cmd == "info") return cli::cmd_info(args);
    if (cmd == "quantize") return cli::cmd_quantize(args);
    if (cmd == "synth") return cli::cmd_synth(args);
    if (cmd == "tokenize") return cli::cmd_tokenize(args);
    if (cmd == "perplexity") return cli::cmd_perplexity(args);
    if (cmd == "kld") return cli::cmd_kld(args);
    if (cmd == "compare") return cli::cmd_compare(args);
    if (cmd == "imatrix") return cli::cmd_imatrix(args);
    if (cmd == "convert") return cli::cmd_convert(args);
    if (cmd == "generate") return cli::cmd_generate(args);
    if (cmd == "repack") return cli::cmd_repack(args);
    std::fprintf(stderr, "%s", kUsage);
    return cli::error("unknown command '" + cmd + "'");
}
