// Tokenizers against llama.cpp's own (llama_tokenize of the peer's libllama):
// the same ids for the whole of tinystories_val.txt with stories260K's
// SentencePiece vocabulary, and for llama.cpp's tokenizer test texts and a
// text of Unicode, digits, code and special tokens with the vocabularies its
// repository ships (models/ggml-vocab-*.gguf at the peer's release): SPM,
// llama-bpe, qwen2, gpt-2. Pieces too.
#include "gguf/gguf_file.hpp"
#include "gguf/writer.hpp"
#include "llama_peer.hpp"
#include "model/model.hpp"
#include "test_data.hpp"
#include "tokenizer/pattern.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string read_text(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::string peer_vocab(const std::string &name) {
    return std::string(LOWBIT_PEER_SRC) + "/models/ggml-vocab-" + name + ".gguf";
}

lb::tokenizer::Tokenizer tokenizer_of(const std::string &path) {
    const lb::Model m(path);
    return lb::tokenizer::Tokenizer(lb::tokenizer::read_vocab(m.kvs(), path));
}

// The first index where two token lists differ, with context, for messages.
std::string first_difference(const std::vector<int32_t> &a, const std::vector<int32_t> &b) {
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    std::ostringstream s;
    s << "lengths " << a.size() << " and " << b.size() << ", first difference at " << i << ":";
    for (size_t j = i; j < std::min(a.size(), i + 8); ++j) s << " " << a[j];
    s << " vs";
    for (size_t j = i; j < std::min(b.size(), i + 8); ++j) s << " " << b[j];
    return s.str();
}

// llama.cpp's tokenizer test inputs: texts separated by a marker line.
std::vector<std::string> test_texts(const std::string &vocab_name) {
    std::vector<std::string> texts;
    const std::string all = read_text(peer_vocab(vocab_name) + ".inp");
    const std::string marker = "\n__ggml_vocab_test__\n";
    for (size_t at = 0; at < all.size();) {
        size_t end = all.find(marker, at);
        if (end == std::string::npos) end = all.size();
        texts.push_back(all.substr(at, end - at));
        at = end + marker.size();
    }
    return texts;
}

const std::string kMixed =
    "Hello world! Ünïcödé: naïve café, Ελληνικά, русский, 日本語, 한국어, "
    "emoji 🙂🚀 and\tTabs\n\nNew  lines.\n"
    "Digits 1234567890 3.14159 -42 1e10, 12,345.67; code: int main() { return a[i] + b->c; } // done\n"
    "   leading and trailing spaces   \r\n'quotes' \"double\" it's we're they've I'd you'll I'M\n";

TEST(Tokenizer, Stories260KMatchesLlamaCppOnTheWholeValidationText) {
    const std::string path = testdata::stories_path();
    const lb::tokenizer::Tokenizer tok = tokenizer_of(path);
    const peer::LlamaModel llama(path, true);
    const std::string text = read_text(testdata::source_path("tests/data/tinystories_val.txt"));
    const std::vector<int32_t> ours = tok.tokenize(text, true, false),
                               theirs = llama.tokenize(text, true, false);
    ASSERT_EQ(ours.size(), theirs.size()) << first_difference(ours, theirs);
    EXPECT_TRUE(ours == theirs) << first_difference(ours, theirs);
    // pieces: every token of the vocabulary
    for (int32_t t = 0; t < llama.n_vocab(); ++t) {
        EXPECT_EQ(tok.piece(t, false), llama.piece(t, false)) << "token " << t;
        EXPECT_EQ(tok.piece(t, true), llama.piece(t, true)) << "token " << t << " (special)";
    }
}

// A peer vocabulary under another pre-tokenizer name: "gpt-2+smollm" is the
// gpt-2 vocabulary with tokenizer.ggml.pre = "smollm" (llama.cpp's repository
// has no smollm or default vocabulary of its own), written to `dir`.
std::string vocab_path(const std::string &param, const testdata::TempDir &dir) {
    const size_t plus = param.find('+');
    if (plus == std::string::npos) return peer_vocab(param);
    const std::string source = peer_vocab(param.substr(0, plus)), pre = param.substr(plus + 1);
    const lb::gguf::GgufFile in(source);
    std::vector<lb::gguf::KeyValue> kvs = in.header().kvs;
    for (lb::gguf::KeyValue &kv : kvs)
        if (kv.key == "tokenizer.ggml.pre") kv.value = lb::gguf::Value::string(pre);
    const std::string out = dir.file(param + ".gguf");
    lb::gguf::Writer w(out, kvs, in.header().tensors);
    for (size_t i = 0; i < in.header().tensors.size(); ++i) {
        w.write(in.tensor_data(i), in.header().tensors[i].size);
        w.end_tensor();
    }
    w.commit();
    return out;
}

