// lowbit generate MODEL -p PROMPT: continues a prompt, so that a user can try
// a file right after quantizing it.
#include "commands.hpp"
#include "interrupts.hpp"
#include "json.hpp"
#include "session_open.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace cli {

namespace {

const char *kUsage = "usage: lowbit generate MODEL -p PROMPT [options]\n"
                     "\n"
                     "Prints PROMPT and its continuation, token by token. The most likely token each time\n"
                     "unless --temp is above 0.\n"
                     "\n"
                     "  -p TEXT       the prompt\n"
                     "  -n N          tokens to generate at most (default 64)\n"
                     "  --temp T      sampling temperature (default 0: greedy)\n"
                     "  --top-k K     sample among the K most likely (default 40)\n"
                     "  --top-p P     ... whose probabilities reach P (default 0.95)\n"
                     "  --seed S      the sampler's seed (default 0)\n"
                     "  --ctx N       tokens the cache holds (default: the model's, up to 4096)\n"
                     "  --threads N   worker threads (default: all)\n"
                     "  --no-stop     go on past the end-of-sequence token\n"
                     "  --json        print one JSON object at the end instead: the prompt, the\n"
                     "                generated token ids and their text\n"
                     "  -h, --help    show this help\n";

int on_token(int32_t, const char *piece, size_t len, void *) {
    std::fwrite(piece, 1, len, stdout);
    std::fflush(stdout);
    return 0;
}

struct Collected {
    std::vector<int32_t> tokens;
    std::string text;
};

int collect_token(int32_t token, const char *piece, size_t len, void *user) {
    auto *c = static_cast<Collected *>(user);
    c->tokens.push_back(token);
    c->text.append(piece, len);
    return 0;
}

void print_json(const std::string &model, const std::string &prompt, const Collected &c) {
    std::string ids;
    for (size_t i = 0; i < c.tokens.size(); ++i) ids += (i ? ", " : "") + std::to_string(c.tokens[i]);
    std::printf("{\"model\": %s, \"prompt\": %s, \"tokens\": [%s], \"text\": %s}\n",
                json_string(model).c_str(), json_string(prompt).c_str(), ids.c_str(),
                json_string(c.text).c_str());
}

} // namespace

int cmd_generate(const Args &args) {
    std::string model, prompt;
    bool have_prompt = false;
    long long n = 64, top_k = 40, seed = 0, threads = 0, ctx = 0;
    double temp = 0.0, top_p = 0.95;
    bool stop = true, json = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        const bool has_value = i + 1 < args.size();
        auto bad = [&](const char *what) { return error(std::string("generate: ") + a + " " + what); };
        if (a == "-h" || a == "--help") {
            std::printf("%s", kUsage);
            return 0;
        } else if (a == "-p" || a == "--prompt") {
            if (!has_value) return bad("needs a text");
            prompt = args[++i];
            have_prompt = true;
        } else if (a == "-n") {
            if (!has_value || !parse_int(args[++i], 0, 1 << 20, &n)) return bad("must be 0..1048576");
        } else if (a == "--temp") {
            if (!has_value || !parse_float(args[++i], &temp) || temp < 0) return bad("must be a number >= 0");
        } else if (a == "--top-k") {
            if (!has_value || !parse_int(args[++i], 0, 1 << 30, &top_k)) return bad("must be a number >= 0");
        } else if (a == "--top-p") {
            if (!has_value || !parse_float(args[++i], &top_p) || !(top_p > 0 && top_p <= 1))
                return bad("must be in (0, 1]");
        } else if (a == "--seed") {
            if (!has_value || !parse_int(args[++i], 0, (1ll << 62), &seed))
                return bad("must be a number >= 0");
        } else if (a == "--ctx") {
            if (!has_value || !parse_int(args[++i], 1, 1 << 20, &ctx)) return bad("must be 1..1048576");
        } else if (a == "--threads" || a == "-t") {
            if (!has_value || !parse_int(args[++i], 1, 1024, &threads)) return bad("must be 1..1024");
        } else if (a == "--no-stop") {
            stop = false;
        } else if (a == "--json") {
            json = true;
        } else if (a.size() > 1 && a[0] == '-') {
            return error("generate: unknown option '" + a + "'");
        } else if (model.empty()) {
            model = a;
        } else {
            return error("generate: more than one model given ('" + model + "' and '" + a + "')");
        }
    }
    if (model.empty() || !have_prompt)
        return error("generate: a model and -p PROMPT are needed\n" + std::string(kUsage));
    OpenSession s(model);
    if (!s.ok()) return 1;
    if (lb_session_set_param(s.session, LB_SESSION_THREADS, threads) != LB_OK ||
        lb_session_set_param(s.session, LB_SESSION_CONTEXT, ctx) != LB_OK)
        return api_error("generate");
    lb_generate_options o;
    lb_generate_options_init(&o, LB_GENERATE_OPTIONS_VERSION);
    o.max_tokens = static_cast<int32_t>(n);
    o.temperature = static_cast<float>(temp);
    o.top_k = static_cast<int32_t>(top_k);
    o.top_p = static_cast<float>(top_p);
    o.seed = static_cast<uint64_t>(seed);
    o.stop_at_end = stop ? 1 : 0;
    if (!json) {
        std::fwrite(prompt.data(), 1, prompt.size(), stdout);
        std::fflush(stdout);
    }
    Collected collected;
    lb_status st;
    {
        const Interrupts interrupts({s.session});
        st = json
                 ? lb_session_generate(s.session, prompt.data(), prompt.size(), &o, collect_token, &collected)
                 : lb_session_generate(s.session, prompt.data(), prompt.size(), &o, on_token, nullptr);
    }
    if (!json) std::printf("\n");
    if (st == LB_E_CANCELLED && Interrupts::interrupted()) return 130;
    if (st != LB_OK) return api_error("generate");
    if (json) print_json(model, prompt, collected);
    return 0;
}

} // namespace cli
