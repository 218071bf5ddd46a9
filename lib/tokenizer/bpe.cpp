#include "tokenizer/bpe.hpp"

#include "common/error.hpp"
#include "tokenizer/pattern.hpp"
#include "tokenizer/unicode.hpp"

#include <array>
#include <map>
#include <mutex>
#include <queue>

namespace lb::tokenizer {

namespace {

// llama.cpp's pre-tokenizer patterns, applied one after the other, each
// splitting the pieces the previous one left.
const char *const kGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const char *const kLlama3 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char *const kQwen2 =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
    "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

std::vector<std::string> patterns_of(const std::string &pre) {
    if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe") return {kLlama3};
    if (pre == "qwen2") return {kQwen2};
    if (pre == "smollm") return {"\\p{N}", kGpt2};
    if (pre == "gpt-2") return {kGpt2};
    if (pre == "default") return {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"};
    fail(LB_E_UNSUPPORTED, "pre-tokenizer '%s' is not supported", pre.c_str());
}

// The compiled patterns of a pre-tokenizer, built once per name.
const std::vector<Pattern> &compiled(const std::string &pre) {
    static std::mutex mutex;
    static std::map<std::string, std::vector<Pattern>> cache;
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(pre);
    if (it == cache.end()) {
        std::vector<Pattern> ps;
        for (const std::string &p : patterns_of(pre)) ps.emplace_back(p);
        it = cache.emplace(pre, std::move(ps)).first;
    }
    return it->second;
}

// GPT-2's bytes-to-unicode table: printable bytes stand for themselves, the
// others for U+0100 onwards in byte order.
struct ByteMap {
    std::array<uint32_t, 256> to_cp{};
    std::map<uint32_t, uint8_t> to_byte;
    ByteMap() {
        uint32_t next = 256;
        for (uint32_t b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae);
            to_cp[b] = printable ? b : next++;
            to_byte[to_cp[b]] = static_cast<uint8_t>(b);
        }
    }
};

const ByteMap &byte_map() {
    static const ByteMap m;
    return m;
}

size_t utf8_length(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) return 2;
    if ((c & 0xf0) == 0xe0) return 3;
    if ((c & 0xf8) == 0xf0) return 4;
    return 1;
}

struct Symbol {
    size_t start, size;
    int prev, next;
};

struct Candidate {
    int32_t rank;
    int left, right;
    std::string text;
};

struct Later {
    bool operator()(const Candidate &a, const Candidate &b) const {
        return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
    }
};

bool ignores_merges(const std::string &pre) {
    return pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe";
}

// One pre-tokenized word, already in GPT-2 code points.
void encode_word(const Vocab &vocab, const std::string &word, std::vector<int32_t> &out) {
    if (ignores_merges(vocab.pre)) {
        const int32_t id = vocab.find(word);
        if (id != kNoToken) {
            out.push_back(id);
            return;
        }
    }
    std::vector<Symbol> symbols;
    for (size_t at = 0; at < word.size();) {
        const size_t n = std::min(utf8_length(static_cast<unsigned char>(word[at])), word.size() - at);
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({at, n, index - 1, at + n == word.size() ? -1 : index + 1});
        at += n;
    }
    std::priority_queue<Candidate, std::vector<Candidate>, Later> queue;
    auto propose = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const Symbol &l = symbols[static_cast<size_t>(left)], &r = symbols[static_cast<size_t>(right)];
        std::string pair = word.substr(l.start, l.size);
        pair += ' ';
        pair.append(word, r.start, r.size);
        const auto it = vocab.merge_rank.find(pair);
        if (it == vocab.merge_rank.end()) return;
        queue.push({it->second, left, right, word.substr(l.start, l.size + r.size)});
    };
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i) propose(i - 1, i);
    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol &l = symbols[static_cast<size_t>(c.left)], &r = symbols[static_cast<size_t>(c.right)];
        if (l.size == 0 || r.size == 0 || l.size + r.size != c.text.size() ||
            word.compare(l.start, c.text.size(), c.text) != 0)
            continue; // stale
        l.size += r.size;
        r.size = 0;
        l.next = r.next;
        if (r.next >= 0) symbols[static_cast<size_t>(r.next)].prev = c.left;
        propose(l.prev, c.left);
        propose(c.left, l.next);
    }
    for (const Symbol &s : symbols) {
        if (s.size == 0) continue;
        const std::string text = word.substr(s.start, s.size);
        const int32_t id = vocab.find(text);
        if (id != kNoToken) {
            out.push_back(id);
            continue;
        }
        // byte by byte, as llama.cpp (its bytes are single GPT-2 code points only
        // when they are ASCII; the others are skipped there too)
        for (const char b : text) {
            const int32_t t = vocab.find(std::string(1, b));
            if (t != kNoToken) out.push_back(t);
        }
    }
}

} // namespace

std::vector<std::string> pre_tokenize(const std::string &pre, const std::string &text) {
    const std::vector<uint32_t> cps = utf8_decode(text);
    std::vector<size_t> pieces{cps.size()};
    for (const Pattern &p : compiled(pre)) pieces = split_pieces(cps, pieces, p);
    std::vector<std::string> words;
    size_t at = 0;
    for (const size_t n : pieces) {
        std::string w;
        for (size_t i = at; i < at + n; ++i) utf8_append(w, cps[i]);
        words.push_back(std::move(w));
        at += n;
    }
    return words;
}

void bpe_tokenize(const Vocab &vocab, const std::string &text, std::vector<int32_t> &out) {
    const ByteMap &m = byte_map();
    for (const std::string &word : pre_tokenize(vocab.pre, text)) {
        std::string encoded;
        for (const char c : word) utf8_append(encoded, m.to_cp[static_cast<uint8_t>(c)]);
        encode_word(vocab, encoded, out);
    }
}

std::string bpe_decode(const std::string &token_text) {
    const ByteMap &m = byte_map();
    std::string out;
    for (const uint32_t cp : utf8_decode(token_text)) {
        const auto it = m.to_byte.find(cp);
        if (it != m.to_byte.end())
            out += static_cast<char>(it->second);
        else
            utf8_append(out, cp); // not a byte's code point: kept as it is
    }
    return out;
}

} // namespace lb::tokenizer
