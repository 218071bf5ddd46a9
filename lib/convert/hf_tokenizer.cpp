#include "convert/hf_tokenizer.hpp"

#include "common/error.hpp"
#include "common/json.hpp"
#include "convert/sentencepiece_vocab.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>

namespace lb::convert {

namespace {

using nlohmann::json;

constexpr size_t kMaxTokenizerBytes = 512u << 20;
// llama.cpp's token types
enum TokenType : int32_t { NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6 };

json read_json(const source::Source &src, const std::string &name) {
    const std::unique_ptr<MappedFile> file = src.map(name);
    json j = parse_json_mapped(*file, kMaxTokenizerBytes);
    if (!j.is_object()) fail(LB_E_FORMAT, "%s: not a JSON object", file->path().c_str());
    return j;
}

// The split patterns of the pre-tokenizers lowbit's tokenizer implements,
// as tokenizer.json files spell them, and llama.cpp's names for them.
struct KnownPattern {
    const char *regex;
    const char *pre;
};
const KnownPattern kPatterns[] = {
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
     "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     "llama-bpe"},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
     "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     "qwen2"},
};

// Every pre-tokenizer of a (possibly nested) Sequence, in order.
void flatten(const json &p, std::vector<const json *> &out) {
    if (!p.is_object()) return;
    const auto type = p.find("type");
    if (type != p.end() && type->is_string() && *type == "Sequence") {
        const auto items = p.find("pretokenizers");
        if (items != p.end() && items->is_array())
            for (const json &q : *items) flatten(q, out);
        return;
    }
    out.push_back(&p);
}

std::string type_of(const json &p) {
    const auto t = p.find("type");
    return t != p.end() && t->is_string() ? t->get<std::string>() : "";
}

// tokenizer.ggml.pre for a byte-level tokenizer, from its pre-tokenizers.
std::string pre_tokenizer_name(const json &tok, const std::string &path) {
    const auto pre = tok.find("pre_tokenizer");
    if (pre == tok.end() || pre->is_null())
        fail(LB_E_UNSUPPORTED, "%s: a byte-level BPE without a pre-tokenizer", path.c_str());
    std::vector<const json *> parts;
    flatten(*pre, parts);
    bool digits = false, byte_level_regex = false;
    std::string split;
    for (const json *p : parts) {
        const std::string t = type_of(*p);
        if (t == "Split") {
            const auto pattern = p->find("pattern");
            if (pattern != p->end() && pattern->is_object()) {
                const auto regex = pattern->find("Regex");
                if (regex != pattern->end() && regex->is_string()) split = regex->get<std::string>();
            }
        } else if (t == "Digits") {
            digits = p->value("individual_digits", false);
        } else if (t == "ByteLevel") {
            byte_level_regex = p->value("use_regex", true);
        }
    }
    if (!split.empty()) {
        for (const KnownPattern &k : kPatterns)
            if (split == k.regex) return k.pre;
        fail(LB_E_UNSUPPORTED, "%s: the pre-tokenizer pattern %s is not one lowbit knows (llama-bpe, qwen2)",
             path.c_str(), json(split).dump().c_str());
    }
    if (digits && byte_level_regex) return "smollm";
    if (byte_level_regex) return "gpt-2";
    fail(LB_E_UNSUPPORTED, "%s: a byte-level pre-tokenizer lowbit does not know: %s", path.c_str(),
         pre->dump().c_str());
}

bool has_byte_level(const json &tok) {
    const auto pre = tok.find("pre_tokenizer");
    if (pre == tok.end()) return false;
    std::vector<const json *> parts;
    flatten(*pre, parts);
    for (const json *p : parts)
        if (type_of(*p) == "ByteLevel") return true;
    return false;
}

// A normalizer that makes SentencePiece's text: "▁" prepended, spaces
// replaced by "▁" (or a Metaspace pre-tokenizer doing the same).
bool sentencepiece_style(const json &tok) {
    bool prepend = false, replace = false;
    const auto norm = tok.find("normalizer");
    if (norm != tok.end() && norm->is_object()) {
        std::vector<const json *> parts;
        if (type_of(*norm) == "Sequence" && norm->contains("normalizers") &&
            (*norm)["normalizers"].is_array())
            for (const json &n : (*norm)["normalizers"]) parts.push_back(&n);
        else
            parts.push_back(&*norm);
        for (const json *n : parts) {
            const std::string t = type_of(*n);
            if (t == "Prepend" && n->value("prepend", "") == "\xe2\x96\x81") prepend = true;
            if (t == "Replace" && n->value("content", "") == "\xe2\x96\x81") replace = true;
        }
    }
    const auto pre = tok.find("pre_tokenizer");
    if (pre != tok.end() && pre->is_object() && type_of(*pre) == "Metaspace") prepend = replace = true;
    return prepend && replace;
}

// A special token named in tokenizer_config.json: a string or {"content": ...}.
std::optional<std::string> token_text(const json &cfg, const char *key) {
    const auto it = cfg.find(key);
    if (it == cfg.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
        return (*it)["content"].get<std::string>();
    return std::nullopt;
}

struct Vocabulary {
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    std::map<std::string, int64_t> ids;
};

Vocabulary read_vocabulary(const json &tok, const HfConfig &c, const std::string &path) {
    const json &model = tok["model"];
    const auto vocab = model.find("vocab");
    if (vocab == model.end() || !vocab->is_object())
        fail(LB_E_FORMAT, "%s: model.vocab must be an object of token -> id", path.c_str());
    Vocabulary v;
    std::map<int64_t, std::string> by_id;
    auto add = [&](const std::string &text, const json &id) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= (1 << 24))
            fail(LB_E_FORMAT, "%s: token %s has id %s", path.c_str(), json(text).dump().c_str(),
                 id.dump().c_str());
        by_id[id.get<int64_t>()] = text;
        v.ids[text] = id.get<int64_t>();
    };
    for (auto it = vocab->begin(); it != vocab->end(); ++it) add(it.key(), it.value());
    std::map<int64_t, bool> special; // added tokens: id -> special
    if (const auto added = tok.find("added_tokens"); added != tok.end() && added->is_array())
        for (const json &a : *added) {
            if (!a.is_object() || !a.contains("id") || !a.contains("content") || !a["content"].is_string())
                fail(LB_E_FORMAT, "%s: an added token without id and content", path.c_str());
            add(a["content"].get<std::string>(), a["id"]);
            special[a["id"].get<int64_t>()] = a.value("special", false);
        }
    const int64_t n_found = by_id.empty() ? 0 : by_id.rbegin()->first + 1;
    if (n_found > c.n_vocab)
        fail(LB_E_FORMAT, "%s: token ids reach %lld, but %s's vocab_size is %lld", path.c_str(),
             static_cast<long long>(n_found - 1), c.path.c_str(), static_cast<long long>(c.n_vocab));
    const std::optional<std::string> unk = model.contains("unk_token") && model["unk_token"].is_string()
                                               ? std::optional(model["unk_token"].get<std::string>())
                                               : std::nullopt;
    v.tokens.resize(static_cast<size_t>(c.n_vocab));
    v.types.assign(static_cast<size_t>(c.n_vocab), NORMAL);
    for (int64_t id = 0; id < c.n_vocab; ++id) {
        const size_t i = static_cast<size_t>(id);
        const auto it = by_id.find(id);
        if (it == by_id.end()) {
            v.tokens[i] = "[PAD" + std::to_string(id) + "]";
            v.types[i] = UNUSED;
            continue;
        }
        const std::string &t = it->second;
        v.tokens[i] = t;
        const bool is_byte = t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>';
        if (unk && t == *unk)
            v.types[i] = UNKNOWN;
        else if (const auto s = special.find(id); s != special.end())
            v.types[i] = s->second ? CONTROL : USER_DEFINED;
        else if (is_byte && model.value("byte_fallback", false))
            v.types[i] = BYTE;
    }
    return v;
}

std::vector<std::string> read_merges(const json &model, const std::string &path) {
    std::vector<std::string> out;
    const auto merges = model.find("merges");
    if (merges == model.end() || !merges->is_array())
        fail(LB_E_FORMAT, "%s: model.merges must be a list", path.c_str());
    out.reserve(merges->size());
    for (const json &m : *merges) {
        if (m.is_string()) {
            out.push_back(m.get<std::string>());
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            // newer files: ["a", "b"]
            out.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
        } else {
            fail(LB_E_FORMAT, "%s: merge %zu is neither \"a b\" nor [\"a\", \"b\"]", path.c_str(),
                 out.size());
        }
    }
    return out;
}

// Whether the post-processor's single-sequence template starts (ends) with
// a special token.
std::optional<bool> template_adds(const json &tok, bool at_start) {
    const auto post = tok.find("post_processor");
    if (post == tok.end() || !post->is_object() || type_of(*post) != "TemplateProcessing")
        return std::nullopt;
    const auto single = post->find("single");
    if (single == post->end() || !single->is_array() || single->empty()) return std::nullopt;
    const json &edge = at_start ? single->front() : single->back();
    return edge.is_object() && edge.contains("SpecialToken") && (at_start || single->size() > 1);
}

// add_bos/add_eos (tokenizer_config.json, else the post-processor's
// template) and the chat template.
void config_flags(std::vector<gguf::KeyValue> &kvs, const json &cfg, const json *tok) {
    std::optional<bool> add_bos, add_eos;
    if (cfg.contains("add_bos_token") && cfg["add_bos_token"].is_boolean())
        add_bos = cfg["add_bos_token"].get<bool>();
    if (cfg.contains("add_eos_token") && cfg["add_eos_token"].is_boolean())
        add_eos = cfg["add_eos_token"].get<bool>();
    if (!add_bos && tok != nullptr) add_bos = template_adds(*tok, true);
    if (!add_eos && tok != nullptr) add_eos = template_adds(*tok, false);
    if (add_bos) kvs.push_back({"tokenizer.ggml.add_bos_token", gguf::Value::boolean(*add_bos)});
    if (add_eos) kvs.push_back({"tokenizer.ggml.add_eos_token", gguf::Value::boolean(*add_eos)});
    if (const auto t = cfg.find("chat_template"); t != cfg.end() && t->is_string())
        kvs.push_back({"tokenizer.chat_template", gguf::Value::string(t->get<std::string>())});
}

void special_tokens(std::vector<gguf::KeyValue> &kvs, const Vocabulary &v, const json &cfg, const json &tok,
                    const HfConfig &c) {
    auto id_of = [&](const char *key) -> std::optional<int64_t> {
        const std::optional<std::string> text = token_text(cfg, key);
        if (!text) return std::nullopt;
        const auto it = v.ids.find(*text);
        return it == v.ids.end() ? std::nullopt : std::optional(it->second);
    };
    std::optional<int64_t> bos = id_of("bos_token"), eos = id_of("eos_token"), unk = id_of("unk_token"),
                           pad = id_of("pad_token");
    if (!bos) bos = c.bos_id;
    if (!eos) eos = c.eos_id;
    auto put = [&](const char *key, const std::optional<int64_t> &id) {
        if (id && *id >= 0 && *id < c.n_vocab)
            kvs.push_back({key, gguf::Value::u32(static_cast<uint32_t>(*id))});
    };
    put("tokenizer.ggml.bos_token_id", bos);
    put("tokenizer.ggml.eos_token_id", eos);
    put("tokenizer.ggml.unknown_token_id", unk);
    put("tokenizer.ggml.padding_token_id", pad);
    config_flags(kvs, cfg, &tok);
}

} // namespace

