// lowbit quantize [options] IN [OUT] TYPE [NTHREADS]: llama-quantize's
// command line, with its options and their meaning.
#include "commands.hpp"
#include "interrupts.hpp"
#include "lowbit/lowbit.h"
#include "progress_bar.hpp"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cli {

namespace {

const char *kUsage =
    "usage: lowbit quantize [options] IN [OUT] TYPE [NTHREADS]\n"
    "       lowbit quantize [options] IN --types TYPE1,TYPE2,... [OUT_PREFIX [NTHREADS]]\n"
    "\n"
    "Quantizes the GGUF model IN (the first shard of a split model reads them all) to TYPE\n"
    "and writes OUT (default: ggml-model-TYPE.gguf next to IN). TYPE is a name\n"
    "(case-insensitive), llama.cpp's file type number, or COPY (copy tensors as they are).\n"
    "Q8R16 and Q4_K_4 write Q8_0 and Q4_K_M with their Q8_0 (Q4_K) matrices in lowbit's tiled\n"
    "layouts, which only lowbit reads (see lowbit repack --help).\n"
    "With --types, one pass over IN writes OUT_PREFIX-TYPE.gguf for each TYPE (default prefix:\n"
    "ggml-model next to IN), each the same file as its own run. The options are llama-quantize's:\n"
    "\n"
    "  --allow-requantize           accept input tensors that are already quantized\n"
    "  --leave-output-tensor        keep output.weight as it is\n"
    "  --pure                       no mixture: every tensor gets TYPE's default type\n"
    "  --imatrix FILE               importance matrix (llama.cpp GGUF imatrix or legacy .dat)\n"
    "  --include-weights NAME       use the imatrix only for tensors whose name contains NAME\n"
    "  --exclude-weights NAME       do not use the imatrix for tensors whose name contains NAME\n"
    "  --output-tensor-type T       type of output.weight\n"
    "  --token-embedding-type T     type of token_embd.weight\n"
    "  --tensor-type REGEX=T        type of the tensors whose name matches REGEX (repeatable;\n"
    "                               the first match wins)\n"
    "  --tensor-type-file FILE      REGEX=T entries separated by white space\n"
    "  --prune-layers L0,L1,...     remove these layers (blk.N) and renumber the others\n"
    "  --keep-split                 one output shard per input shard\n"
    "  --override-kv KEY=TYPE:VAL   set metadata (TYPE int, float, bool or str)\n"
    "  --dry-run                    show each tensor's type and the output size; write nothing\n"
    "  --max-buffer-size MIB        accepted for compatibility (lowbit's memory is always bounded)\n"
    "  --threads N, -t N            worker threads (default: all hardware threads)\n"
    "  --types T1,T2,...            several file types in one pass (lowbit's; not COPY)\n"
    "  -h, --help                   show this help\n";

// The standard file just written at path, rewritten (atomically) in the
// tiled layout; on failure the file is removed, so that a failed run leaves
// no output.
int repack_in_place(const std::string &path, const std::string &layout) {
    lb_model *m = open_model(path);
    uint64_t tiled = 0;
    const lb_status st = m == nullptr ? LB_E_IO : lb_model_repack(m, path.c_str(), layout.c_str(), &tiled);
    if (m != nullptr) lb_model_close(m);
    if (st != LB_OK) {
        const int status = m == nullptr ? 1 : api_error("quantize: repack");
        std::remove(path.c_str());
        return status;
    }
    std::printf("repacked %llu tensors of %s into the %s layout\n", static_cast<unsigned long long>(tiled),
                path.c_str(), layout.c_str());
    return 0;
}

int on_progress(const lb_progress *p, void *user) {
    static_cast<ProgressBar *>(user)->draw(p);
    return 0;
}

void on_log(lb_log_level level, const char *message, void *user) {
    static_cast<ProgressBar *>(user)->clear();
    std::fprintf(stderr, "lowbit: %s%s\n", level == LB_LOG_WARN ? "warning: " : "", message);
}

bool parse_count(const std::string &s, int *out) {
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    *out = std::atoi(s.c_str());
    return true;
}

// A TYPE argument: a file type, or COPY.
bool parse_ftype(const std::string &s, lb_ftype *ftype, bool *copy) {
    std::string upper = s;
    for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "COPY") {
        *copy = true;
        *ftype = LB_FTYPE_ALL_F32;
        return true;
    }
    *copy = false;
    return lb_ftype_from_name(ftype, s.c_str()) == LB_OK;
}

