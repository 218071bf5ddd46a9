// Synthetic llama models: validation, metadata, tensor layout, the portable
// weight generator, and the streaming writers of the model and its imatrix.
#include "synth/synth_model.hpp"

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "formats/type_traits.hpp"
#include "gguf/gguf_file.hpp"
#include "gguf/writer.hpp"
#include "kernels/kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <future>
#include <sys/stat.h>

namespace lb::synth {

namespace {

// Rows are generated in chunks of about this many weights: memory stays
// bounded and the progress callback runs between chunks.
constexpr int64_t kChunkElements = 4 << 20;

uint32_t file_type_of(lb_type type) {
    switch (type) {
    case LB_TYPE_F32: return LB_FTYPE_ALL_F32;
    case LB_TYPE_F16: return LB_FTYPE_F16;
    default: return LB_FTYPE_BF16;
    }
}

int64_t n_embd_kv(const lb_synth_options &o) {
    return static_cast<int64_t>(o.n_embd) / o.n_head * o.n_head_kv;
}

// The input profile an imatrix entry shares with other weights that read
// the same activations in llama's graph.
std::string input_profile(const std::string &name) {
    auto ends_with = [&](const char *suffix) {
        const size_t n = std::strlen(suffix);
        return name.size() >= n && name.compare(name.size() - n, n, suffix) == 0;
    };
    if (name == "output.weight" || name == "token_embd.weight") return "output_norm";
    const size_t dot = name.find('.', 4);
    if (name.rfind("blk.", 0) == 0 && dot != std::string::npos) {
        const std::string layer = name.substr(0, dot + 1);
        if (ends_with(".attn_q.weight") || ends_with(".attn_k.weight") || ends_with(".attn_v.weight"))
            return layer + "attn_norm";
        if (ends_with(".ffn_gate.weight") || ends_with(".ffn_up.weight")) return layer + "ffn_norm";
    }
    return name;
}

// Refuses an output path that names a folder before any work is done.
void check_output(const std::string &path, const char *fn) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        fail(LB_E_INVALID_ARG, "%s: %s: the output path is a folder; give a file name", fn, path.c_str());
}

} // namespace

// --- Random numbers ------------------------------------------------------

uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

uint64_t derive_seed(uint64_t seed, const std::string &what) {
    uint64_t h = 0xcbf29ce484222325ull; // FNV-1a
    for (unsigned char c : what) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return mix64(mix64(seed + 0x9e3779b97f4a7c15ull) ^ h);
}

Rng::Rng(uint64_t seed) {
    for (uint64_t &s : s_) {
        seed += 0x9e3779b97f4a7c15ull; // splitmix64
        s = mix64(seed);
    }
}

ZigguratTables::ZigguratTables() {
    constexpr double scale = 0x1.0p52; // magnitudes have 52 bits
    auto density = [](double x) { return std::exp(-0.5 * x * x); };
    const double q = kArea / density(kR);
    k[0] = static_cast<uint64_t>(kR / q * scale);
    k[1] = 0;
    w[0] = q / scale;
    w[255] = kR / scale;
    f[0] = 1.0;
    f[255] = density(kR);
    double x = kR, prev = kR;
    for (int i = 254; i >= 1; --i) {
        x = std::sqrt(-2.0 * std::log(kArea / x + density(x)));
        k[i + 1] = static_cast<uint64_t>(x / prev * scale);
        prev = x;
        f[i] = density(x);
        w[i] = x / scale;
    }
}

const ZigguratTables &ziggurat_tables() {
    static const ZigguratTables z;
    return z;
}

