// lowbit compare: quantized files side by side against their base over a
// text (size, bits per weight, perplexity, KL-divergence, same top token,
// speed), as a table, JSON, CSV and an SVG chart; or, for one file, each
// weight tensor's relative output error (--per-tensor).
#include "commands.hpp"
#include "compare_chart.hpp"
#include "interrupts.hpp"
#include "json.hpp"
#include "progress_bar.hpp"
#include "session_open.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace cli {

namespace {

const char *kUsage =
    "usage: lowbit compare BASE.gguf MODEL.gguf [MODEL.gguf ...] -f TEXT [options]\n"
    "       lowbit compare BASE.gguf MODEL.gguf -f TEXT --per-tensor [options]\n"
    "\n"
    "Measures each MODEL (a quantized BASE) against BASE over TEXT and prints one table: file\n"
    "size, bits per weight (tensor data bits over weights, as llama.cpp's BPW), perplexity,\n"
    "mean and 99th-percentile KL-divergence from BASE, how often both rank the same token\n"
    "first, and tokens per second of MODEL. Scored as lowbit kld scores (chunks of --ctx tokens,\n"
    "BOS first, the second half of each); BASE runs once.\n"
    "--per-tensor (one MODEL): each weight tensor's relative output error on TEXT,\n"
    "sum ||W_q x - W x||^2 / sum ||W x||^2 over the inputs x of BASE's run, worst first.\n"
    "\n"
    "  -f FILE         the text (UTF-8)\n"
    "  --ctx N         tokens per chunk (default 512)\n"
    "  --chunks N      score at most N chunks (default: all)\n"
    "  --batch N       tokens per forward step (default 512)\n"
    "  --threads N     worker threads (default: all)\n"
    "  --json          print the result as JSON\n"
    "  --csv           print the result as CSV\n"
    "  --svg FILE      also draw mean KLD (log scale) against bits per weight into FILE\n"
    "  --per-tensor    per-tensor errors of one MODEL instead of the table\n"
    "  -h, --help      show this help\n";

struct Options {
    std::string base, text_file, svg;
    std::vector<std::string> models;
    long long ctx = 512, chunks = 0, batch = 512, threads = 0;
    bool json = false, csv = false, per_tensor = false;
};

// Returns 0 when parsed, else the exit status (help: -1).
int parse(const Args &args, Options &o) {
    std::vector<std::string> files;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto value = [&](const char *what) -> const std::string * {
            if (i + 1 >= args.size()) {
                error(std::string("compare: ") + a + " needs " + what);
                return nullptr;
            }
            return &args[++i];
        };
        const std::string *v = nullptr;
        if (a == "-h" || a == "--help") {
            std::printf("%s", kUsage);
            return -1;
        } else if (a == "-f") {
            if (!(v = value("a file"))) return 1;
            o.text_file = *v;
        } else if (a == "--svg") {
            if (!(v = value("a file"))) return 1;
            o.svg = *v;
        } else if (a == "--ctx" || a == "-c") {
            if (!(v = value("a number")) || !parse_int(*v, 2, 1 << 20, &o.ctx))
                return error("compare: --ctx must be 2..1048576");
        } else if (a == "--chunks") {
            if (!(v = value("a number")) || !parse_int(*v, 1, (1ll << 31) - 1, &o.chunks))
                return error("compare: --chunks must be a positive number");
        } else if (a == "--batch" || a == "-b") {
            if (!(v = value("a number")) || !parse_int(*v, 1, 1 << 16, &o.batch))
                return error("compare: --batch must be 1..65536");
        } else if (a == "--threads" || a == "-t") {
            if (!(v = value("a number")) || !parse_int(*v, 1, 1024, &o.threads))
                return error("compare: --threads must be 1..1024");
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--csv") {
            o.csv = true;
        } else if (a == "--per-tensor") {
            o.per_tensor = true;
        } else if (a.size() > 1 && a[0] == '-') {
            return error(std::string("compare: unknown option '") + a + "'");
        } else {
            files.push_back(a);
        }
    }
    if (files.size() < 2)
        return error(std::string("compare: give the base model and at least one model to compare with it\n") +
                     std::string(kUsage));
    o.base = files.front();
    o.models.assign(files.begin() + 1, files.end());
    if (o.text_file.empty()) return error("compare: -f TEXT is needed");
    if (o.json && o.csv) return error("compare: --json and --csv exclude each other");
    if (o.per_tensor && o.models.size() != 1)
        return error(std::string("compare: --per-tensor measures one model; ") +
                     std::to_string(o.models.size()) + " were given");
    if (o.per_tensor && !o.svg.empty())
        return error("compare: --svg draws the table's chart, not --per-tensor");
    return 0;
}