// A tiled TYPE (lowbit's extension: a file type, then lowbit repack): its
// file type and layout; false for other names.
bool parse_tiled(const std::string &s, lb_ftype *ftype, std::string *layout) {
    std::string upper = s;
    for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper == "Q8R16") {
        *ftype = LB_FTYPE_Q8_0;
        *layout = "q8r16";
    } else if (upper == "Q4_K_4") {
        *ftype = LB_FTYPE_Q4_K_M;
        *layout = "q4_k_4";
    } else {
        return false;
    }
    return true;
}

std::string supported_types() {
    std::string known;
    for (int id = 0; id < 64; ++id)
        if (lb_ftype_name(static_cast<lb_ftype>(id)) != nullptr &&
            lb_ftype_is_supported(static_cast<lb_ftype>(id)))
            known += std::string(known.empty() ? "" : ", ") + lb_ftype_name(static_cast<lb_ftype>(id));
    return known + ", COPY, Q8R16, Q4_K_4";
}

// Everything the command line asks for, applied to a quantizer.
struct Request {
    std::vector<std::pair<std::string, lb_type>> tensor_types;
    std::vector<std::string> include, exclude, overrides;
    std::vector<int32_t> prune;
    std::string imatrix;
    lb_type output_type = LB_TYPE_NONE, embedding_type = LB_TYPE_NONE;
    bool allow_requantize = false, leave_output = false, pure = false, keep_split = false, dry_run = false;
    int threads = 0;
    std::vector<lb_ftype> types; // --types
};

// "REGEX=TYPE": the name part lowercased, as llama-quantize does.
bool parse_tensor_type(const std::string &arg, Request &r, std::string *why) {
    const size_t eq = arg.find('=');
    const char *problem = nullptr;
    if (eq == std::string::npos)
        problem = "is not REGEX=TYPE";
    else if (eq == 0)
        problem = "has no tensor name pattern";
    else if (eq + 1 == arg.size())
        problem = "has no type";
    if (problem != nullptr) {
        std::ostringstream m;
        m << '\'' << arg << "' " << problem;
        *why = m.str();
        return false;
    }
    std::string pattern = arg.substr(0, eq);
    for (char &c : pattern) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string type_name = arg.substr(eq + 1);
    lb_type type;
    if (lb_type_from_name(&type, type_name.c_str()) != LB_OK) {
        std::ostringstream m;
        m << '\'' << type_name << "' in '" << arg << "' is not a tensor type";
        *why = m.str();
        return false;
    }
    r.tensor_types.emplace_back(pattern, type);
    return true;
}

int apply(const Request &r, lb_quantizer *q) {
    if (lb_quantizer_set_threads(q, r.threads) != LB_OK ||
        lb_quantizer_set_allow_requantize(q, r.allow_requantize) != LB_OK ||
        lb_quantizer_set_quantize_output(q, !r.leave_output) != LB_OK ||
        lb_quantizer_set_pure(q, r.pure) != LB_OK || lb_quantizer_set_keep_split(q, r.keep_split) != LB_OK ||
        lb_quantizer_set_dry_run(q, r.dry_run) != LB_OK)
        return api_error("quantize");
    if (lb_quantizer_set_output_tensor_type(q, r.output_type) != LB_OK)
        return api_error("--output-tensor-type");
    if (lb_quantizer_set_token_embedding_type(q, r.embedding_type) != LB_OK)
        return api_error("--token-embedding-type");
    for (const auto &[pattern, type] : r.tensor_types)
        if (lb_quantizer_add_tensor_type(q, pattern.c_str(), type) != LB_OK)
            return api_error("--tensor-type");
    for (const std::string &kv : r.overrides)
        if (lb_quantizer_add_kv_override(q, kv.c_str()) != LB_OK) return api_error("--override-kv");
    if (!r.prune.empty() && lb_quantizer_set_prune_layers(q, r.prune.data(), r.prune.size()) != LB_OK)
        return api_error("--prune-layers");
    if (!r.imatrix.empty() && lb_quantizer_set_imatrix(q, r.imatrix.c_str()) != LB_OK)
        return api_error("--imatrix");
    for (const std::string &w : r.include)
        if (lb_quantizer_add_imatrix_filter(q, 1, w.c_str()) != LB_OK) return api_error("--include-weights");
    for (const std::string &w : r.exclude)
        if (lb_quantizer_add_imatrix_filter(q, 0, w.c_str()) != LB_OK) return api_error("--exclude-weights");
    return 0;
}