// The draws the fast path in normal() did not accept: the tail of layer 0,
// the wedges of the other layers, and new draws after a rejection.
double Rng::normal_slow(const ZigguratTables &z, uint64_t u) {
    for (;; u = next()) {
        const int layer = static_cast<int>(u & 0xff);
        const bool negative = ((u >> 8) & 1) != 0;
        const uint64_t magnitude = (u >> 9) & ((1ull << 52) - 1);
        const double x = static_cast<double>(static_cast<int64_t>(magnitude)) * z.w[layer];
        if (magnitude < z.k[layer]) return negative ? -x : x;
        if (layer == 0) { // the tail beyond kR (Marsaglia's method)
            for (;;) {
                const double xx = -std::log1p(-uniform()) / ZigguratTables::kR;
                const double yy = -std::log1p(-uniform());
                if (yy + yy > xx * xx) return negative ? -(ZigguratTables::kR + xx) : ZigguratTables::kR + xx;
            }
        }
        if ((z.f[layer - 1] - z.f[layer]) * uniform() + z.f[layer] < std::exp(-0.5 * x * x))
            return negative ? -x : x;
    }
}

// --- Options and layout --------------------------------------------------

void validate(const lb_synth_options &o, const char *fn) {
    if (o.version != LB_SYNTH_OPTIONS_VERSION)
        fail(LB_E_INVALID_ARG,
             "%s: version is %u, expected LB_SYNTH_OPTIONS_VERSION (%u): initialize the options with "
             "lb_synth_options_init()",
             fn, o.version, static_cast<unsigned>(LB_SYNTH_OPTIONS_VERSION));
    if (o.arch != LB_SYNTH_LLAMA && o.arch != LB_SYNTH_QWEN2 && o.arch != LB_SYNTH_QWEN3)
        fail(LB_E_INVALID_ARG, "%s: arch is %d; LB_SYNTH_LLAMA, LB_SYNTH_QWEN2 or LB_SYNTH_QWEN3", fn,
             static_cast<int>(o.arch));
    if (o.n_layer == 0 || o.n_layer > kMaxLayers)
        fail(LB_E_INVALID_ARG, "%s: n_layer is %u, must be 1..%u", fn, o.n_layer, kMaxLayers);
    if (o.n_embd == 0 || o.n_embd > kMaxWidth)
        fail(LB_E_INVALID_ARG, "%s: n_embd is %u, must be 1..%u", fn, o.n_embd, kMaxWidth);
    if (o.n_ff == 0 || o.n_ff > kMaxWidth)
        fail(LB_E_INVALID_ARG, "%s: n_ff is %u, must be 1..%u", fn, o.n_ff, kMaxWidth);
    if (o.n_head == 0) fail(LB_E_INVALID_ARG, "%s: n_head is 0, must be at least 1", fn);
    if (o.n_head_kv == 0) fail(LB_E_INVALID_ARG, "%s: n_head_kv is 0, must be at least 1", fn);
    if (o.n_embd % o.n_head != 0)
        fail(LB_E_INVALID_ARG, "%s: n_embd (%u) is not a multiple of n_head (%u)", fn, o.n_embd, o.n_head);
    if ((o.n_embd / o.n_head) % 2 != 0)
        fail(LB_E_INVALID_ARG,
             "%s: n_embd / n_head (%u / %u) gives an odd head size; llama.cpp's rope needs an even one", fn,
             o.n_embd, o.n_head);
    if (o.n_head % o.n_head_kv != 0)
        fail(LB_E_INVALID_ARG, "%s: n_head (%u) is not a multiple of n_head_kv (%u)", fn, o.n_head,
             o.n_head_kv);
    if (o.type != LB_TYPE_F32 && o.type != LB_TYPE_F16 && o.type != LB_TYPE_BF16) {
        const char *name = formats::traits(static_cast<uint32_t>(o.type)).name;
        fail(LB_E_INVALID_ARG, "%s: type is %s, must be F32, F16 or BF16", fn,
             name != nullptr ? name : strformat("%d (not a type)", static_cast<int>(o.type)).c_str());
    }
}

