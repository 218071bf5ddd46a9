// lowbit imatrix: an importance matrix of a model over a text, collected and
// written as llama-imatrix collects and writes it, for lowbit quantize
// --imatrix (and llama-quantize).
#include "commands.hpp"
#include "interrupts.hpp"
#include "json.hpp"
#include "progress_bar.hpp"
#include "session_open.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace cli {

namespace {

const char *kUsage =
    "usage: lowbit imatrix MODEL.gguf -f TEXT [-o imatrix.gguf] [options]\n"
    "\n"
    "Runs MODEL over TEXT (chunks of --ctx tokens, BOS first, as llama-imatrix cuts it) and\n"
    "collects, for each weight tensor, the sums of the squared inputs of its matrix products\n"
    "per column and the rows it saw: the importance matrix lowbit quantize --imatrix and\n"
    "llama-quantize --imatrix weigh their quantization errors with. Written in llama.cpp's\n"
    "GGUF imatrix form (or its legacy .dat form), atomically.\n"
    "\n"
    "  -f FILE               the text (UTF-8)\n"
    "  -o, --output FILE     where to write it (default imatrix.gguf)\n"
    "  --ctx N               tokens per chunk (default 512)\n"
    "  --chunks N            evaluate at most N chunks (default: all)\n"
    "  --process-output      collect output.weight too\n"
    "  --in-file FILE        merge an existing importance matrix of this model first (repeatable)\n"
    "  --save-frequency N    also write OUTPUT.at_K each time the chunk count K reaches a\n"
    "                        multiple of N\n"
    "  --output-format F     gguf (default) or dat (llama.cpp's legacy form)\n"
    "  --in-sum              also write <name>.in_sum, the sums of the inputs themselves\n"
    "  --batch N             tokens per forward step (default 512)\n"
    "  --threads N           worker threads (default: all)\n"
    "  --cache-type T        the key/value cache's type, F16 (default) or F32\n"
    "  --json                print the outcome as JSON\n"
    "  -h, --help            show this help\n";

struct Options {
    std::string model, text_file, output = "imatrix.gguf";
    std::vector<std::string> in_files;
    long long ctx = 512, chunks = 0, batch = 512, threads = 0, save_frequency = 0;
    lb_type cache = LB_TYPE_F16;
    bool process_output = false, legacy = false, in_sum = false, json = false;
};

// Returns 0 when parsed, else the exit status (help: -1).
int parse(const Args &args, Options &o) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto value = [&](const char *what) -> const std::string * {
            if (i + 1 >= args.size()) {
                error("imatrix: " + a + " needs " + what);
                return nullptr;
            }
            return &args[++i];
        };
        const std::string *v = nullptr;
        if (a == "-h" || a == "--help") {
            std::printf("%s", kUsage);
            return -1;
        } else if (a == "-m" || a == "--model") {
            if (!(v = value("a file"))) return 1;
            o.model = *v;
        } else if (a == "-f") {
            if (!(v = value("a file"))) return 1;
            o.text_file = *v;
        } else if (a == "-o" || a == "--output") {
            if (!(v = value("a file"))) return 1;
            o.output = *v;
        } else if (a == "--in-file") {
            if (!(v = value("a file"))) return 1;
            o.in_files.push_back(*v);
        } else if (a == "--ctx" || a == "-c") {
            if (!(v = value("a number")) || !parse_int(*v, 2, 1 << 20, &o.ctx))
                return error("imatrix: --ctx must be 2..1048576");
        } else if (a == "--chunks") {
            if (!(v = value("a number")) || !parse_int(*v, 1, (1ll << 31) - 1, &o.chunks))
                return error("imatrix: --chunks must be a positive number");
        } else if (a == "--save-frequency") {
            if (!(v = value("a number")) || !parse_int(*v, 0, (1ll << 31) - 1, &o.save_frequency))
                return error("imatrix: --save-frequency must be a number of chunks (0: never)");
        } else if (a == "--output-format") {
            if (!(v = value("gguf or dat"))) return 1;
            if (*v != "gguf" && *v != "dat") return error("imatrix: --output-format must be gguf or dat");
            o.legacy = *v == "dat";
        } else if (a == "--process-output") {
            o.process_output = true;
        } else if (a == "--in-sum") {
            o.in_sum = true;
        } else if (a == "--batch" || a == "-b") {
            if (!(v = value("a number")) || !parse_int(*v, 1, 1 << 16, &o.batch))
                return error("imatrix: --batch must be 1..65536");
        } else if (a == "--threads" || a == "-t") {
            if (!(v = value("a number")) || !parse_int(*v, 1, 1024, &o.threads))
                return error("imatrix: --threads must be 1..1024");
        } else if (a == "--cache-type") {
            if (!(v = value("a type"))) return 1;
            if (lb_type_from_name(&o.cache, v->c_str()) != LB_OK ||
                (o.cache != LB_TYPE_F16 && o.cache != LB_TYPE_F32))
                return error("imatrix: --cache-type must be F16 or F32");
        } else if (a == "--json") {
            o.json = true;
        } else if (!a.empty() && a[0] == '-') {
            return error("imatrix: unknown option '" + a + "'");
        } else if (o.model.empty()) {
            o.model = a;
        } else {
            return error("imatrix: unexpected argument '" + a + "' (one model is collected at a time)");
        }
    }
    if (o.model.empty() || o.text_file.empty())
        return error("imatrix: a model and -f TEXT are needed\n" + std::string(kUsage));
    if (o.legacy && o.in_sum)
        return error("imatrix: --in-sum needs the GGUF form (the .dat form has no room)");
    return 0;
}