bool configure(lb_session *s, const Options &o) {
    return lb_session_set_param(s, LB_SESSION_THREADS, o.threads) == LB_OK &&
           lb_session_set_param(s, LB_SESSION_BATCH, o.batch) == LB_OK;
}

// The file's name without its folders.
std::string base_name(const std::string &path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Bytes of all the model's files: the shards of a split model are named
// "prefix-0000K-of-0000N.gguf" after the first.
uint64_t files_size(const lb_model *m, const std::string &path) {
    const size_t shards = lb_model_shard_count(m);
    if (shards <= 1) return lb_model_file_size(m);
    const std::string first = "-00001-of-";
    const size_t at = path.rfind(first);
    uint64_t total = 0;
    for (size_t k = 1; k <= shards; ++k) {
        std::string p = path;
        if (at != std::string::npos) {
            char index[24];
            std::snprintf(index, sizeof index, "%05zu", k);
            p.replace(at + 1, 5, index);
        }
        struct stat st = {};
        if (::stat(p.c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_size);
    }
    return total;
}

// Bits per weight as llama.cpp reports a model's BPW: all tensors' data
// bits over all their elements.
double bits_per_weight(const lb_model *m) {
    uint64_t bytes = 0, elements = 0;
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        bytes += lb_model_tensor_size(m, i);
        elements += static_cast<uint64_t>(lb_model_tensor_n_elements(m, i));
    }
    return elements > 0 ? 8.0 * static_cast<double>(bytes) / static_cast<double>(elements) : 0.0;
}

// A private folder (mkdtemp) for the base's distributions, removed with the
// object: a file in it, written atomically by the library.
class TempFile {
  public:
    TempFile() {
        const char *dir = std::getenv("TMPDIR");
        const std::string pattern =
            std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/lowbit-compare-XXXXXX";
        std::vector<char> name(pattern.begin(), pattern.end());
        name.push_back('\0');
        if (::mkdtemp(name.data()) != nullptr) {
            dir_ = name.data();
            path_ = dir_ + "/base.logits";
        } else {
            error_ = pattern + ": cannot create a temporary folder: " + std::strerror(errno);
        }
    }
    ~TempFile() {
        if (dir_.empty()) return;
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }
    TempFile(const TempFile &) = delete;
    TempFile &operator=(const TempFile &) = delete;
    const std::string &path() const { return path_; }
    const std::string &error() const { return error_; }

  private:
    std::string dir_, path_, error_;
};

struct Row {
    std::string file;
    uint64_t size = 0;
    double bpw = 0.0;
    lb_kld_result r{};
    double tokens_per_second = 0.0;
};

struct Base {
    std::string file;
    uint64_t size = 0;
    double bpw = 0.0;
    double tokens_per_second = 0.0;
};

struct Ui {
    ProgressBar bar;
    std::string what;
};

int on_saved(uint64_t done, uint64_t total, void *user) {
    Ui &ui = *static_cast<Ui *>(user);
    char label[64];
    std::snprintf(label, sizeof label, ": chunk %llu/%llu", static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(total));
    ui.bar.draw(total > 0 ? static_cast<double>(done) / total : 1.0, ui.what + label, done == total);
    return Interrupts::interrupted() ? 1 : 0;
}

int on_kld(const lb_kld_result *r, void *user) {
    Ui &ui = *static_cast<Ui *>(user);
    char label[96];
    std::snprintf(label, sizeof label, ": chunk %llu/%llu  KLD %.6f",
                  static_cast<unsigned long long>(r->n_chunks),
                  static_cast<unsigned long long>(r->n_chunks_total), r->kld.value);
    ui.bar.draw(r->n_chunks_total > 0 ? static_cast<double>(r->n_chunks) / r->n_chunks_total : 1.0,
                ui.what + label, r->n_chunks == r->n_chunks_total);
    return Interrupts::interrupted() ? 1 : 0;
}

std::string estimate_json(const lb_estimate &e) {
    return std::string("{\"value\": ") + json_number(e.value, 17) +
           ", \"uncertainty\": " + json_number(e.uncertainty, 17) + "}";
}

// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
std::string csv_field(const std::string &s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string csv_number(double v) {
    char b[40];
    std::snprintf(b, sizeof b, "%.9g", v);
    return b;
}

void print_table(const Options &o, const Base &base, const std::vector<Row> &rows) {
    const lb_kld_result &first = rows.front().r;
    std::printf("base: %s, %.2f MiB, %.2f bits per weight, PPL %.4f +/- %.4f, %.0f tokens/s\n",
                base.file.c_str(), mib(base.size), base.bpw, first.ppl_base.value, first.ppl_base.uncertainty,
                base.tokens_per_second);
    std::printf("text: %s, %llu chunks of %d tokens, %llu positions scored\n\n", o.text_file.c_str(),
                static_cast<unsigned long long>(first.n_chunks), first.n_ctx,
                static_cast<unsigned long long>(first.n_scored));
    int w = 4;
    for (const Row &r : rows) w = std::max(w, static_cast<int>(r.file.size()));
    std::printf("%-*s  %10s  %6s  %20s  %22s  %9s  %16s  %9s\n", w, "file", "size (MiB)", "bpw", "PPL",
                "mean KLD", "99% KLD", "same top", "tokens/s");
    for (const Row &r : rows) {
        char ppl[48], kld[48], top[40];
        std::snprintf(ppl, sizeof ppl, "%.4f +/- %.4f", r.r.ppl.value, r.r.ppl.uncertainty);
        std::snprintf(kld, sizeof kld, "%.6f +/- %.6f", r.r.kld.value, r.r.kld.uncertainty);
        std::snprintf(top, sizeof top, "%.2f +/- %.2f%%", 100.0 * r.r.same_top.value,
                      100.0 * r.r.same_top.uncertainty);
        std::printf("%-*s  %10.2f  %6.3f  %20s  %22s  %9.6f  %16s  %9.0f\n", w, r.file.c_str(), mib(r.size),
                    r.bpw, ppl, kld, r.r.kld_quantiles.p99, top, r.tokens_per_second);
    }
}

void print_json(const Options &o, const Base &base, const std::vector<Row> &rows) {
    const lb_kld_result &first = rows.front().r;
    std::printf(
        "{\"base\": {\"file\": %s, \"size\": %llu, \"bpw\": %s, \"ppl\": %s, \"tokens_per_second\": %s},\n",
        json_string(base.file).c_str(), static_cast<unsigned long long>(base.size),
        json_number(base.bpw, 17).c_str(), estimate_json(first.ppl_base).c_str(),
        json_number(base.tokens_per_second, 6).c_str());
    std::printf(" \"text\": %s, \"ctx\": %d, \"chunks\": %llu, \"scored\": %llu,\n \"models\": [",
                json_string(o.text_file).c_str(), first.n_ctx,
                static_cast<unsigned long long>(first.n_chunks),
                static_cast<unsigned long long>(first.n_scored));
    for (size_t i = 0; i < rows.size(); ++i) {
        const Row &r = rows[i];
        std::printf(
            "%s\n  {\"file\": %s, \"size\": %llu, \"bpw\": %s, \"ppl\": %s, \"kld\": %s, \"kld_99\": %s, "
            "\"same_top\": %s, \"tokens_per_second\": %s, \"seconds\": %s}",
            i > 0 ? "," : "", json_string(r.file).c_str(), static_cast<unsigned long long>(r.size),
            json_number(r.bpw, 17).c_str(), estimate_json(r.r.ppl).c_str(), estimate_json(r.r.kld).c_str(),
            json_number(r.r.kld_quantiles.p99, 17).c_str(), estimate_json(r.r.same_top).c_str(),
            json_number(r.tokens_per_second, 6).c_str(), json_number(r.r.seconds, 6).c_str());
    }
    std::printf("\n ]}\n");
}

void print_csv(const std::vector<Row> &rows) {
    std::printf("file,size,bpw,ppl,ppl_uncertainty,kld,kld_uncertainty,kld_99,same_top,same_top_uncertainty,"
                "tokens_per_second\n");
    for (const Row &r : rows)
        std::printf("%s,%llu,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", csv_field(r.file).c_str(),
                    static_cast<unsigned long long>(r.size), csv_number(r.bpw).c_str(),
                    csv_number(r.r.ppl.value).c_str(), csv_number(r.r.ppl.uncertainty).c_str(),
                    csv_number(r.r.kld.value).c_str(), csv_number(r.r.kld.uncertainty).c_str(),
                    csv_number(r.r.kld_quantiles.p99).c_str(), csv_number(r.r.same_top.value).c_str(),
                    csv_number(r.r.same_top.uncertainty).c_str(), csv_number(r.tokens_per_second).c_str());
}

// Writes the chart; on failure prints an error naming the file.
bool write_svg(const Options &o, const std::vector<Row> &rows) {
    std::vector<ChartPoint> points;
    for (const Row &r : rows) points.push_back({base_name(r.file), r.bpw, r.r.kld.value});
    const lb_kld_result &first = rows.front().r;
    char about[96];
    std::snprintf(about, sizeof about, ", %llu chunks of %d tokens",
                  static_cast<unsigned long long>(first.n_chunks), first.n_ctx);
    const std::string svg =
        kld_chart_svg(points, "Mean KL-divergence against bits per weight",
                      std::string("base ") + base_name(o.base) + ", text " + base_name(o.text_file) + about);
    std::ofstream f(o.svg, std::ios::binary | std::ios::trunc);
    if (f) f << svg;
    if (f) f.close();
    if (!f) {
        error(std::string("compare: ") + o.svg + ": cannot write: " + std::strerror(errno));
        std::remove(o.svg.c_str());
        return false;
    }
    return true;
}

// An error of the C API about one file: "compare: FILE: message".
int file_error(const std::string &file) {
    return error(std::string("compare: ") + file + ": " + lb_last_error());
}

int interrupted() {
    std::fprintf(stderr, "lowbit: interrupted\n");
    return 130;
}

int compare_table(const Options &o, const std::string &text) {
    Interrupts interrupts;
    auto base = std::make_unique<OpenSession>(o.base);
    if (!base->ok()) return 1;
    if (!configure(base->session, o)) return api_error("compare");
    std::vector<std::unique_ptr<OpenSession>> models;
    for (const std::string &path : o.models) {
        models.push_back(std::make_unique<OpenSession>(path));
        if (!models.back()->ok()) return 1;
        if (!configure(models.back()->session, o)) return api_error("compare");
        const size_t nv = lb_session_vocab_size(models.back()->session),
                     bv = lb_session_vocab_size(base->session);
        if (nv != bv)
            return error(std::string("compare: ") + path + " has a vocabulary of " + std::to_string(nv) +
                         " tokens; the base " + o.base + " has " + std::to_string(bv));
    }
    Base b{o.base, files_size(base->model, o.base), bits_per_weight(base->model), 0.0};
    const TempFile saved;
    if (saved.path().empty()) return error(std::string("compare: ") + saved.error());
    lb_kld_options ko;
    lb_kld_options_init(&ko, LB_KLD_OPTIONS_VERSION);
    ko.n_ctx = static_cast<int32_t>(o.ctx);
    ko.max_chunks = static_cast<int32_t>(o.chunks);
    Ui ui;
    ui.what = base_name(o.base);
    interrupts.running(base->session);
    uint64_t n_chunks = 0;
    const auto start = std::chrono::steady_clock::now();
    lb_status st = lb_kld_save_base(base->session, text.data(), text.size(), &ko, saved.path().c_str(),
                                    on_saved, &ui, &n_chunks);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ui.bar.clear();
    interrupts.running(nullptr);
    if (Interrupts::interrupted()) return interrupted();
    if (st != LB_OK) return file_error(o.base);
    if (seconds > 0)
        b.tokens_per_second = static_cast<double>(n_chunks) * static_cast<double>(o.ctx) / seconds;
    base.reset(); // the base's memory back before the models run

    std::vector<Row> rows;
    for (size_t i = 0; i < models.size(); ++i) {
        Row row;
        row.file = o.models[i];
        row.size = files_size(models[i]->model, row.file);
        row.bpw = bits_per_weight(models[i]->model);
        row.r.version = LB_KLD_RESULT_VERSION;
        char counter[32];
        std::snprintf(counter, sizeof counter, "[%zu/%zu] ", i + 1, models.size());
        ui.what = std::string(counter) + base_name(row.file);
        interrupts.running(models[i]->session);
        st = lb_kld_from_file(models[i]->session, saved.path().c_str(), on_kld, &ui, &row.r);
        ui.bar.clear();
        interrupts.running(nullptr);
        if (Interrupts::interrupted()) return interrupted();
        if (st != LB_OK) return file_error(row.file);
        if (row.r.seconds > 0)
            row.tokens_per_second = static_cast<double>(row.r.n_chunks) * row.r.n_ctx / row.r.seconds;
        models[i].reset();
        rows.push_back(row);
    }
    if (!o.svg.empty() && !write_svg(o, rows)) return 1;
    if (o.json)
        print_json(o, b, rows);
    else if (o.csv)
        print_csv(rows);
    else
        print_table(o, b, rows);
    if (!o.svg.empty() && !o.json && !o.csv) std::printf("\nchart: %s\n", o.svg.c_str());
    return 0;
}

struct ModelCloser {
    void operator()(lb_model *m) const { lb_model_close(m); }
};

struct Tensor {
    std::string name;
    lb_tensor_error e{};
};

int compare_tensors(const Options &o, const std::string &text) {
    Interrupts interrupts;
    OpenSession base(o.base);
    if (!base.ok()) return 1;
    if (!configure(base.session, o)) return api_error("compare");
    const std::unique_ptr<lb_model, ModelCloser> model(open_model(o.models.front()));
    if (!model) return 1;
    lb_kld_options ko;
    lb_kld_options_init(&ko, LB_KLD_OPTIONS_VERSION);
    ko.n_ctx = static_cast<int32_t>(o.ctx);
    ko.max_chunks = static_cast<int32_t>(o.chunks);
    Ui ui;
    ui.what = base_name(o.models.front()) + " per tensor";
    interrupts.running(base.session);
    lb_tensor_errors *errors = nullptr;
    struct Chunks {
        Ui *ui;
        uint64_t total = 0;
    } chunks{&ui};
    const lb_status st = lb_tensor_errors_measure(
        &errors, base.session, model.get(), text.data(), text.size(), &ko,
        [](uint64_t done, uint64_t total, void *user) {
            Chunks &c = *static_cast<Chunks *>(user);
            c.total = total;
            return on_saved(done, total, c.ui);
        },
        &chunks);
    ui.bar.clear();
    interrupts.running(nullptr);
    if (Interrupts::interrupted()) {
        lb_tensor_errors_free(errors);
        return interrupted();
    }
    if (st != LB_OK) return error(std::string("compare: ") + lb_last_error());
    std::vector<Tensor> tensors(lb_tensor_errors_count(errors));
    for (size_t i = 0; i < tensors.size(); ++i) {
        tensors[i].e.version = LB_TENSOR_ERROR_VERSION;
        if (lb_tensor_errors_get(errors, i, &tensors[i].e) != LB_OK) {
            lb_tensor_errors_free(errors);
            return api_error("compare");
        }
        tensors[i].name = tensors[i].e.name;
        tensors[i].e.name = nullptr; // borrowed from errors, freed below
    }
    lb_tensor_errors_free(errors);
    if (o.json) {
        std::printf(
            "{\"base\": %s, \"model\": %s, \"text\": %s, \"ctx\": %lld, \"chunks\": %llu,\n \"tensors\": [",
            json_string(o.base).c_str(), json_string(o.models.front()).c_str(),
            json_string(o.text_file).c_str(), o.ctx, static_cast<unsigned long long>(chunks.total));
        for (size_t i = 0; i < tensors.size(); ++i) {
            const lb_tensor_error &e = tensors[i].e;
            std::printf("%s\n  {\"name\": %s, \"layer\": %d, \"base_type\": \"%s\", \"type\": \"%s\", "
                        "\"rows\": %llu, "
                        "\"error\": %s, \"reference\": %s, \"relative\": %s}",
                        i > 0 ? "," : "", json_string(tensors[i].name).c_str(), e.layer,
                        lb_type_name(e.base_type), lb_type_name(e.type),
                        static_cast<unsigned long long>(e.n_rows), json_number(e.error, 17).c_str(),
                        json_number(e.reference, 17).c_str(), json_number(e.relative, 17).c_str());
        }
        std::printf("\n ]}\n");
        return 0;
    }
    if (o.csv) {
        std::printf("tensor,layer,base_type,type,rows,error,reference,relative\n");
        for (const Tensor &t : tensors)
            std::printf("%s,%d,%s,%s,%llu,%s,%s,%s\n", csv_field(t.name).c_str(), t.e.layer,
                        lb_type_name(t.e.base_type), lb_type_name(t.e.type),
                        static_cast<unsigned long long>(t.e.n_rows), csv_number(t.e.error).c_str(),
                        csv_number(t.e.reference).c_str(), csv_number(t.e.relative).c_str());
        return 0;
    }
    std::printf("each weight tensor's relative output error, sum ||W_q x - W x||^2 / sum ||W x||^2 over the "
                "inputs of the base's run, worst first\n");
    std::printf("base: %s\nmodel: %s\ntext: %s, %llu chunks of %lld tokens\n\n", o.base.c_str(),
                o.models.front().c_str(), o.text_file.c_str(), static_cast<unsigned long long>(chunks.total),
                o.ctx);
    int w = 6;
    for (const Tensor &t : tensors) w = std::max(w, static_cast<int>(t.name.size()));
    std::printf("%4s  %-*s  %-6s  %-6s  %14s  %8s\n", "#", w, "tensor", "base", "type", "relative error",
                "SNR dB");
    for (size_t i = 0; i < tensors.size(); ++i) {
        const Tensor &t = tensors[i];
        char snr[16] = "inf";
        if (t.e.relative > 0) std::snprintf(snr, sizeof snr, "%.2f", -10.0 * std::log10(t.e.relative));
        std::printf("%4zu  %-*s  %-6s  %-6s  %14.6e  %8s\n", i + 1, w, t.name.c_str(),
                    lb_type_name(t.e.base_type), lb_type_name(t.e.type), t.e.relative, snr);
    }
    return 0;
}

} // namespace

int cmd_compare(const Args &args) {
    Options o;
    const int parsed = parse(args, o);
    if (parsed != 0) return parsed < 0 ? 0 : parsed;
    std::string text;
    if (!read_text_file(o.text_file, &text)) return 1;
    if (text.empty())
        return error(std::string("compare: ") + o.text_file + " is empty: there is no text to score");
    return o.per_tensor ? compare_tensors(o, text) : compare_table(o, text);
}

} // namespace cli