Vocab builtin_vocab() {
    Vocab v;
    v.n_vocab = kBuiltinVocabSize;
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    std::vector<int32_t> types = {2, 3, 3}; // UNKNOWN, CONTROL, CONTROL
    for (int b = 0; b < 256; ++b) {
        tokens.push_back(strformat("<0x%02X>", b));
        types.push_back(6); // BYTE
    }
    v.kvs.push_back({"tokenizer.ggml.model", gguf::Value::string("llama")});
    v.kvs.push_back({"tokenizer.ggml.tokens", gguf::Value::string_array(std::move(tokens))});
    v.kvs.push_back({"tokenizer.ggml.scores", gguf::Value::f32_array(std::vector<float>(
                                                  static_cast<size_t>(kBuiltinVocabSize), 0.0f))});
    v.kvs.push_back({"tokenizer.ggml.token_type", gguf::Value::i32_array(types)});
    v.kvs.push_back({"tokenizer.ggml.bos_token_id", gguf::Value::u32(1)});
    v.kvs.push_back({"tokenizer.ggml.eos_token_id", gguf::Value::u32(2)});
    v.kvs.push_back({"tokenizer.ggml.unknown_token_id", gguf::Value::u32(0)});
    return v;
}

Vocab vocab_from(const std::string &path) {
    const gguf::GgufFile file(path);
    Vocab v;
    for (const gguf::KeyValue &kv : file.header().kvs) {
        if (kv.key.rfind("tokenizer.", 0) != 0) continue;
        v.kvs.push_back(kv);
        if (kv.key == "tokenizer.ggml.tokens" && kv.value.is_array() &&
            kv.value.elem_type == gguf::ValueType::STRING)
            v.n_vocab = static_cast<int64_t>(kv.value.count);
    }
    if (v.n_vocab == 0)
        fail(LB_E_FORMAT,
             "%s: no tokenizer to copy: the file has no non-empty tokenizer.ggml.tokens array of strings",
             path.c_str());
    return v;
}

Vocab vocab_for(const lb_synth_options &o) {
    return o.tokenizer_from != nullptr ? vocab_from(o.tokenizer_from) : builtin_vocab();
}

const char *arch_name(lb_synth_arch arch) {
    switch (arch) {
    case LB_SYNTH_QWEN2: return "qwen2";
    case LB_SYNTH_QWEN3: return "qwen3";
    default: return "llama";
    }
}

std::vector<gguf::KeyValue> model_metadata(const lb_synth_options &o, const Vocab &vocab) {
    using gguf::Value;
    const std::string a = arch_name(o.arch);
    std::vector<gguf::KeyValue> kvs = {
        {"general.architecture", Value::string(a)},
        {"general.type", Value::string("model")},
        {"general.name", Value::string("lowbit synthetic")},
        {"general.description",
         Value::string(strformat("random weights from lowbit's synthetic model generator, seed %llu",
                                 static_cast<unsigned long long>(o.seed)))},
        {"general.file_type", Value::u32(file_type_of(o.type))},
        {"general.quantization_version", Value::u32(2)},
        {a + ".vocab_size", Value::u32(static_cast<uint32_t>(vocab.n_vocab))},
        {a + ".context_length", Value::u32(kContextLength)},
        {a + ".embedding_length", Value::u32(o.n_embd)},
        {a + ".feed_forward_length", Value::u32(o.n_ff)},
        {a + ".attention.head_count", Value::u32(o.n_head)},
        {a + ".attention.head_count_kv", Value::u32(o.n_head_kv)},
        {a + ".block_count", Value::u32(o.n_layer)},
        {a + ".rope.dimension_count", Value::u32(o.n_embd / o.n_head)},
        {a + ".rope.freq_base", gguf::Value::f32(kRopeFreqBase)},
        {a + ".attention.layer_norm_rms_epsilon", gguf::Value::f32(kRmsEpsilon)},
    };
    kvs.insert(kvs.end(), vocab.kvs.begin(), vocab.kvs.end());
    return kvs;
}

