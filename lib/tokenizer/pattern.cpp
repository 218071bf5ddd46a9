#include "tokenizer/pattern.hpp"

#include "common/error.hpp"
#include "tokenizer/unicode.hpp"

#include <limits>
#include <utility>

namespace lb::tokenizer {

namespace {

// One element of a character class.
struct ClassItem {
    enum Kind { Range, Flags, NotFlags } kind;
    uint32_t lo = 0, hi = 0; // Range
    uint8_t flags = 0;       // Flags, NotFlags
    bool matches(uint32_t c) const {
        switch (kind) {
        case Range: return lo <= c && c <= hi;
        case Flags: return (unicode_flags(c) & flags) != 0;
        case NotFlags: return (unicode_flags(c) & flags) == 0;
        }
        return false;
    }
};

struct CharClass {
    bool negate = false;
    std::vector<ClassItem> items;
    bool matches(uint32_t c) const {
        bool any = false;
        for (const ClassItem &i : items) any = any || i.matches(c);
        return any != negate;
    }
};

constexpr int kUnbounded = std::numeric_limits<int>::max();

// A cheap, non-owning reference to a callable bool(size_t).
class Continuation {
  public:
    template <typename F>
    Continuation(const F &f)
        : object_(&f), call_([](const void *o, size_t p) { return (*static_cast<const F *>(o))(p); }) {}
    bool operator()(size_t p) const { return call_(object_, p); }

  private:
    const void *object_;
    bool (*call_)(const void *, size_t);
};

} // namespace

struct Pattern::Node {
    enum Kind { Class, Group, Lookahead } kind = Class;
    CharClass set;                               // Class
    std::vector<std::vector<Node>> alternatives; // Group, Lookahead
    bool negative = false;                       // Lookahead
    int min = 1, max = 1;
    bool lazy = false;
};

namespace {

using Node = Pattern::Node;
using Sequence = std::vector<Node>;

[[noreturn]] void refuse(const std::string &regex, size_t at, const char *what) {
    fail(LB_E_UNSUPPORTED, "pre-tokenizer pattern '%s': %s at offset %zu", regex.c_str(), what, at);
}

class Parser {
  public:
    Parser(const std::string &regex) : regex_(regex), s_(utf8_decode(regex)) {}

    std::vector<Sequence> alternatives() {
        std::vector<Sequence> alts(1);
        while (i_ < s_.size() && s_[i_] != ')') {
            if (s_[i_] == '|') {
                ++i_;
                alts.emplace_back();
                continue;
            }
            alts.back().push_back(item());
        }
        return alts;
    }

    bool done() const { return i_ == s_.size(); }
    size_t at() const { return i_; }

  private:
    Node item() {
        Node n = atom();
        quantifier(n);
        return n;
    }

    Node atom() {
        const uint32_t c = s_[i_++];
        Node n;
        if (c == '(') {
            if (i_ + 1 < s_.size() && s_[i_] == '?' &&
                (s_[i_ + 1] == ':' || s_[i_ + 1] == '=' || s_[i_ + 1] == '!')) {
                const uint32_t k = s_[i_ + 1];
                i_ += 2;
                n.kind = k == ':' ? Node::Group : Node::Lookahead;
                n.negative = k == '!';
            } else if (i_ < s_.size() && s_[i_] == '?') {
                refuse(regex_, i_, "this kind of group is not supported");
            } else {
                n.kind = Node::Group; // a capturing group matches as a plain one
            }
            n.alternatives = alternatives();
            if (i_ >= s_.size() || s_[i_] != ')') refuse(regex_, i_, "unclosed group");
            ++i_;
            return n;
        }
        if (c == '[') {
            n.set = char_class();
            return n;
        }
        if (c == '\\') {
            n.set.items = escape(false);
            return n;
        }
        if (c == '.') {
            n.set.negate = true;
            n.set.items = {{ClassItem::Range, '\n', '\n'}, {ClassItem::Range, '\r', '\r'}};
            return n;
        }
        if (c == '*' || c == '+' || c == '?' || c == '{' || c == ')' || c == '^' || c == '$')
            refuse(regex_, i_ - 1, "unexpected special character");
        n.set.items = {{ClassItem::Range, c, c}};
        return n;
    }

