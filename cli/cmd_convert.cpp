// lowbit convert: a Hugging Face checkpoint (a folder or an archive) to GGUF, as llama.cpp's
// convert_hf_to_gguf.py writes it.
#include "commands.hpp"
#include "progress_bar.hpp"
#include "session_open.hpp"

#include <cstdio>
#include <string>

namespace cli {

namespace {

const char *kUsage =
    "usage: lowbit convert SRC OUT.gguf [--outtype f32|f16|bf16|q8_0] [--threads N]\n"
    "\n"
    "Writes the Hugging Face checkpoint in folder SRC (config.json, model.safetensors or its\n"
    "shards with model.safetensors.index.json, tokenizer.json, tokenizer_config.json) as a GGUF\n"
    "file, as llama.cpp's convert_hf_to_gguf.py writes it: LlamaForCausalLM, MistralForCausalLM,\n"
    "Qwen2ForCausalLM and Qwen3ForCausalLM. The output is written atomically.\n"
    "SRC may be an archive of the folder (.tar, .tar.gz, .tar.zst, .tar.xz, .zip), read without\n"
    "unpacking it to disk; a file NAME.zst stands for NAME. Every command takes SRC as a MODEL.\n"
    "\n"
    "  --outtype T    the weights' type: f32, f16 (default), bf16 or q8_0 (norms stay f32)\n"
    "  --threads N    worker threads (default: all)\n"
    "  -h, --help     show this help\n";

int on_progress(const lb_progress *p, void *user) {
    const double fraction =
        p->total_elements > 0 ? static_cast<double>(p->done_elements) / p->total_elements : 1.0;
    static_cast<ProgressBar *>(user)->draw(fraction, p->tensor_name, p->tensor_index + 1 == p->tensor_count);
    return 0;
}

} // namespace

int cmd_convert(const Args &args) {
    std::string src, out;
    lb_convert_options o;
    lb_convert_options_init(&o, LB_CONVERT_OPTIONS_VERSION);
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (a == "-h" || a == "--help") {
            std::printf("%s", kUsage);
            return 0;
        } else if (a == "--outtype") {
            if (i + 1 >= args.size()) return error("convert: --outtype needs f32, f16, bf16 or q8_0");
            const std::string &v = args[++i];
            lb_type t;
            if (lb_type_from_name(&t, v.c_str()) != LB_OK ||
                (t != LB_TYPE_F32 && t != LB_TYPE_F16 && t != LB_TYPE_BF16 && t != LB_TYPE_Q8_0))
                return error("convert: --outtype must be f32, f16, bf16 or q8_0, not '" + v + "'");
            o.outtype = t;
        } else if (a == "--threads" || a == "-t") {
            long long n = 0;
            if (i + 1 >= args.size() || !parse_int(args[++i], 1, 1024, &n))
                return error("convert: --threads must be 1..1024");
            o.n_threads = static_cast<int32_t>(n);
        } else if (!a.empty() && a[0] == '-') {
            return error("convert: unknown option '" + a + "'");
        } else if (src.empty()) {
            src = a;
        } else if (out.empty()) {
            out = a;
        } else {
            return error("convert: unexpected argument '" + a + "'");
        }
    }
    if (src.empty() || out.empty())
        return error("convert: SRC and OUT.gguf are needed\n" + std::string(kUsage));
    ProgressBar bar;
    const lb_status st = lb_convert(src.c_str(), out.c_str(), &o, on_progress, &bar);
    bar.clear();
    if (st != LB_OK) return api_error("convert");
    std::printf("wrote %s (%s)\n", out.c_str(), lb_type_name(o.outtype));
    return 0;
}

} // namespace cli