std::vector<TensorSpec> model_tensors(const lb_synth_options &o, int64_t n_vocab) {
    const int64_t embd = o.n_embd, ff = o.n_ff, kv = n_embd_kv(o);
    std::vector<TensorSpec> t;
    auto matrix = [&](const std::string &name, int64_t ne0, int64_t ne1) {
        t.push_back({name, 2, ne0, ne1, o.type, Kind::Matrix});
    };
    auto norm = [&](const std::string &name, int64_t n) {
        t.push_back({name, 1, n, 1, LB_TYPE_F32, Kind::Norm});
    };
    auto bias = [&](const std::string &name, int64_t n) {
        t.push_back({name, 1, n, 1, LB_TYPE_F32, Kind::Bias});
    };
    const int64_t head_dim = embd / o.n_head;
    matrix("token_embd.weight", embd, n_vocab);
    norm("output_norm.weight", embd);
    if (o.tied_output == 0) matrix("output.weight", embd, n_vocab);
    for (uint32_t l = 0; l < o.n_layer; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        matrix(p + "attn_q.weight", embd, embd);
        matrix(p + "attn_k.weight", embd, kv);
        matrix(p + "attn_v.weight", embd, kv);
        if (o.arch == LB_SYNTH_QWEN2) {
            bias(p + "attn_q.bias", embd);
            bias(p + "attn_k.bias", kv);
            bias(p + "attn_v.bias", kv);
        }
        if (o.arch == LB_SYNTH_QWEN3) {
            norm(p + "attn_q_norm.weight", head_dim);
            norm(p + "attn_k_norm.weight", head_dim);
        }
        matrix(p + "attn_output.weight", embd, embd);
        norm(p + "attn_norm.weight", embd);
        matrix(p + "ffn_gate.weight", embd, ff);
        matrix(p + "ffn_down.weight", ff, embd);
        matrix(p + "ffn_up.weight", embd, ff);
        norm(p + "ffn_norm.weight", embd);
    }
    return t;
}

// --- Weights -------------------------------------------------------------

TensorGenerator::TensorGenerator(const TensorSpec &spec, uint64_t seed)
    : ne0_(spec.ne0), kind_(spec.kind),
      key_(derive_seed(seed, spec.name + "#" + std::to_string(spec.ne0) + "x" + std::to_string(spec.ne1))),
      sigma_(1.0 / std::sqrt(static_cast<double>(spec.ne0))) {
    if (kind_ != Kind::Matrix) return;
    Rng rng(mix64(key_ ^ 0x636f6c756d6e73ull)); // "columns"
    col_scale_.resize(static_cast<size_t>(ne0_));
    for (double &s : col_scale_) s = std::exp(kColLogStd * rng.normal() - kColLogStd * kColLogStd);
}

double TensorGenerator::row_scale(int64_t r) const {
    if (kind_ != Kind::Matrix) return 1.0;
    Rng rng(key_ ^ mix64(static_cast<uint64_t>(r)));
    return std::exp(kRowLogStd * rng.normal() - kRowLogStd * kRowLogStd);
}

void TensorGenerator::row(int64_t r, float *out) const {
    Rng rng(key_ ^ mix64(static_cast<uint64_t>(r)));
    const ZigguratTables &z = ziggurat_tables();
    if (kind_ == Kind::Norm) {
        for (int64_t c = 0; c < ne0_; ++c) out[c] = static_cast<float>(std::exp(kNormLogStd * rng.normal(z)));
        return;
    }
    if (kind_ == Kind::Bias) {
        for (int64_t c = 0; c < ne0_; ++c) out[c] = static_cast<float>(kBiasStd * rng.normal(z));
        return;
    }
    // The first draw is the row's scale (as row_scale() computes it).
    const double scale = sigma_ * std::exp(kRowLogStd * rng.normal(z) - kRowLogStd * kRowLogStd);
    // Outliers at geometrically distributed gaps.
    const double log_keep = std::log1p(-kOutlierRate);
    auto gap = [&]() {
        const double g = std::floor(std::log1p(-rng.uniform()) / log_keep);
        return g > static_cast<double>(ne0_) ? ne0_ + 1 : static_cast<int64_t>(g);
    };
    int64_t next_outlier = gap();
    for (int64_t c = 0; c < ne0_; ++c) {
        double x = scale * col_scale_[static_cast<size_t>(c)] * rng.normal(z);
        if (c == next_outlier) {
            x *= kOutlierMin + (kOutlierMax - kOutlierMin) * rng.uniform();
            next_outlier = c + 1 + gap();
        }
        out[c] = static_cast<float>(x);
    }
}

