// Fuzz target: any bytes as a GGUF file whose tokenizer.* metadata is read as
// a vocabulary (SPM or BPE, with specials, merges, flags); if it is accepted,
// the tail of the input is tokenized with every flag combination and the
// tokens turned back into text. A vocabulary is accepted or refused with a
// message; tokenizing never crashes, hangs or gives an id outside it.
#include "common/error.hpp"
#include "gguf/gguf.hpp"
#include "tokenizer/tokenizer.hpp"

#include <cstdint>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lb::gguf::Header h;
    try {
        h = lb::gguf::parse(data, size, "fuzz.gguf");
    } catch (const lb::Error &) {
        return 0;
    }
    try {
        const lb::tokenizer::Tokenizer tok(lb::tokenizer::read_vocab(h.kvs, "fuzz.gguf"));
        const size_t n = tok.vocab().size();
        const size_t tail = std::min<size_t>(size, 200);
        const std::string text(reinterpret_cast<const char *>(data + size - tail), tail);
        for (int flags = 0; flags < 4; ++flags) {
            const std::vector<int32_t> tokens = tok.tokenize(text, (flags & 1) != 0, (flags & 2) != 0);
            for (int32_t t : tokens)
                if (t < 0 || static_cast<size_t>(t) >= n) __builtin_trap();
            tok.detokenize(tokens, (flags & 1) != 0);
        }
    } catch (const lb::Error &e) {
        if (std::strlen(e.what()) == 0) __builtin_trap(); // every refusal explains itself
    }
    return 0;
}
