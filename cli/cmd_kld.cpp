// lowbit kld: the KL-divergence of a model from a base model over a text, as
// llama-perplexity --kl-divergence measures and prints it; in one step, or
// with the base's distributions saved to a file (--save-base) and read back
// for each model (--base-logits).
#include "commands.hpp"
#include "interrupts.hpp"
#include "json.hpp"
#include "progress_bar.hpp"
#include "session_open.hpp"

#include <cstdio>
#include <memory>
#include <string>

namespace cli {

namespace {

const char *kUsage =
    "usage: lowbit kld --base BASE.gguf --model MODEL.gguf -f TEXT [options]\n"
    "       lowbit kld --base BASE.gguf -f TEXT --save-base FILE [options]\n"
    "       lowbit kld --base-logits FILE --model MODEL.gguf [options]\n"
    "\n"
    "How far MODEL's next-token distributions are from BASE's (its 16-bit original) over TEXT,\n"
    "scored as llama-perplexity --kl-divergence scores (chunks of --ctx tokens, BOS first, the\n"
    "second half of each scored): both perplexities, their ratio and correlation; KL-divergence\n"
    "mean, quantiles and extremes; the change of the correct token's probability (dp); how\n"
    "often both rank the same token first. --save-base writes BASE's distributions to FILE\n"
    "(with --model too: and measures MODEL against them); --base-logits reads them back, so\n"
    "BASE runs once for many models (the text's tokens are in the file).\n"
    "\n"
    "  --base FILE         the base model\n"
    "  --model FILE        the model measured\n"
    "  -f FILE             the text (UTF-8)\n"
    "  --save-base FILE    write BASE's distributions to FILE\n"
    "  --base-logits FILE  read the base's distributions from FILE\n"
    "  --ctx N             tokens per chunk (default 512)\n"
    "  --chunks N          score at most N chunks (default: all)\n"
    "  --batch N           tokens per forward step (default 512)\n"
    "  --threads N         worker threads (default: all)\n"
    "  --cache-type T      the key/value cache's type, F16 (default) or F32\n"
    "  --json              print the result as JSON\n"
    "  -h, --help          show this help\n";

struct Options {
    std::string base, model, text_file, save_base, base_logits;
    long long ctx = 512, chunks = 0, batch = 512, threads = 0;
    lb_type cache = LB_TYPE_F16;
    bool json = false;
};

// Returns 0 when parsed, else the exit status (help: -1).
int parse(const Args &args, Options &o) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto value = [&](const char *what) -> const std::string * {
            if (i + 1 >= args.size()) {
                error(std::string("kld: ") + a + " needs " + what);
                return nullptr;
            }
            return &args[++i];
        };
        const std::string *v = nullptr;
        auto path_into = [&](std::string &dst) {
            if (!(v = value("a file"))) return false;
            dst = *v;
            return true;
        };
        if (a == "-h" || a == "--help") {
            std::printf("%s", kUsage);
            return -1;
        } else if (a == "--base") {
            if (!path_into(o.base)) return 1;
        } else if (a == "--model" || a == "-m") {
            if (!path_into(o.model)) return 1;
        } else if (a == "-f") {
            if (!path_into(o.text_file)) return 1;
        } else if (a == "--save-base") {
            if (!path_into(o.save_base)) return 1;
        } else if (a == "--base-logits") {
            if (!path_into(o.base_logits)) return 1;
        } else if (a == "--ctx" || a == "-c") {
            if (!(v = value("a number")) || !parse_int(*v, 2, 1 << 20, &o.ctx))
                return error("kld: --ctx must be 2..1048576");
        } else if (a == "--chunks") {
            if (!(v = value("a number")) || !parse_int(*v, 1, (1ll << 31) - 1, &o.chunks))
                return error("kld: --chunks must be a positive number");
        } else if (a == "--batch" || a == "-b") {
            if (!(v = value("a number")) || !parse_int(*v, 1, 1 << 16, &o.batch))
                return error("kld: --batch must be 1..65536");
        } else if (a == "--threads" || a == "-t") {
            if (!(v = value("a number")) || !parse_int(*v, 1, 1024, &o.threads))
                return error("kld: --threads must be 1..1024");
        } else if (a == "--cache-type") {
            if (!(v = value("a type"))) return 1;
            if (lb_type_from_name(&o.cache, v->c_str()) != LB_OK ||
                (o.cache != LB_TYPE_F16 && o.cache != LB_TYPE_F32))
                return error("kld: --cache-type must be F16 or F32");
        } else if (a == "--json") {
            o.json = true;
        } else {
            return error("kld: unexpected argument '" + a + "' (models are given with --base and --model)");
        }
    }
    if (!o.base_logits.empty()) {
        if (!o.base.empty() || !o.save_base.empty() || !o.text_file.empty())
            return error(
                "kld: --base-logits replaces --base, --save-base and -f (the text's tokens are in the file)");
        if (o.model.empty()) return error("kld: --base-logits needs --model");
        return 0;
    }
    if (o.base.empty() || o.text_file.empty())
        return error("kld: --base and -f TEXT are needed (or --base-logits)\n" + std::string(kUsage));
    if (o.model.empty() && o.save_base.empty()) return error("kld: --model or --save-base is needed");
    return 0;
}