std::vector<gguf::KeyValue> tokenizer_kvs(const source::Source &src, const HfConfig &c) {
    const char *cfg_name = "tokenizer_config.json";
    const json cfg = src.has(cfg_name) ? read_json(src, cfg_name) : json::object();
    // a SentencePiece model comes first, as llama.cpp's converter takes it
    if (src.has("tokenizer.model")) {
        std::vector<gguf::KeyValue> kvs = sentencepiece_kvs(*src.map("tokenizer.model"), c);
        config_flags(kvs, cfg, nullptr);
        return kvs;
    }
    const std::string path = src.where("tokenizer.json");
    if (!src.has("tokenizer.json"))
        fail(LB_E_IO, "%s: no tokenizer.json or tokenizer.model", src.path().c_str());
    const json tok = read_json(src, "tokenizer.json");
    const auto model = tok.find("model");
    if (model == tok.end() || !model->is_object()) fail(LB_E_FORMAT, "%s: no \"model\" object", path.c_str());
    const std::string type = model->value("type", "");
    if (type != "BPE")
        fail(LB_E_UNSUPPORTED, "%s: the tokenizer model is %s; lowbit converts BPE tokenizers", path.c_str(),
             type.empty() ? "not named" : type.c_str());

    Vocabulary v = read_vocabulary(tok, c, path);
    std::vector<gguf::KeyValue> kvs;
    if (has_byte_level(tok)) {
        kvs.push_back({"tokenizer.ggml.model", gguf::Value::string("gpt2")});
        kvs.push_back({"tokenizer.ggml.pre", gguf::Value::string(pre_tokenizer_name(tok, path))});
        kvs.push_back({"tokenizer.ggml.tokens", gguf::Value::string_array(v.tokens)});
        kvs.push_back({"tokenizer.ggml.token_type", gguf::Value::i32_array(v.types)});
        kvs.push_back({"tokenizer.ggml.merges", gguf::Value::string_array(read_merges(*model, path))});
    } else if (sentencepiece_style(tok) && model->value("byte_fallback", false)) {
        std::vector<float> scores(v.tokens.size());
        for (size_t i = 0; i < scores.size(); ++i) scores[i] = 0.0f - static_cast<float>(i); // +0 for id 0
        kvs.push_back({"tokenizer.ggml.model", gguf::Value::string("llama")});
        kvs.push_back({"tokenizer.ggml.tokens", gguf::Value::string_array(v.tokens)});
        kvs.push_back({"tokenizer.ggml.scores", gguf::Value::f32_array(scores)});
        kvs.push_back({"tokenizer.ggml.token_type", gguf::Value::i32_array(v.types)});
    } else {
        fail(LB_E_UNSUPPORTED,
             "%s: a BPE tokenizer that is neither byte-level nor SentencePiece-style with byte fallback",
             path.c_str());
    }
    special_tokens(kvs, v, cfg, tok, c);
    return kvs;
}

} // namespace lb::convert
