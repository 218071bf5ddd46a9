// Fuzz target: any bytes as a safetensors file, through
// lb::safetensors::File: a clear error (lb::Error with a message naming the
// file) or a file whose tensors all lie inside it, each of the size its shape
// and dtype give, in offset order without overlap; every byte of every
// tensor is read (so a tensor outside the mapping is an ASan report), never
// a crash, a sanitizer report or a hang.
#include "common/error.hpp"
#include "memfd_path.hpp"
#include "safetensors/safetensors.hpp"

#include <cstdint>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const fuzz::MemFile file(data, size);
    if (!file.ok()) return 0;
    try {
        const lb::safetensors::File f(file.path());
        const uint8_t *begin = f.mapped().data();
        const uint64_t file_size = f.mapped().size();
        uint64_t at = f.data_offset();
        uint32_t sum = 0;
        for (const lb::safetensors::Tensor &t : f.tensors()) {
            if (t.data != begin + t.offset || t.offset != at || t.offset + t.size > file_size ||
                t.n_elements() * lb::safetensors::element_size(t.type) != t.size || f.find(t.name) != &t)
                __builtin_trap();
            for (uint64_t i = 0; i < t.size; ++i) sum += t.data[i];
            at += t.size;
        }
        if (at != file_size) __builtin_trap();
        for (const auto &[key, value] : f.metadata()) sum += static_cast<uint32_t>(key.size() + value.size());
        volatile uint32_t sink = sum;
        (void)sink;
    } catch (const lb::Error &e) {
        if (std::strstr(e.what(), file.path()) == nullptr) __builtin_trap();
    }
    return 0;
}