bool configure(lb_session *s, const Options &o) {
    return lb_session_set_param(s, LB_SESSION_THREADS, o.threads) == LB_OK &&
           lb_session_set_param(s, LB_SESSION_BATCH, o.batch) == LB_OK &&
           lb_session_set_param(s, LB_SESSION_CACHE_TYPE, o.cache) == LB_OK;
}

int on_kld(const lb_kld_result *r, void *user) {
    char label[160];
    std::snprintf(label, sizeof label, "chunk %llu/%llu  KLD %.6f +/- %.6f  same top %.2f%%",
                  static_cast<unsigned long long>(r->n_chunks),
                  static_cast<unsigned long long>(r->n_chunks_total), r->kld.value, r->kld.uncertainty,
                  100.0 * r->same_top.value);
    static_cast<ProgressBar *>(user)->draw(
        r->n_chunks_total > 0 ? static_cast<double>(r->n_chunks) / r->n_chunks_total : 1.0, label,
        r->n_chunks == r->n_chunks_total);
    return 0;
}

int on_saved(uint64_t done, uint64_t total, void *user) {
    char label[96];
    std::snprintf(label, sizeof label, "base: chunk %llu/%llu", static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(total));
    static_cast<ProgressBar *>(user)->draw(total > 0 ? static_cast<double>(done) / total : 1.0, label,
                                           done == total);
    return 0;
}

std::string estimate_json(const lb_estimate &e) {
    return "{\"value\": " + json_number(e.value, 17) +
           ", \"uncertainty\": " + json_number(e.uncertainty, 17) + "}";
}

std::string quantiles_json(const lb_quantiles &q) {
    const std::pair<const char *, double> fields[] = {
        {"min", q.min}, {"0.1%", q.p0_1},     {"1%", q.p1},   {"5%", q.p5},   {"10%", q.p10},
        {"25%", q.p25}, {"median", q.median}, {"75%", q.p75}, {"90%", q.p90}, {"95%", q.p95},
        {"99%", q.p99}, {"99.9%", q.p99_9},   {"max", q.max}};
    std::string out = "{";
    for (const auto &[name, value] : fields)
        out += std::string(out.size() > 1 ? ", " : "") + "\"" + name + "\": " + json_number(value, 17);
    return out + "}";
}