int on_chunk(const lb_imatrix_result *r, void *user) {
    char label[160];
    std::snprintf(label, sizeof label, "chunk %llu/%llu  PPL %.4f +/- %.4f  %llu tensors",
                  static_cast<unsigned long long>(r->n_chunks),
                  static_cast<unsigned long long>(r->n_chunks_total), r->ppl.value, r->ppl.uncertainty,
                  static_cast<unsigned long long>(r->n_entries));
    static_cast<ProgressBar *>(user)->draw(
        r->n_chunks_total > 0 ? static_cast<double>(r->n_chunks) / r->n_chunks_total : 1.0, label,
        r->n_chunks == r->n_chunks_total);
    return 0;
}

void print_json(const Options &o, const lb_imatrix_result &r) {
    std::printf(
        "{\"model\": %s, \"text\": %s, \"output\": %s, \"format\": \"%s\", \"ctx\": %d, \"chunks\": %llu, "
        "\"chunk_count\": %u, \"entries\": %llu, \"ppl\": {\"value\": %s, \"uncertainty\": %s}, "
        "\"seconds\": %s}\n",
        json_string(o.model).c_str(), json_string(o.text_file).c_str(), json_string(o.output).c_str(),
        o.legacy ? "dat" : "gguf", r.n_ctx, static_cast<unsigned long long>(r.n_chunks), r.chunk_count,
        static_cast<unsigned long long>(r.n_entries), json_number(r.ppl.value, 17).c_str(),
        json_number(r.ppl.uncertainty, 17).c_str(), json_number(r.seconds, 4).c_str());
}

} // namespace

int cmd_imatrix(const Args &args) {
    Options o;
    const int parsed = parse(args, o);
    if (parsed != 0) return parsed < 0 ? 0 : parsed;
    std::string text;
    if (!read_text_file(o.text_file, &text)) return 1;
    OpenSession s(o.model);
    if (!s.ok()) return 1;
    if (lb_session_set_param(s.session, LB_SESSION_THREADS, o.threads) != LB_OK ||
        lb_session_set_param(s.session, LB_SESSION_BATCH, o.batch) != LB_OK ||
        lb_session_set_param(s.session, LB_SESSION_CACHE_TYPE, o.cache) != LB_OK)
        return api_error("imatrix");
    std::vector<const char *> in_files;
    for (const std::string &f : o.in_files) in_files.push_back(f.c_str());
    lb_imatrix_options io;
    lb_imatrix_options_init(&io, LB_IMATRIX_OPTIONS_VERSION);
    io.n_ctx = static_cast<int32_t>(o.ctx);
    io.max_chunks = static_cast<int32_t>(o.chunks);
    io.process_output = o.process_output;
    io.with_in_sum = o.in_sum;
    io.save_frequency = static_cast<int32_t>(o.save_frequency);
    io.legacy_format = o.legacy;
    io.dataset = o.text_file.c_str();
    io.in_files = in_files.data();
    io.n_in_files = in_files.size();
    const Interrupts interrupts({s.session});
    ProgressBar bar;
    lb_imatrix_result r{};
    r.version = LB_IMATRIX_RESULT_VERSION;
    const lb_status st =
        lb_imatrix_collect(s.session, text.data(), text.size(), &io, o.output.c_str(), on_chunk, &bar, &r);
    bar.clear();
    if (st == LB_E_CANCELLED && Interrupts::interrupted()) {
        std::fprintf(stderr, "lowbit: interrupted; %s not written\n", o.output.c_str());
        return 130;
    }
    if (st != LB_OK) return api_error("imatrix");
    if (o.json) {
        print_json(o, r);
        return 0;
    }
    std::printf("wrote %s: %llu tensors, %u chunks of %d tokens (%s form)\n", o.output.c_str(),
                static_cast<unsigned long long>(r.n_entries), r.chunk_count, r.n_ctx,
                o.legacy ? "legacy .dat" : "GGUF");
    std::printf("PPL of the chunks' second halves: %.4f +/- %.5f\n%.2f s\n", r.ppl.value, r.ppl.uncertainty,
                r.seconds);
    return 0;
}

} // namespace cli