uint64_t write_model(const lb_synth_options &o, const std::string &path, const WriteOptions &w) {
    validate(o, "lb_synth_write_model");
    check_output(path, "lb_synth_write_model");
    const Vocab vocab = vocab_for(o);
    const std::vector<gguf::KeyValue> kvs = model_metadata(o, vocab);
    const std::vector<TensorSpec> specs = model_tensors(o, vocab.n_vocab);

    std::vector<gguf::TensorInfo> infos;
    uint64_t total = 0;
    for (const TensorSpec &s : specs) {
        gguf::TensorInfo t;
        t.name = s.name;
        t.n_dims = s.n_dims;
        t.ne[0] = s.ne0;
        t.ne[1] = s.ne1;
        t.type = static_cast<uint32_t>(s.type);
        t.size = gguf::tensor_bytes(t, path);
        infos.push_back(t);
        total += static_cast<uint64_t>(s.n_elements());
    }

    const int n_threads = w.n_threads > 0 ? w.n_threads : hardware_threads();
    lb_progress progress{LB_PROGRESS_VERSION, 0, total, 0, specs.size(), ""};
    auto report = [&]() {
        if (w.progress != nullptr && w.progress(&progress, w.progress_user) != 0)
            fail(LB_E_CANCELLED, "%s: writing the synthetic model was cancelled by the progress callback",
                 path.c_str());
    };

    // Generation and writing overlap: while one buffer is written (by the
    // writer thread, one write at a time, in order), the next is generated.
    gguf::Writer writer(path, kvs, std::move(infos));
    std::vector<uint8_t> buffers[2];
    int current = 0;
    std::future<void> pending; // destroyed (waited for) before the buffers and the writer
    auto wait_pending = [&]() {
        if (pending.valid()) pending.get();
    };
    for (size_t i = 0; i < specs.size(); ++i) {
        const TensorSpec &s = specs[i];
        progress.tensor_index = i;
        progress.tensor_name = s.name.c_str();
        report();
        const TensorGenerator gen(s, o.seed);
        const formats::TypeTraits &tt = formats::traits(s.type);
        const size_t row_bytes = formats::row_bytes(s.type, s.ne0);
        const int64_t chunk_rows = std::max<int64_t>(1, kChunkElements / s.ne0);
        for (int64_t r0 = 0; r0 < s.ne1; r0 += chunk_rows) {
            const int64_t nr = std::min(chunk_rows, s.ne1 - r0);
            std::vector<uint8_t> &buffer = buffers[current];
            buffer.resize(static_cast<size_t>(nr) * row_bytes);
            parallel_for(n_threads, nr, 1, [&](int64_t begin, int64_t end) {
                std::vector<float> row(static_cast<size_t>(s.ne0));
                for (int64_t r = begin; r < end; ++r) {
                    gen.row(r0 + r, row.data());
                    tt.quantize(row.data(), buffer.data() + static_cast<size_t>(r) * row_bytes, s.ne0,
                                nullptr, kernels::active().search);
                }
            });
            wait_pending();
            const bool last = r0 + nr >= s.ne1;
            pending = std::async(std::launch::async, [&writer, &buffer, last] {
                writer.write(buffer.data(), buffer.size());
                if (last) writer.end_tensor();
            });
            current ^= 1;
            progress.done_elements += static_cast<uint64_t>(nr * s.ne0);
            if (!last) report();
        }
    }
    wait_pending();
    progress.tensor_index = specs.empty() ? 0 : specs.size() - 1;
    report();
    return writer.commit();
}

