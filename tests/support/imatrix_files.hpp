// Importance-matrix test files, independent of lowbit's own code so that a
// bug there cannot hide here: a writer of llama.cpp's legacy .dat format, a
// builder of GGUF imatrix files (any keys, types and shapes, to make broken
// ones), and llama.cpp's own imatrix loader (common_imatrix_load in the
// peer's libllama-common.so) with llama-quantize's derivation of the
// per-column importances from what it loads.
#pragma once

#include "../cli/gguf_builder.hpp"
#include "ggml_peer.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace imatrix_files {

// --- Legacy .dat ----------------------------------------------------------

struct LegacyEntry {
    std::string name;
    int32_t ncall = 0;
    std::vector<float> values; // nval
};

// The bytes of a legacy file: int32 n_entries; per entry int32 name length,
// the name, int32 ncall, int32 nval, nval floats; then, if with_trailer,
// int32 chunk count, int32 dataset name length and the name.
inline std::vector<uint8_t> legacy_bytes(const std::vector<LegacyEntry> &entries, bool with_trailer = true,
                                         int32_t chunk_count = 0, const std::string &dataset = "") {
    gguf_builder::Bytes b;
    auto i32 = [&b](int32_t v) { b.u32(static_cast<uint32_t>(v)); };
    i32(static_cast<int32_t>(entries.size()));
    for (const LegacyEntry &e : entries) {
        i32(static_cast<int32_t>(e.name.size()));
        b.raw(e.name);
        i32(e.ncall);
        i32(static_cast<int32_t>(e.values.size()));
        for (float v : e.values) b.f32(v);
    }
    if (with_trailer) {
        i32(chunk_count);
        i32(static_cast<int32_t>(dataset.size()));
        b.raw(dataset);
    }
    return b;
}

// --- GGUF -----------------------------------------------------------------

struct GgufEntry {
    std::string name;
    int64_t ne0 = 0;
    std::vector<float> sums;   // ne0 * counts.size()
    std::vector<float> counts; // one per expert
};

inline std::vector<uint8_t> f32_bytes(const std::vector<float> &v) {
    gguf_builder::Bytes b;
    for (float x : v) b.f32(x);
    return b;
}

// A GGUF imatrix as llama.cpp's imatrix tool lays it out: the four keys, then
// per entry (in the order given) <name>.in_sum2 [ne0, n_mat] and
// <name>.counts [1, n_mat] (1-D when n_mat is 1, as ggml writes them).
// Returned as a builder model so that tests can break it before build().
inline gguf_builder::Model gguf_model(const std::vector<GgufEntry> &entries,
                                      const std::vector<std::string> &datasets, uint32_t chunk_count,
                                      uint32_t chunk_size) {
    using namespace gguf_builder;
    Model m;
    m.kvs.push_back({"general.type", string_value("imatrix")});
    m.kvs.push_back({"imatrix.datasets", string_array_value(datasets)});
    m.kvs.push_back({"imatrix.chunk_count", u32_value(chunk_count)});
    m.kvs.push_back({"imatrix.chunk_size", u32_value(chunk_size)});
    for (const GgufEntry &e : entries) {
        const int64_t n_mat = static_cast<int64_t>(e.counts.size());
        Tensor sums, counts;
        sums.name = e.name + ".in_sum2";
        sums.ne = n_mat > 1 ? std::vector<int64_t>{e.ne0, n_mat} : std::vector<int64_t>{e.ne0};
        sums.data = f32_bytes(e.sums);
        counts.name = e.name + ".counts";
        counts.ne = n_mat > 1 ? std::vector<int64_t>{1, n_mat} : std::vector<int64_t>{1};
        counts.data = f32_bytes(e.counts);
        m.tensors.push_back(std::move(sums));
        m.tensors.push_back(std::move(counts));
    }
    return m;
}

// The bytes of m as ggml's writer lays them out: also the last tensor's data
// padded to the alignment (the builder leaves that out, and llama.cpp's GGUF
// reader refuses a file without it).
inline std::vector<uint8_t> ggml_bytes(const gguf_builder::Model &m) {
    std::vector<uint8_t> b = m.build();
    b.resize((b.size() + m.alignment - 1) / m.alignment * m.alignment, 0);
    return b;
}

// --- llama.cpp's loader ---------------------------------------------------

// The layout of llama.cpp's common_imatrix_entry and common_imatrix
// (common/imatrix-loader.h of the peer's version): the loader fills these.
struct PeerEntry {
    std::vector<float> sums;
    std::vector<int64_t> counts;
};
struct PeerImatrix {
    std::map<std::string, PeerEntry> entries;
    std::vector<std::string> datasets;
    int32_t chunk_count = 0;
    int32_t chunk_size = 0;
    bool is_legacy = false;
    bool has_metadata = false;
};

using LoadFn = bool (*)(const std::string &fname, PeerImatrix &imatrix);

// common_imatrix_load from the peer's libllama-common.so (loaded once; its
// dependencies resolve through its RUNPATH). Throws std::runtime_error with a
// message saying how to install the peer if it cannot be loaded.
inline LoadFn peer_loader() {
    static const LoadFn fn = [] {
        const std::string path = peer::library_dir() + "/libllama-common.so";
        void *h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr)
            throw std::runtime_error(
                "cannot load the reference peer " + path + " (" + ::dlerror() +
                "); install it with scripts/install-peer.sh and set LOWBIT_PEER_DIR to the "
                "folder it prints");
        // common_imatrix_load(const std::string &, common_imatrix &)
        const char *symbol =
            "_Z19common_imatrix_loadRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEER14common_imatrix";
        void *p = ::dlsym(h, symbol);
        if (p == nullptr) throw std::runtime_error(path + " lacks common_imatrix_load (" + symbol + ")");
        return reinterpret_cast<LoadFn>(p);
    }();
    return fn;
}

// Loads path with llama.cpp's loader; throws if the peer is missing or the
// loader refuses the file.
inline PeerImatrix peer_load(const std::string &path) {
    PeerImatrix m;
    if (!peer_loader()(path, m)) throw std::runtime_error("llama.cpp's common_imatrix_load refused " + path);
    return m;
}

// The per-column importances llama-quantize derives from a loaded imatrix
// (tools/quantize/quantize.cpp, load_imatrix), restated: GGUF: each expert's
// sums over its count as a float, all 1 for an expert with count 0; legacy:
// the values over ncall (as a float), or the values if ncall is 0.
inline std::map<std::string, std::vector<float>> quantize_means(const PeerImatrix &m) {
    std::map<std::string, std::vector<float>> out;
    for (const auto &[name, e] : m.entries) {
        std::vector<float> &v = out[name];
        v.resize(e.sums.size());
        if (m.is_legacy) {
            const int64_t ncall = e.counts.empty() ? 0 : e.counts[0];
            for (size_t i = 0; i < v.size(); ++i)
                v[i] = ncall > 0 ? e.sums[i] / static_cast<float>(ncall) : e.sums[i];
        } else {
            const size_t n_mat = e.counts.size();
            const size_t ne0 = e.sums.size() / n_mat;
            for (size_t j = 0; j < n_mat; ++j) {
                const float count = static_cast<float>(e.counts[j]);
                for (size_t i = 0; i < ne0; ++i)
                    v[j * ne0 + i] = count > 0.0f ? e.sums[j * ne0 + i] / count : 1.0f;
            }
        }
    }
    return out;
}

} // namespace imatrix_files