void print_plan(lb_quantizer *q, const lb_model *model, size_t output) {
    for (size_t i = 0; i < lb_quantizer_plan_count(q); ++i) {
        if (lb_quantizer_plan_output(q, i) != output) continue;
        const char *name = lb_quantizer_plan_name(q, i);
        size_t ti = 0;
        std::string shape;
        // the shape of the input tensor of the same name (pruning renames layers)
        if (lb_model_tensor_find(&ti, model, name) == LB_OK)
            for (uint32_t d = 0; d < lb_model_tensor_n_dims(model, ti); ++d)
                shape += (d ? " x " : "") + std::to_string(lb_model_tensor_dim(model, ti, d));
        const lb_type from = lb_quantizer_plan_input_type(q, i), to = lb_quantizer_plan_type(q, i);
        std::printf("  %-40s %-20s %6s -> %-6s %10.3f MiB\n", name, shape.c_str(), lb_type_name(from),
                    lb_type_name(to), mib(lb_quantizer_plan_bytes(q, i)));
    }
}

// What output k of the last run holds, and how long the run took.
void print_result(lb_quantizer *q, const lb_model *model, size_t k, const std::string &in,
                  const std::string &out, const char *type_name, bool dry_run) {
    auto stat = [&](lb_stat s) { return lb_quantizer_output_stat(q, k, s); };
    const uint64_t elements = stat(LB_STAT_ELEMENTS);
    const uint64_t in_bytes = stat(LB_STAT_INPUT_BYTES), out_bytes = stat(LB_STAT_OUTPUT_BYTES);
    auto bpw = [&](uint64_t b) {
        return elements > 0 ? 8.0 * static_cast<double>(b) / static_cast<double>(elements) : 0.0;
    };
    if (dry_run) {
        std::printf("lowbit: dry run of %s as %s (nothing written)\n", in.c_str(), type_name);
        print_plan(q, model, k);
    } else {
        std::printf("lowbit: %s -> %s (%s)\n", in.c_str(), out.c_str(), type_name);
    }
    std::printf("  tensors:     %" PRIu64 " (%" PRIu64 " converted, %" PRIu64 " fell back to another type)\n",
                stat(LB_STAT_TENSORS), stat(LB_STAT_QUANTIZED), stat(LB_STAT_FALLBACKS));
    std::printf("  input:       %.2f MiB of tensor data, %.2f bits per weight\n", mib(in_bytes),
                bpw(in_bytes));
    if (dry_run) {
        std::printf("  output:      %.2f MiB of tensor data, %.2f bits per weight\n", mib(out_bytes),
                    bpw(out_bytes));
        return;
    }
    std::printf("  output:      %.2f MiB of tensor data, %.2f bits per weight; %" PRIu64 " file(s), %" PRIu64
                " bytes\n",
                mib(out_bytes), bpw(out_bytes), stat(LB_STAT_OUTPUT_FILES), stat(LB_STAT_OUTPUT_FILE_BYTES));
    if (k + 1 == lb_quantizer_output_count(q))
        std::printf("  time:        %.3f s%s\n", static_cast<double>(stat(LB_STAT_ELAPSED_US)) / 1e6,
                    k > 0 ? " (the one pass for all types)" : "");
}

// The items of a comma-separated list, empty ones included ("a,,b": three).
std::vector<std::string> split_commas(const std::string &list) {
    std::vector<std::string> items;
    size_t start = 0;
    while (start <= list.size()) {
        const size_t comma = std::min(list.find(',', start), list.size());
        items.push_back(list.substr(start, comma - start));
        start = comma + 1;
    }
    return items;
}

// --types T1,T2,...: file types (not COPY), each once.
bool parse_types(const std::string &list, std::vector<lb_ftype> *out, std::string *why) {
    for (const std::string &name : split_commas(list)) {
        lb_ftype f;
        bool copy = false;
        if (name.empty()) {
            *why = "'" + list + "' has an empty type";
            return false;
        }
        if (!parse_ftype(name, &f, &copy)) {
            *why = "unknown quantization type '" + name + "'; this build supports: " + supported_types();
            return false;
        }
        if (copy) {
            *why = "COPY cannot be combined with other types (run it on its own)";
            return false;
        }
        if (std::find(out->begin(), out->end(), f) != out->end()) {
            *why = std::string(lb_ftype_name(f)) + " is given twice";
            return false;
        }
        out->push_back(f);
    }
    return true;
}

