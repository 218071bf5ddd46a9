// lowbit perplexity MODEL -f TEXT: the perplexity of a text under the model,
// scored as llama.cpp's llama-perplexity scores it.
#include "commands.hpp"
#include "interrupts.hpp"
#include "json.hpp"
#include "progress_bar.hpp"
#include "session_open.hpp"

#include <cstdio>
#include <string>

namespace cli {

namespace {

const char *kUsage = "usage: lowbit perplexity MODEL -f TEXT [options]\n"
                     "\n"
                     "Scores TEXT as llama-perplexity does: tokenized with BOS, consecutive chunks of --ctx\n"
                     "tokens each evaluated alone (first token replaced by BOS), the second half of each\n"
                     "chunk's predictions scored. Prints PPL = X +/- (its standard error).\n"
                     "\n"
                     "  -f FILE        the text (UTF-8)\n"
                     "  --ctx N        tokens per chunk (default 512)\n"
                     "  --chunks N     score at most N chunks (default: all)\n"
                     "  --batch N      tokens per forward step (default 512)\n"
                     "  --threads N    worker threads (default: all)\n"
                     "  --cache-type T the key/value cache's type, F16 (default) or F32\n"
                     "  --json         print the result as JSON\n"
                     "  -h, --help     show this help\n";

struct Ui {
    ProgressBar bar;
};

int on_chunk(const lb_perplexity *p, void *user) {
    char label[160];
    std::snprintf(label, sizeof label, "chunk %llu/%llu  PPL %.4f +/- %.4f",
                  static_cast<unsigned long long>(p->n_chunks_done),
                  static_cast<unsigned long long>(p->n_chunks), p->perplexity, p->uncertainty);
    static_cast<Ui *>(user)->bar.draw(p->n_chunks > 0 ? static_cast<double>(p->n_chunks_done) / p->n_chunks
                                                      : 1.0,
                                      label, p->n_chunks_done == p->n_chunks);
    return 0;
}

} // namespace

int cmd_perplexity(const Args &args) {
    std::string model, file;
    long long ctx = 512, chunks = 0, batch = 512, threads = 0;
    lb_type cache = LB_TYPE_F16;
    bool json = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        auto value = [&](const char *what) -> const std::string * {
            if (i + 1 >= args.size()) {
                error(std::string("perplexity: ") + a + " needs " + what);
                return nullptr;
            }
            return &args[++i];
        };
        const std::string *v = nullptr;
        if (a == "-h" || a == "--help") {
            std::printf("%s", kUsage);
            return 0;
        } else if (a == "-f") {
            if (!(v = value("a file"))) return 1;
            file = *v;
        } else if (a == "--ctx" || a == "-c") {
            if (!(v = value("a number")) || !parse_int(*v, 2, 1 << 20, &ctx))
                return error("perplexity: --ctx must be 2..1048576");
        } else if (a == "--chunks") {
            if (!(v = value("a number")) || !parse_int(*v, 1, 1ll << 31, &chunks))
                return error("perplexity: --chunks must be a positive number");
        } else if (a == "--batch" || a == "-b") {
            if (!(v = value("a number")) || !parse_int(*v, 1, 1 << 16, &batch))
                return error("perplexity: --batch must be 1..65536");
        } else if (a == "--threads" || a == "-t") {
            if (!(v = value("a number")) || !parse_int(*v, 1, 1024, &threads))
                return error("perplexity: --threads must be 1..1024");
        } else if (a == "--cache-type") {
            if (!(v = value("a type"))) return 1;
            if (lb_type_from_name(&cache, v->c_str()) != LB_OK ||
                (cache != LB_TYPE_F16 && cache != LB_TYPE_F32))
                return error("perplexity: --cache-type must be F16 or F32");
        } else if (a == "--json") {
            json = true;
        } else if (a.size() > 1 && a[0] == '-') {
            return error("perplexity: unknown option '" + a + "'");
        } else if (model.empty()) {
            model = a;
        } else {
            return error("perplexity: more than one model given ('" + model + "' and '" + a + "')");
        }
    }
    if (model.empty() || file.empty())
        return error("perplexity: a model and -f TEXT are needed\n" + std::string(kUsage));
    std::string text;
    if (!read_text_file(file, &text)) return 1;
    OpenSession s(model);
    if (!s.ok()) return 1;
    if (lb_session_set_param(s.session, LB_SESSION_THREADS, threads) != LB_OK ||
        lb_session_set_param(s.session, LB_SESSION_BATCH, batch) != LB_OK ||
        lb_session_set_param(s.session, LB_SESSION_CACHE_TYPE, cache) != LB_OK)
        return api_error("perplexity");
    Ui ui;
    lb_perplexity r{};
    r.version = LB_PERPLEXITY_VERSION;
    lb_status st;
    {
        const Interrupts interrupts({s.session});
        st = lb_session_perplexity(s.session, text.data(), text.size(), ctx, chunks, on_chunk, &ui, &r);
    }
    ui.bar.clear();
    if (st == LB_E_CANCELLED && Interrupts::interrupted()) {
        std::fprintf(stderr, "lowbit: interrupted\n");
        return 130;
    }
    if (st != LB_OK) return api_error("perplexity");
    const double tokens_per_second = r.seconds > 0 ? static_cast<double>(r.n_chunks * ctx) / r.seconds : 0.0;
    if (json) {
        std::printf("{\"model\": %s, \"text\": %s, \"ctx\": %lld, \"tokens\": %llu, \"chunks\": %llu, "
                    "\"scored\": %llu, "
                    "\"perplexity\": %s, \"uncertainty\": %s, \"mean_nll\": %s, \"seconds\": %s, "
                    "\"tokens_per_second\": %s}\n",
                    json_string(model).c_str(), json_string(file).c_str(), ctx,
                    static_cast<unsigned long long>(r.n_tokens), static_cast<unsigned long long>(r.n_chunks),
                    static_cast<unsigned long long>(r.n_scored), json_number(r.perplexity, 8).c_str(),
                    json_number(r.uncertainty, 8).c_str(), json_number(r.mean_nll, 8).c_str(),
                    json_number(r.seconds, 4).c_str(), json_number(tokens_per_second, 2).c_str());
    } else {
        std::printf("%s: %llu tokens, %llu chunks of %lld, %llu predictions scored\n", file.c_str(),
                    static_cast<unsigned long long>(r.n_tokens), static_cast<unsigned long long>(r.n_chunks),
                    ctx, static_cast<unsigned long long>(r.n_scored));
        std::printf("PPL = %.4f +/- %.5f\n", r.perplexity, r.uncertainty);
        std::printf("%.2f s, %.1f tokens/s\n", r.seconds, tokens_per_second);
    }
    return 0;
}

} // namespace cli