    // after a backslash; inside a class when in_class
    std::vector<ClassItem> escape(bool in_class) {
        if (i_ >= s_.size()) refuse(regex_, i_, "pattern ends in a backslash");
        const uint32_t c = s_[i_++];
        auto one = [](uint32_t x) { return std::vector<ClassItem>{{ClassItem::Range, x, x}}; };
        switch (c) {
        case 'r': return one('\r');
        case 'n': return one('\n');
        case 't': return one('\t');
        case 'f': return one('\f');
        case 'v': return one('\v');
        case 's': return {{ClassItem::Flags, 0, 0, kWhitespace}};
        case 'S': return {{ClassItem::NotFlags, 0, 0, kWhitespace}};
        case 'd': return {{ClassItem::Range, '0', '9'}};
        case 'D': return {{ClassItem::Range, 0, '0' - 1}, {ClassItem::Range, '9' + 1, 0x10ffff}};
        case 'p':
        case 'P': {
            uint8_t flags = 0;
            if (i_ + 2 < s_.size() && s_[i_] == '{' && s_[i_ + 2] == '}') {
                switch (s_[i_ + 1]) {
                case 'L': flags = kLetter; break;
                case 'N': flags = kNumber; break;
                case 'P': flags = kPunctuation; break;
                case 'S': flags = kSymbol; break;
                case 'M': flags = kMark; break;
                case 'Z': flags = kSeparator; break;
                case 'C': flags = kOther; break;
                default: break;
                }
            }
            if (flags == 0)
                refuse(regex_, i_, "unknown Unicode class (lowbit knows \\p{L}, N, P, S, M, Z, C)");
            i_ += 3;
            return {{c == 'p' ? ClassItem::Flags : ClassItem::NotFlags, 0, 0, flags}};
        }
        default:
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                refuse(regex_, i_ - 1, in_class ? "unknown escape in a class" : "unknown escape");
            return one(c); // an escaped punctuation character stands for itself
        }
    }

    CharClass char_class() {
        CharClass cc;
        if (i_ < s_.size() && s_[i_] == '^') {
            cc.negate = true;
            ++i_;
        }
        bool first = true;
        while (i_ < s_.size() && (s_[i_] != ']' || first)) {
            first = false;
            std::vector<ClassItem> items;
            if (s_[i_] == '\\') {
                ++i_;
                items = escape(true);
            } else {
                items = {{ClassItem::Range, s_[i_], s_[i_]}};
                ++i_;
            }
            // a range a-b between two single characters
            if (items.size() == 1 && items[0].kind == ClassItem::Range && items[0].lo == items[0].hi &&
                i_ + 1 < s_.size() && s_[i_] == '-' && s_[i_ + 1] != ']') {
                ++i_;
                uint32_t hi = s_[i_++];
                if (hi == '\\') {
                    const std::vector<ClassItem> e = escape(true);
                    if (e.size() != 1 || e[0].kind != ClassItem::Range || e[0].lo != e[0].hi)
                        refuse(regex_, i_, "a range must end in a character");
                    hi = e[0].lo;
                }
                if (hi < items[0].lo) refuse(regex_, i_, "range out of order");
                items[0].hi = hi;
            }
            cc.items.insert(cc.items.end(), items.begin(), items.end());
        }
        if (i_ >= s_.size()) refuse(regex_, i_, "unclosed character class");
        ++i_; // ]
        return cc;
    }

    int number() {
        if (i_ >= s_.size() || s_[i_] < '0' || s_[i_] > '9') refuse(regex_, i_, "expected a number");
        long v = 0;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && v < 100000) v = v * 10 + (s_[i_++] - '0');
        return static_cast<int>(v);
    }