class PeerVocab : public ::testing::TestWithParam<std::string> {};

TEST_P(PeerVocab, TokensAndPiecesMatchLlamaCpp) {
    const testdata::TempDir dir;
    const std::string path = vocab_path(GetParam(), dir);
    const lb::tokenizer::Tokenizer tok = tokenizer_of(path);
    const peer::LlamaModel llama(path, true);
    std::vector<std::string> texts = test_texts(GetParam().substr(0, GetParam().find('+')));
    texts.push_back(kMixed);
    // special tokens in the text, parsed and not parsed
    const lb::tokenizer::Vocab &v = tok.vocab();
    std::string with_specials = "start ";
    for (size_t i = 0; i < std::min<size_t>(v.specials.size(), 6); ++i)
        with_specials += v.text[static_cast<size_t>(v.specials[i])] + " x" + std::to_string(i) + " ";
    texts.push_back(with_specials);
    size_t checked = 0;
    for (const std::string &text : texts)
        for (bool add_special : {false, true})
            for (bool parse_special : {false, true}) {
                const std::vector<int32_t> ours = tok.tokenize(text, add_special, parse_special);
                const std::vector<int32_t> theirs = llama.tokenize(text, add_special, parse_special);
                EXPECT_TRUE(ours == theirs)
                    << GetParam() << ", text " << checked / 4 << " [" << text.substr(0, 60)
                    << "] add_special " << add_special << " parse_special " << parse_special << ": "
                    << first_difference(ours, theirs);
                ++checked;
            }
    for (int32_t t = 0; t < llama.n_vocab(); t += 7) {
        EXPECT_EQ(tok.piece(t, false), llama.piece(t, false)) << "token " << t;
        EXPECT_EQ(tok.piece(t, true), llama.piece(t, true)) << "token " << t << " (special)";
    }
}

INSTANTIATE_TEST_SUITE_P(LlamaCppVocabularies, PeerVocab,
                         ::testing::Values("llama-spm", "llama-bpe", "qwen2", "gpt-2", "gpt-2+smollm",
                                           "gpt-2+default"),
                         [](const ::testing::TestParamInfo<std::string> &info) {
                             std::string n = info.param;
                             for (char &c : n)
                                 if (c == '-' || c == '+') c = '_';
                             return n;
                         });

// The pattern engine on the constructs pre-tokenizers use.
TEST(TokenizerPattern, EcmaScriptSemantics) {
    auto split = [](const std::string &regex, const std::string &text) {
        const lb::tokenizer::Pattern p(regex);
        const std::vector<uint32_t> cps = lb::tokenizer::utf8_decode(text);
        std::vector<std::string> out;
        size_t at = 0;
        for (size_t n : lb::tokenizer::split_pieces(cps, {cps.size()}, p)) {
            std::string s;
            for (size_t i = at; i < at + n; ++i) lb::tokenizer::utf8_append(s, cps[i]);
            out.push_back(s);
            at += n;
        }
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(split("\\s+(?!\\S)|\\s+", "a   b"), (V{"a", "  ", " ", "b"}));
    EXPECT_EQ(split(" ?\\p{L}+", "hi there"), (V{"hi", " there"}));
    EXPECT_EQ(split("\\p{N}{1,3}", "1234567"), (V{"123", "456", "7"}));
    EXPECT_EQ(split("'s|'t", "it's"), (V{"it", "'s"}));
    EXPECT_EQ(split("[^\\s\\p{L}]+", "ab!?cd"), (V{"ab", "!?", "cd"}));
    EXPECT_EQ(split("(?:ab|a)c", "abcac"), (V{"abc", "ac"}));
    EXPECT_EQ(split("a+?b", "aaab"), (V{"aaab"}));
    EXPECT_EQ(split("\\p{L}+", "naïve Ελλ"), (V{"naïve", " ", "Ελλ"}));
    EXPECT_THROW(lb::tokenizer::Pattern("(?<=x)y"), std::exception);
    EXPECT_THROW(lb::tokenizer::Pattern("[a-"), std::exception);
    EXPECT_THROW(lb::tokenizer::Pattern("\\q"), std::exception);
}

} // namespace
