// lowbit tokenize MODEL TEXT: the model's tokens of a text, as llama.cpp's
// llama_tokenize gives them, with their pieces.
#include "commands.hpp"
#include "json.hpp"
#include "session_open.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace cli {

namespace {

const char *kUsage = "usage: lowbit tokenize [options] MODEL TEXT\n"
                     "\n"
                     "Prints the tokens of TEXT in the vocabulary of MODEL, one per line: the id and its\n"
                     "piece (the text it stands for), as llama.cpp's llama_tokenize gives them.\n"
                     "\n"
                     "  -f FILE           read the text from FILE instead\n"
                     "  --no-bos          do not add BOS / EOS as the vocabulary asks\n"
                     "  --parse-special   text such as <s> becomes the control token it names\n"
                     "  --ids             print only the ids, as one list: [1, 403, ...]\n"
                     "  --json            print [{\"id\": 1, \"piece\": \"<s>\"}, ...]\n"
                     "  -h, --help        show this help\n";

} // namespace

int cmd_tokenize(const Args &args) {
    std::string model, text, file;
    bool have_text = false, add_special = true, parse_special = false, ids = false, json = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (a == "-h" || a == "--help") {
            std::printf("%s", kUsage);
            return 0;
        }
        if (a == "-f") {
            if (i + 1 >= args.size()) return error("tokenize: -f needs a file");
            file = args[++i];
        } else if (a == "--no-bos")
            add_special = false;
        else if (a == "--parse-special")
            parse_special = true;
        else if (a == "--ids")
            ids = true;
        else if (a == "--json")
            json = true;
        else if (a.size() > 1 && a[0] == '-')
            return error("tokenize: unknown option '" + a + "'");
        else if (model.empty())
            model = a;
        else if (!have_text)
            text = a, have_text = true;
        else
            return error("tokenize: more than one text given (quote it, or use -f FILE)");
    }
    if (model.empty() || (!have_text && file.empty()))
        return error("tokenize: a model and a text are needed\n" + std::string(kUsage));
    if (have_text && !file.empty()) return error("tokenize: give the text or -f FILE, not both");
    if (!file.empty() && !read_text_file(file, &text)) return 1;
    OpenSession s(model);
    if (!s.ok()) return 1;
    const uint32_t flags =
        (add_special ? LB_TOKENIZE_ADD_SPECIAL : 0) | (parse_special ? LB_TOKENIZE_PARSE_SPECIAL : 0);
    size_t n = 0;
    lb_session_tokenize(s.session, text.data(), text.size(), flags, nullptr, 0, &n);
    std::vector<int32_t> tokens(n);
    if (lb_session_tokenize(s.session, text.data(), text.size(), flags, tokens.data(), tokens.size(), &n) !=
        LB_OK)
        return api_error("tokenize");
    auto piece = [&](int32_t t) {
        size_t len = 0;
        lb_session_detokenize(s.session, &t, 1, 1, nullptr, 0, &len);
        std::string p(len, '\0');
        if (len > 0) lb_session_detokenize(s.session, &t, 1, 1, p.data(), p.size(), &len);
        return p;
    };
    if (ids) {
        std::printf("[");
        for (size_t i = 0; i < tokens.size(); ++i) std::printf(i ? ", %d" : "%d", tokens[i]);
        std::printf("]\n");
    } else if (json) {
        std::printf("[");
        for (size_t i = 0; i < tokens.size(); ++i)
            std::printf("%s{\"id\": %d, \"piece\": %s}", i ? ", " : "", tokens[i],
                        json_string(piece(tokens[i])).c_str());
        std::printf("]\n");
    } else {
        for (int32_t t : tokens) std::printf("%6d %s\n", t, json_string(piece(t)).c_str());
    }
    return 0;
}

} // namespace cli