void print_json(const Options &o, const lb_kld_result &r) {
    std::printf(
        "{\"base\": %s, \"model\": %s, \"text\": %s, \"base_logits\": %s, \"ctx\": %lld, \"chunks\": %llu, "
        "\"scored\": %llu,\n",
        o.base.empty() ? "null" : json_string(o.base).c_str(), json_string(o.model).c_str(),
        o.text_file.empty() ? "null" : json_string(o.text_file).c_str(),
        o.base_logits.empty() ? (o.save_base.empty() ? "null" : json_string(o.save_base).c_str())
                              : json_string(o.base_logits).c_str(),
        static_cast<long long>(r.n_ctx), static_cast<unsigned long long>(r.n_chunks),
        static_cast<unsigned long long>(r.n_scored));
    std::printf(" \"ppl\": %s, \"ppl_base\": %s, \"ln_ppl_correlation\": %s, \"ln_ppl_ratio\": %s,\n",
                estimate_json(r.ppl).c_str(), estimate_json(r.ppl_base).c_str(),
                json_number(r.ln_ppl_correlation, 17).c_str(), estimate_json(r.ln_ppl_ratio).c_str());
    std::printf(" \"ppl_ratio\": %s, \"ppl_difference\": %s,\n", estimate_json(r.ppl_ratio).c_str(),
                estimate_json(r.ppl_difference).c_str());
    std::printf(" \"kld\": %s, \"kld_quantiles\": %s,\n", estimate_json(r.kld).c_str(),
                quantiles_json(r.kld_quantiles).c_str());
    std::printf(" \"delta_p\": %s, \"delta_p_quantiles\": %s, \"delta_p_rms\": %s,\n",
                estimate_json(r.delta_p).c_str(), quantiles_json(r.delta_p_quantiles).c_str(),
                estimate_json(r.delta_p_rms).c_str());
    std::printf(" \"same_top\": %s, \"seconds\": %s}\n", estimate_json(r.same_top).c_str(),
                json_number(r.seconds, 4).c_str());
}

// The report llama-perplexity --kl-divergence prints.
void print_text(const lb_kld_result &r) {
    std::printf("%llu chunks, %llu positions scored\n\n", static_cast<unsigned long long>(r.n_chunks),
                static_cast<unsigned long long>(r.n_scored));
    std::printf("====== Perplexity statistics ======\n");
    std::printf("Mean PPL(Q)                   : %10.6f +/- %10.6f\n", r.ppl.value, r.ppl.uncertainty);
    std::printf("Mean PPL(base)                : %10.6f +/- %10.6f\n", r.ppl_base.value,
                r.ppl_base.uncertainty);
    std::printf("Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%\n", 100.0 * r.ln_ppl_correlation);
    std::printf("Mean ln(PPL(Q)/PPL(base))     : %10.6f +/- %10.6f\n", r.ln_ppl_ratio.value,
                r.ln_ppl_ratio.uncertainty);
    std::printf("Mean PPL(Q)/PPL(base)         : %10.6f +/- %10.6f\n", r.ppl_ratio.value,
                r.ppl_ratio.uncertainty);
    std::printf("Mean PPL(Q)-PPL(base)         : %10.6f +/- %10.6f\n\n", r.ppl_difference.value,
                r.ppl_difference.uncertainty);
    const lb_quantiles &k = r.kld_quantiles;
    std::printf("====== KL divergence statistics ======\n");
    std::printf("Mean    KLD: %10.6f +/- %10.6f\n", r.kld.value, r.kld.uncertainty);
    const std::pair<const char *, double> kld_rows[] = {
        {"Maximum KLD", k.max}, {"99.9%   KLD", k.p99_9},  {"99.0%   KLD", k.p99}, {"95.0%   KLD", k.p95},
        {"90.0%   KLD", k.p90}, {"Median  KLD", k.median}, {"10.0%   KLD", k.p10}, {" 5.0%   KLD", k.p5},
        {" 1.0%   KLD", k.p1},  {" 0.1%   KLD", k.p0_1},   {"Minimum KLD", k.min}};
    for (const auto &[name, value] : kld_rows) std::printf("%s: %10.6f\n", name, value);
    const lb_quantiles &d = r.delta_p_quantiles;
    std::printf("\n====== Token probability statistics ======\n");
    std::printf("Mean    dp: %6.3f +/- %5.3f %%\n", 100.0 * r.delta_p.value, 100.0 * r.delta_p.uncertainty);
    const std::pair<const char *, double> dp_rows[] = {
        {"Maximum dp", d.max}, {"99.9%   dp", d.p99_9}, {"99.0%   dp", d.p99},    {"95.0%   dp", d.p95},
        {"90.0%   dp", d.p90}, {"75.0%   dp", d.p75},   {"Median  dp", d.median}, {"25.0%   dp", d.p25},
        {"10.0%   dp", d.p10}, {" 5.0%   dp", d.p5},    {" 1.0%   dp", d.p1},     {" 0.1%   dp", d.p0_1},
        {"Minimum dp", d.min}};
    for (const auto &[name, value] : dp_rows) std::printf("%s: %6.3f%%\n", name, 100.0 * value);
    std::printf("RMS dp    : %6.3f +/- %5.3f %%\n", 100.0 * r.delta_p_rms.value,
                100.0 * r.delta_p_rms.uncertainty);
    std::printf("Same top p: %6.3f +/- %5.3f %%\n", 100.0 * r.same_top.value, 100.0 * r.same_top.uncertainty);
    std::printf("\n%.2f s\n", r.seconds);
}

} // namespace

