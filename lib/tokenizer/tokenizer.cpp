#include "tokenizer/tokenizer.hpp"

#include "common/error.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/spm.hpp"

#include <cstdio>

namespace lb::tokenizer {

namespace {

// SentencePiece writes spaces as U+2581 (LOWER ONE EIGHTH BLOCK).
constexpr const char *kSpaceMark = "\xe2\x96\x81";

std::string escape_spaces(const std::string &s) {
    std::string out;
    out.reserve(s.size() + s.size() / 4);
    for (char c : s) {
        if (c == ' ')
            out += kSpaceMark;
        else
            out += c;
    }
    return out;
}

std::string unescape_spaces(const std::string &s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        if (s.compare(i, 3, kSpaceMark) == 0) {
            out += ' ';
            i += 3;
        } else {
            out += s[i++];
        }
    }
    return out;
}

// A stretch of the input: raw text, or a special token cut out of it.
struct Fragment {
    int32_t token; // kNoToken for text
    std::string_view text;
};

bool is_special(TokenType t) {
    return t == TokenType::Control || t == TokenType::Unknown;
}

} // namespace

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}

void Tokenizer::encode_text(const std::string &text, bool after_special, std::vector<int32_t> &out) const {
    if (vocab_.model == Model::Spm) {
        // a space before text that follows the start or a special token
        const std::string spaced = vocab_.add_space_prefix && after_special ? " " + text : text;
        spm_tokenize(vocab_, escape_spaces(spaced), out);
    } else {
        bpe_tokenize(vocab_, text, out);
    }
}

std::vector<int32_t> Tokenizer::tokenize(std::string_view text, bool add_special, bool parse_special) const {
    std::vector<Fragment> fragments;
    if (!text.empty()) fragments.push_back({kNoToken, text});
    for (const int32_t id : vocab_.specials) {
        const TokenType type = vocab_.type[static_cast<size_t>(id)];
        if (!parse_special && is_special(type)) continue;
        const std::string &special = vocab_.text[static_cast<size_t>(id)];
        std::vector<Fragment> next;
        for (const Fragment &f : fragments) {
            if (f.token != kNoToken) {
                next.push_back(f);
                continue;
            }
            std::string_view rest = f.text;
            for (size_t at; (at = rest.find(special)) != std::string_view::npos;) {
                if (at > 0) next.push_back({kNoToken, rest.substr(0, at)});
                next.push_back({id, {}});
                rest = rest.substr(at + special.size());
            }
            if (!rest.empty()) next.push_back({kNoToken, rest});
        }
        fragments.swap(next);
    }

    std::vector<int32_t> out;
    if (add_special && vocab_.add_bos) out.push_back(vocab_.bos);
    bool after_special = true; // the start counts as one
    for (const Fragment &f : fragments) {
        if (f.token != kNoToken) {
            out.push_back(f.token);
            after_special = true;
        } else {
            encode_text(std::string(f.text), after_special, out);
            after_special = false;
        }
    }
    if (add_special && vocab_.add_eos) out.push_back(vocab_.eos);
    return out;
}

std::string Tokenizer::piece(int32_t token, bool special) const {
    if (token < 0 || static_cast<size_t>(token) >= vocab_.size())
        fail(LB_E_INVALID_ARG, "token %d is out of the vocabulary (%zu tokens)", token, vocab_.size());
    const size_t i = static_cast<size_t>(token);
    const TokenType type = vocab_.type[i];
    const std::string &text = vocab_.text[i];
    if (is_special(type)) return special ? text : "";
    if (type == TokenType::UserDefined) return text;
    if (type == TokenType::Byte) {
        if (vocab_.model == Model::Spm) {
            // "<0xNN>"
            unsigned v = 0;
            if (text.size() == 6 && std::sscanf(text.c_str(), "<0x%2X>", &v) == 1)
                return std::string(1, static_cast<char>(v));
            return text;
        }
        return bpe_decode(text);
    }
    if (type == TokenType::Normal)
        return vocab_.model == Model::Spm ? unescape_spaces(text) : bpe_decode(text);
    return ""; // unused and undefined tokens, as llama.cpp
}

std::string Tokenizer::detokenize(const std::vector<int32_t> &tokens, bool special) const {
    std::string out;
    for (int32_t t : tokens) out += piece(t, special);
    return out;
}

} // namespace lb::tokenizer