// Runs the quantizer on model: one output (ftypes[0] or COPY) or several
// (lb_quantizer_run_many), then prints what each holds. Returns the exit
// status.
int run(const Request &r, lb_model *model, const std::string &in, const std::vector<lb_ftype> &ftypes,
        const std::vector<std::string> &outs, bool copy) {
    lb_quantizer *q = nullptr;
    if (lb_quantizer_new(&q) != LB_OK) return api_error("cannot create quantizer");
    ProgressBar ui;
    int status = 0;
    if (!copy && ftypes.size() == 1 && lb_quantizer_set_ftype(q, ftypes[0]) != LB_OK)
        status = api_error("quantize");
    if (status == 0 && copy && lb_quantizer_set_only_copy(q, 1) != LB_OK) status = api_error("quantize");
    if (status == 0) status = apply(r, q);
    if (status == 0 && (lb_quantizer_set_progress(q, r.dry_run ? nullptr : on_progress, &ui) != LB_OK ||
                        lb_quantizer_set_log(q, on_log, &ui) != LB_OK))
        status = api_error("quantize");
    if (status == 0) {
        lb_status st;
        {
            const Interrupts interrupts({}, q);
            if (ftypes.size() == 1) {
                st = lb_quantizer_run(q, model, outs[0].c_str());
            } else {
                std::vector<const char *> paths;
                for (const std::string &o : outs) paths.push_back(o.c_str());
                st = lb_quantizer_run_many(q, model, ftypes.data(), paths.data(), ftypes.size());
            }
        }
        ui.clear();
        if (st == LB_E_CANCELLED && Interrupts::interrupted()) {
            std::fprintf(stderr, "lowbit: interrupted; no output written\n");
            status = 130;
        } else if (st != LB_OK) {
            status = api_error("quantize");
        } else {
            for (size_t k = 0; k < outs.size(); ++k)
                print_result(q, model, k, in, outs[k], copy ? "COPY" : lb_ftype_name(ftypes[k]), r.dry_run);
        }
    }
    lb_quantizer_free(q);
    return status;
}

// IN --types T1,T2,... [OUT_PREFIX [NTHREADS]]: OUT_PREFIX-T.gguf for each T.
int quantize_many(Request r, const Args &pos) {
    if (pos.empty() || pos.size() > 3) {
        std::fprintf(stderr, "%s", kUsage);
        return error("quantize: expected IN --types T1,T2,... [OUT_PREFIX [NTHREADS]]");
    }
    if (pos.size() == 3 && !parse_count(pos[2], &r.threads))
        return error("quantize: NTHREADS '" + pos[2] + "' is not a number");
    const std::string &in = pos[0];
    std::string prefix;
    if (pos.size() >= 2) {
        prefix = pos[1];
        if (prefix.ends_with(".gguf")) prefix.resize(prefix.size() - 5);
    } else {
        const size_t slash = in.rfind('/');
        prefix = (slash == std::string::npos ? "" : in.substr(0, slash + 1)) + "ggml-model";
    }
    std::vector<std::string> outs;
    for (lb_ftype f : r.types) outs.push_back(prefix + "-" + lb_ftype_name(f) + ".gguf");
    lb_model *model = open_model(in);
    if (model == nullptr) return 1;
    const int status = run(r, model, in, r.types, outs, false);
    lb_model_close(model);
    return status;
}

} // namespace