int cmd_kld(const Args &args) {
    Options o;
    const int parsed = parse(args, o);
    if (parsed != 0) return parsed < 0 ? 0 : parsed;
    std::string text;
    if (!o.text_file.empty() && !read_text_file(o.text_file, &text)) return 1;
    std::unique_ptr<OpenSession> base, model;
    if (!o.base.empty()) {
        base = std::make_unique<OpenSession>(o.base);
        if (!base->ok()) return 1;
        if (!configure(base->session, o)) return api_error("kld");
    }
    if (!o.model.empty()) {
        model = std::make_unique<OpenSession>(o.model);
        if (!model->ok()) return 1;
        if (!configure(model->session, o)) return api_error("kld");
    }
    lb_kld_options ko;
    lb_kld_options_init(&ko, LB_KLD_OPTIONS_VERSION);
    ko.n_ctx = static_cast<int32_t>(o.ctx);
    ko.max_chunks = static_cast<int32_t>(o.chunks);
    const Interrupts interrupts({base ? base->session : nullptr, model ? model->session : nullptr});
    ProgressBar bar;
    lb_status st = LB_OK;
    lb_kld_result r{};
    r.version = LB_KLD_RESULT_VERSION;
    if (!o.save_base.empty()) {
        uint64_t n = 0;
        st = lb_kld_save_base(base->session, text.data(), text.size(), &ko, o.save_base.c_str(), on_saved,
                              &bar, &n);
        bar.clear();
        if (st == LB_OK && !o.json)
            std::fprintf(stderr,
                         "lowbit: wrote %s: the base's distributions over %llu chunks of %lld tokens\n",
                         o.save_base.c_str(), static_cast<unsigned long long>(n), o.ctx);
        if (st == LB_OK && model)
            st = lb_kld_from_file(model->session, o.save_base.c_str(), on_kld, &bar, &r);
    } else if (!o.base_logits.empty()) {
        st = lb_kld_from_file(model->session, o.base_logits.c_str(), on_kld, &bar, &r);
    } else {
        st = lb_kld(base->session, model->session, text.data(), text.size(), &ko, on_kld, &bar, &r);
    }
    bar.clear();
    if (st == LB_E_CANCELLED && Interrupts::interrupted()) {
        std::fprintf(stderr, "lowbit: interrupted\n");
        return 130;
    }
    if (st != LB_OK) return api_error("kld");
    if (!model) return 0;
    if (o.json)
        print_json(o, r);
    else
        print_text(r);
    return 0;
}

} // namespace cli
