// The regular expressions pre-tokenizers are written in (tokenizer.json and
// llama.cpp's tables), matched on code points with ECMAScript semantics:
// alternatives tried left to right, greedy quantifiers that backtrack.
//
// Supported: literals and escapes (\r \n \t \s \S \d \D \p{L} \p{N} \p{P}
// \p{S} \p{M} \P{..} and escaped punctuation), classes [...] / [^...] with
// ranges, groups (?:...), lookaheads (?=...) (?!...), the quantifiers ? * +
// {m} {m,} {m,n} and their lazy forms. Anything else is refused when the
// pattern is compiled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lb::tokenizer {

class Pattern {
  public:
    // Throws lb::Error (LB_E_UNSUPPORTED) naming the construct it does not know.
    explicit Pattern(const std::string &regex);
    ~Pattern();
    Pattern(Pattern &&) noexcept;
    Pattern &operator=(Pattern &&) noexcept;

    // The length of the match that starts at s[pos] within s[0, end), or -1.
    int64_t match_at(const uint32_t *s, size_t pos, size_t end) const;

    struct Node;

  private:
    std::unique_ptr<Node> root_;
};

// Splits every piece of s (consecutive lengths `pieces`, summing to s.size())
// into the matches of `pattern` and the stretches between them, as llama.cpp's
// unicode_regex_split does: the search restarts after each match and sees only
// its own piece.
std::vector<size_t> split_pieces(const std::vector<uint32_t> &s, const std::vector<size_t> &pieces,
                                 const Pattern &pattern);

} // namespace lb::tokenizer
