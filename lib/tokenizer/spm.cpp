#include "tokenizer/spm.hpp"

#include <queue>

namespace lb::tokenizer {

namespace {

// Bytes of the UTF-8 sequence that starts with byte c (1 for stray bytes).
size_t utf8_length(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) return 2;
    if ((c & 0xf0) == 0xe0) return 3;
    if ((c & 0xf8) == 0xf0) return 4;
    return 1;
}

// A piece of the text: [start, start + size), linked to its neighbours.
struct Piece {
    size_t start, size;
    int prev, next;
};

struct Candidate {
    float score;
    int left, right;
    size_t size; // bytes of the merged text when it was proposed
};

// the highest score first; on a tie the leftmost
struct Lower {
    bool operator()(const Candidate &a, const Candidate &b) const {
        return a.score < b.score || (a.score == b.score && a.left > b.left);
    }
};

} // namespace

void spm_tokenize(const Vocab &vocab, const std::string &text, std::vector<int32_t> &out) {
    std::vector<Piece> pieces;
    for (size_t at = 0; at < text.size();) {
        const size_t n = std::min(utf8_length(static_cast<unsigned char>(text[at])), text.size() - at);
        const int index = static_cast<int>(pieces.size());
        pieces.push_back({at, n, index - 1, at + n == text.size() ? -1 : index + 1});
        at += n;
    }
    std::priority_queue<Candidate, std::vector<Candidate>, Lower> queue;
    auto propose = [&](int left, int right) {
        if (left < 0 || right < 0) return;
        const size_t size = pieces[static_cast<size_t>(left)].size + pieces[static_cast<size_t>(right)].size;
        const int32_t id = vocab.find(text.substr(pieces[static_cast<size_t>(left)].start, size));
        if (id == kNoToken) return;
        queue.push({vocab.score[static_cast<size_t>(id)], left, right, size});
    };
    for (int i = 1; i < static_cast<int>(pieces.size()); ++i) propose(i - 1, i);
    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Piece &left = pieces[static_cast<size_t>(c.left)], &right = pieces[static_cast<size_t>(c.right)];
        // stale: one side was merged since
        if (left.size == 0 || right.size == 0 || left.size + right.size != c.size) continue;
        left.size += right.size;
        right.size = 0;
        left.next = right.next;
        if (right.next >= 0) pieces[static_cast<size_t>(right.next)].prev = c.left;
        propose(left.prev, c.left);
        propose(c.left, left.next);
    }
    bool after_unknown = false; // the last token out is the unknown token of a character
    for (int i = pieces.empty() ? -1 : 0; i >= 0; i = pieces[static_cast<size_t>(i)].next) {
        const Piece &p = pieces[static_cast<size_t>(i)];
        const std::string piece = text.substr(p.start, p.size);
        const int32_t id = vocab.find(piece);
        if (id != kNoToken) {
            out.push_back(id);
            after_unknown = false;
            continue;
        }
        // every merged piece is a token, so this is one character: its bytes
        // as byte tokens, or (lacking one of them) the unknown token, one for
        // a run of such characters (as SentencePiece and Hugging Face's
        // fuse_unk give it)
        std::vector<int32_t> bytes;
        for (const char c : piece) {
            const int32_t b = vocab.byte_token(static_cast<uint8_t>(c));
            if (b == kNoToken) {
                bytes.clear();
                break;
            }
            bytes.push_back(b);
        }
        if (!bytes.empty()) {
            out.insert(out.end(), bytes.begin(), bytes.end());
            after_unknown = false;
        } else if (vocab.unk != kNoToken && !after_unknown) {
            out.push_back(vocab.unk);
            after_unknown = true;
        }
    }
}

} // namespace lb::tokenizer