int cmd_quantize(const Args &args) {
    Request r;
    Args pos;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto value = [&](std::string *out) {
            if (i + 1 >= args.size()) return false;
            *out = args[++i];
            return true;
        };
        std::string v, why;
        if (a == "-h" || a == "--help") {
            std::printf("%s", kUsage);
            return 0;
        } else if (a == "--allow-requantize") {
            r.allow_requantize = true;
        } else if (a == "--leave-output-tensor") {
            r.leave_output = true;
        } else if (a == "--pure") {
            r.pure = true;
        } else if (a == "--keep-split") {
            r.keep_split = true;
        } else if (a == "--dry-run") {
            r.dry_run = true;
        } else if (a == "--imatrix") {
            if (!value(&r.imatrix)) return error("quantize: --imatrix needs a file");
        } else if (a == "--include-weights" || a == "--exclude-weights") {
            if (!value(&v)) return error("quantize: " + a + " needs a tensor name");
            (a == "--include-weights" ? r.include : r.exclude).push_back(v);
        } else if (a == "--output-tensor-type" || a == "--token-embedding-type") {
            lb_type t;
            if (!value(&v)) return error("quantize: " + a + " needs a type");
            if (lb_type_from_name(&t, v.c_str()) != LB_OK)
                return error("quantize: " + a + ": '" + v + "' is not a tensor type");
            (a == "--output-tensor-type" ? r.output_type : r.embedding_type) = t;
        } else if (a == "--tensor-type") {
            if (!value(&v)) return error("quantize: --tensor-type needs REGEX=TYPE");
            if (!parse_tensor_type(v, r, &why)) return error("quantize: --tensor-type: " + why);
        } else if (a == "--tensor-type-file") {
            if (!value(&v)) return error("quantize: --tensor-type-file needs a file");
            std::ifstream f(v);
            if (!f) return error("quantize: --tensor-type-file: cannot read '" + v + "'");
            std::string entry;
            while (f >> entry)
                if (!parse_tensor_type(entry, r, &why))
                    return error("quantize: --tensor-type-file " + v + ": " + why);
        } else if (a == "--prune-layers") {
            if (!value(&v)) return error("quantize: --prune-layers needs a list of layers");
            for (const std::string &item : split_commas(v)) {
                int layer;
                if (!parse_count(item, &layer))
                    return error("quantize: --prune-layers: '" + item + "' is not a layer number");
                r.prune.push_back(layer);
            }
        } else if (a == "--override-kv") {
            if (!value(&v)) return error("quantize: --override-kv needs KEY=TYPE:VALUE");
            r.overrides.push_back(v);
        } else if (a == "--max-buffer-size") {
            int mib_value;
            if (!value(&v) || !parse_count(v, &mib_value) || mib_value <= 0)
                return error("quantize: --max-buffer-size needs a positive number of MiB");
        } else if (a == "--types") {
            if (!value(&v)) return error("quantize: --types needs a list of types (Q4_K_M,Q8_0,...)");
            if (!parse_types(v, &r.types, &why)) return error("quantize: --types: " + why);
        } else if (a == "--threads" || a == "-t") {
            if (!value(&v) || !parse_count(v, &r.threads))
                return error("quantize: " + a + " needs a number of threads");
        } else if (a.size() > 1 && a[0] == '-') {
            return error("quantize: unknown option '" + a + "' (see lowbit quantize --help)");
        } else {
            pos.push_back(a);
        }
    }
    if (!r.include.empty() && !r.exclude.empty())
        return error("quantize: --include-weights and --exclude-weights cannot be used together");

    if (!r.types.empty()) return quantize_many(r, pos);
    // IN TYPE [NTHREADS] when the second argument is a type, else IN OUT TYPE [NTHREADS]
    if (pos.size() < 2 || pos.size() > 4) {
        std::fprintf(stderr, "%s", kUsage);
        return error("quantize: expected IN [OUT] TYPE [NTHREADS]");
    }
    std::string in = pos[0], out, type, layout;
    lb_ftype ftype;
    bool copy = false;
    size_t next;
    auto parse_type = [&](const std::string &t) {
        return parse_tiled(t, &ftype, &layout) || parse_ftype(t, &ftype, &copy);
    };
    if (parse_type(pos[1])) {
        type = pos[1];
        next = 2;
    } else {
        if (pos.size() < 3)
            return error("quantize: unknown quantization type '" + pos[1] +
                         "'; this build supports: " + supported_types());
        out = pos[1];
        type = pos[2];
        next = 3;
        if (!parse_type(type))
            return error("quantize: unknown quantization type '" + type +
                         "'; this build supports: " + supported_types());
    }
    if (next < pos.size() && !parse_count(pos[next], &r.threads))
        return error("quantize: NTHREADS '" + pos[next] + "' is not a number");
    if (next + 1 < pos.size()) return error("quantize: too many arguments ('" + pos[next + 1] + "')");
    const std::string type_name = copy              ? "COPY"
                                  : !layout.empty() ? (layout == "q8r16" ? "Q8R16" : "Q4_K_4")
                                                    : lb_ftype_name(ftype);
    if (out.empty()) {
        const size_t slash = in.rfind('/');
        out =
            (slash == std::string::npos ? "" : in.substr(0, slash + 1)) + "ggml-model-" + type_name + ".gguf";
    }

    lb_model *model = open_model(in);
    if (model == nullptr) return 1;
    int status = run(r, model, in, {ftype}, {out}, copy);
    lb_model_close(model);
    if (status == 0 && !layout.empty() && !r.dry_run) status = repack_in_place(out, layout);
    return status;
}

} // namespace cli