// --- Importance matrix ---------------------------------------------------

std::vector<ImatrixEntry> imatrix_entries(const lb_synth_options &o) {
    std::vector<ImatrixEntry> out;
    for (const TensorSpec &s : model_tensors(o, 1))
        if (s.kind == Kind::Matrix) out.push_back({s.name, s.ne0});
    std::sort(out.begin(), out.end(),
              [](const ImatrixEntry &a, const ImatrixEntry &b) { return a.name < b.name; });
    return out;
}

std::vector<float> imatrix_means(const std::string &name, int64_t n_cols, uint64_t seed) {
    Rng rng(derive_seed(seed, "imatrix:" + input_profile(name) + "#" + std::to_string(n_cols)));
    std::vector<float> means(static_cast<size_t>(n_cols));
    for (float &m : means) m = static_cast<float>(std::exp(kActLogStd * rng.normal()));
    const int64_t n_hot = std::max<int64_t>(1, n_cols / kActHotEvery);
    for (int64_t i = 0; i < n_hot; ++i) {
        const size_t c = static_cast<size_t>(rng.next() % static_cast<uint64_t>(n_cols));
        means[c] = static_cast<float>(means[c] * (kActHotMin + (kActHotMax - kActHotMin) * rng.uniform()));
    }
    return means;
}

uint64_t write_imatrix(const lb_synth_options &o, const std::string &path) {
    validate(o, "lb_synth_write_imatrix");
    check_output(path, "lb_synth_write_imatrix");
    if (o.tokenizer_from != nullptr) vocab_from(o.tokenizer_from); // same errors as write_model
    const std::vector<ImatrixEntry> entries = imatrix_entries(o);

    // The keys and their order as llama.cpp's imatrix tool writes them.
    const std::vector<gguf::KeyValue> kvs = {
        {"general.type", gguf::Value::string("imatrix")},
        {"imatrix.datasets", gguf::Value::string_array({"synthetic"})},
        {"imatrix.chunk_count", gguf::Value::u32(kImatrixChunkCount)},
        {"imatrix.chunk_size", gguf::Value::u32(kImatrixChunkSize)},
    };
    // Per entry, sorted by weight name: <name>.in_sum2 then <name>.counts,
    // each one-dimensional as ggml writes a [n, 1] tensor.
    std::vector<gguf::TensorInfo> infos;
    for (const ImatrixEntry &e : entries) {
        gguf::TensorInfo sums, counts;
        sums.name = e.name + ".in_sum2";
        sums.n_dims = 1;
        sums.ne[0] = e.n_cols;
        sums.type = LB_TYPE_F32;
        sums.size = static_cast<uint64_t>(e.n_cols) * sizeof(float);
        counts.name = e.name + ".counts";
        counts.n_dims = 1;
        counts.ne[0] = 1;
        counts.type = LB_TYPE_F32;
        counts.size = sizeof(float);
        infos.push_back(sums);
        infos.push_back(counts);
    }
    const float count = static_cast<float>(kImatrixChunkCount) * static_cast<float>(kImatrixChunkSize);
    gguf::Writer writer(path, kvs, std::move(infos));
    for (const ImatrixEntry &e : entries) {
        std::vector<float> sums = imatrix_means(e.name, e.n_cols, o.seed);
        for (float &s : sums) s *= count;
        writer.write(sums.data(), sums.size() * sizeof(float));
        writer.end_tensor();
        writer.write(&count, sizeof count);
        writer.end_tensor();
    }
    return writer.commit();
}

} // namespace lb::synth