    void quantifier(Node &n) {
        if (i_ >= s_.size()) return;
        const uint32_t c = s_[i_];
        if (c == '?')
            n.min = 0, n.max = 1;
        else if (c == '*')
            n.min = 0, n.max = kUnbounded;
        else if (c == '+')
            n.min = 1, n.max = kUnbounded;
        else if (c == '{') {
            ++i_;
            n.min = n.max = number();
            if (i_ < s_.size() && s_[i_] == ',') {
                ++i_;
                n.max = i_ < s_.size() && s_[i_] == '}' ? kUnbounded : number();
            }
            if (i_ >= s_.size() || s_[i_] != '}' || n.max < n.min) refuse(regex_, i_, "malformed {m,n}");
        } else {
            return;
        }
        ++i_;
        if (n.kind == Node::Lookahead) refuse(regex_, i_, "a quantified lookahead");
        if (i_ < s_.size() && s_[i_] == '?') {
            n.lazy = true;
            ++i_;
        }
    }

    const std::string &regex_;
    std::vector<uint32_t> s_;
    size_t i_ = 0;
};

struct Matcher {
    const uint32_t *s;
    size_t end;

    bool sequence(const Sequence &seq, size_t i, size_t pos, Continuation k) const {
        if (i == seq.size()) return k(pos);
        const Node &n = seq[i];
        const auto rest = [&](size_t p) { return sequence(seq, i + 1, p, k); };
        switch (n.kind) {
        case Node::Class: {
            size_t count = 0;
            while (count < static_cast<size_t>(n.max) && pos + count < end && n.set.matches(s[pos + count]))
                ++count;
            if (count < static_cast<size_t>(n.min)) return false;
            if (n.lazy) {
                for (size_t c = static_cast<size_t>(n.min); c <= count; ++c)
                    if (rest(pos + c)) return true;
            } else {
                for (size_t c = count + 1; c-- > static_cast<size_t>(n.min);)
                    if (rest(pos + c)) return true;
            }
            return false;
        }
        case Node::Group: return repeat(n, 0, pos, Continuation(rest));
        case Node::Lookahead: {
            bool found = false;
            for (const Sequence &alt : n.alternatives)
                if (sequence(alt, 0, pos, Continuation([](size_t) { return true; }))) {
                    found = true;
                    break;
                }
            return found != n.negative && rest(pos);
        }
        }
        return false;
    }

    bool repeat(const Node &n, int count, size_t pos, Continuation k) const {
        const auto more = [&]() {
            if (count >= n.max) return false;
            for (const Sequence &alt : n.alternatives) {
                const auto next = [&](size_t q) { return q != pos && repeat(n, count + 1, q, k); };
                if (sequence(alt, 0, pos, Continuation(next))) return true;
            }
            return false;
        };
        if (n.lazy) return (count >= n.min && k(pos)) || more();
        return more() || (count >= n.min && k(pos));
    }
};

} // namespace

Pattern::Pattern(const std::string &regex) : root_(std::make_unique<Node>()) {
    Parser p(regex);
    root_->kind = Node::Group;
    root_->alternatives = p.alternatives();
    if (!p.done()) refuse(regex, p.at(), "unbalanced parenthesis");
}

Pattern::~Pattern() = default;
Pattern::Pattern(Pattern &&) noexcept = default;
Pattern &Pattern::operator=(Pattern &&) noexcept = default;

int64_t Pattern::match_at(const uint32_t *s, size_t pos, size_t end) const {
    const Matcher m{s, end};
    int64_t length = -1;
    const auto accept = [&](size_t q) {
        length = static_cast<int64_t>(q - pos);
        return true;
    };
    for (const Sequence &alt : root_->alternatives)
        if (m.sequence(alt, 0, pos, Continuation(accept))) break;
    return length;
}

std::vector<size_t> split_pieces(const std::vector<uint32_t> &s, const std::vector<size_t> &pieces,
                                 const Pattern &pattern) {
    std::vector<size_t> out;
    size_t start = 0;
    for (const size_t piece : pieces) {
        const size_t end = start + piece;
        size_t gap = start; // where the text not yet matched begins
        for (size_t pos = start; pos < end;) {
            const int64_t n = pattern.match_at(s.data(), pos, end);
            if (n <= 0) {
                ++pos;
                continue;
            }
            if (pos > gap) out.push_back(pos - gap);
            out.push_back(static_cast<size_t>(n));
            pos += static_cast<size_t>(n);
            gap = pos;
        }
        if (end > gap) out.push_back(end - gap);
        start = end;
    }
    return out;
}

} // namespace lb::tokenizer
