// Synthetic llama-architecture models for tests and benchmarks: the metadata
// and tensor layout llama.cpp expects of a `llama` model, weights drawn from
// a portable, seedable generator with realistic statistics (Gaussian rows,
// log-normal per-row and per-column scales, rare large outliers), streamed to
// disk tensor by tensor in bounded memory; and a matching importance matrix
// in the GGUF layout of llama.cpp's imatrix tool.
#pragma once

#include "gguf/gguf.hpp"
#include "lowbit/lowbit.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lb::synth {

// The statistics of the generated weights. A matrix with fan_in = ne[0]
// holds w[r][c] = sigma * row_scale[r] * col_scale[c] * g, g ~ N(0, 1),
// sigma = 1 / sqrt(fan_in); the scales are log-normal with E[scale^2] = 1, so
// the tensor's standard deviation stays near sigma. About kOutlierRate of the
// values are further multiplied by a factor uniform in [kOutlierMin,
// kOutlierMax]. Norm weights are exp(kNormLogStd * g), near 1.
constexpr double kRowLogStd = 0.3;
constexpr double kColLogStd = 0.3;
constexpr double kOutlierRate = 1e-4;
constexpr double kOutlierMin = 10.0;
constexpr double kOutlierMax = 30.0;
constexpr double kNormLogStd = 0.05;
constexpr double kBiasStd = 0.1; // qwen2's Q/K/V biases: N(0, kBiasStd^2)

// The importance matrix: per-column mean squared activations, log-normal
// (kActLogStd in log space), with about one column in kActHotEvery (at least
// one) multiplied by a factor uniform in [kActHotMin, kActHotMax].
constexpr double kActLogStd = 1.0;
constexpr int64_t kActHotEvery = 256;
constexpr double kActHotMin = 20.0;
constexpr double kActHotMax = 100.0;
constexpr uint32_t kImatrixChunkCount = 100;
constexpr uint32_t kImatrixChunkSize = 512;

// Metadata the model carries.
constexpr uint32_t kContextLength = 2048;
constexpr float kRmsEpsilon = 1e-5f;
constexpr float kRopeFreqBase = 10000.0f;
constexpr uint32_t kMaxLayers = 512;       // llama.cpp's LLAMA_MAX_LAYERS
constexpr uint32_t kMaxWidth = 1u << 20;   // n_embd, n_ff
constexpr int64_t kBuiltinVocabSize = 259; // <unk>, <s>, </s>, 256 bytes

// The tables of Marsaglia and Tsang's ziggurat with 256 layers of equal
// area (as in NumPy's generator): layer 0 is the base strip with the tail
// beyond kZigR, layers 1..255 run from the top of the density down to kZigR.
struct ZigguratTables {
    static constexpr double kR = 3.6541528853610088;
    static constexpr double kArea = 4.92867323399e-3;
    uint64_t k[256]; // below this 52-bit magnitude a draw is accepted at once
    double w[256];   // magnitude to x
    double f[256];   // the density exp(-x^2 / 2) at each layer's edge
    ZigguratTables();
};
// Computed once.
const ZigguratTables &ziggurat_tables();

// A deterministic generator: xoshiro256** seeded through splitmix64, with
// distributions written out here (not std::'s), so that every standard
// library produces the same numbers. (The ziggurat's tables and its rare slow
// path use exp and log in double precision; values are rounded to float.)
// The fast paths are inline so that a loop keeps the state in registers.
class Rng {
  public:
    explicit Rng(uint64_t seed);
    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; } // [0, 1)
    // N(0, 1). The tables are those of ziggurat_tables().
    double normal(const ZigguratTables &z) {
        const uint64_t u = next();
        const uint64_t magnitude = (u >> 9) & ((1ull << 52) - 1);
        if (magnitude < z.k[u & 0xff]) {
            const double x = static_cast<double>(static_cast<int64_t>(magnitude)) * z.w[u & 0xff];
            return (u >> 8) & 1 ? -x : x;
        }
        return normal_slow(z, u);
    }
    double normal() { return normal(ziggurat_tables()); }

  private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    double normal_slow(const ZigguratTables &z, uint64_t u);
    uint64_t s_[4];
};

// splitmix64's finalizer: a bijective mix of 64 bits.
uint64_t mix64(uint64_t x);
// A seed derived from a seed and a string (FNV-1a of the string, mixed).
uint64_t derive_seed(uint64_t seed, const std::string &what);

enum class Kind { Norm, Bias, Matrix };

// One tensor of the model.
struct TensorSpec {
    std::string name;
    uint32_t n_dims = 2;
    int64_t ne0 = 0; // row width: the input size of a matrix
    int64_t ne1 = 1; // rows: the output size of a matrix, 1 for norms
    lb_type type = LB_TYPE_F32;
    Kind kind = Kind::Matrix;

    int64_t n_elements() const { return ne0 * ne1; }
};

// Throws lb::Error (LB_E_INVALID_ARG) with "fn: <field> ..." if the options
// describe no valid model.
void validate(const lb_synth_options &o, const char *fn);

// A vocabulary: the tokenizer.* metadata and the number of tokens.
struct Vocab {
    std::vector<gguf::KeyValue> kvs;
    int64_t n_vocab = 0;
};

// The built-in byte-level SPM vocabulary of kBuiltinVocabSize tokens.
Vocab builtin_vocab();
// Every tokenizer.* key of the GGUF file at path. Throws lb::Error: LB_E_IO
// if it cannot be read, LB_E_FORMAT if it is not GGUF or has no
// tokenizer.ggml.tokens array of strings.
Vocab vocab_from(const std::string &path);
// tokenizer_from's vocabulary, or the built-in one.
Vocab vocab_for(const lb_synth_options &o);

// The model's metadata in file order, and its tensors in file order
// (token_embd, output_norm, output, then each layer as llama.cpp's
// converter orders them).
std::vector<gguf::KeyValue> model_metadata(const lb_synth_options &o, const Vocab &vocab);
std::vector<TensorSpec> model_tensors(const lb_synth_options &o, int64_t n_vocab);

// Generates a tensor's values row by row. The values of row r depend only on
// the seed, the tensor's name and shape, and r, so rows can be generated in
// any order, on any thread.
class TensorGenerator {
  public:
    TensorGenerator(const TensorSpec &spec, uint64_t seed);
    // Writes the ne0 values of row r.
    void row(int64_t r, float *out) const;
    // The standard deviation before scales and outliers (1 / sqrt(ne0)).
    double sigma() const { return sigma_; }
    double col_scale(int64_t c) const { return col_scale_[static_cast<size_t>(c)]; }
    double row_scale(int64_t r) const;

  private:
    int64_t ne0_;
    Kind kind_;
    uint64_t key_;
    double sigma_;
    std::vector<double> col_scale_; // matrices only
};

// The imatrix entries of the model, sorted by name: every matrix
// (token_embd.weight and output.weight included) and the width of its input.
struct ImatrixEntry {
    std::string name;
    int64_t n_cols = 0;
};
std::vector<ImatrixEntry> imatrix_entries(const lb_synth_options &o);
// The mean squared activation of each input column of weight `name`.
// Weights that share an input in llama's graph (attn_q/k/v, ffn_gate/up,
// output and token_embd) get the same profile.
std::vector<float> imatrix_means(const std::string &name, int64_t n_cols, uint64_t seed);

struct WriteOptions {
    int n_threads = 0; // 0: one per hardware thread
    lb_progress_fn progress = nullptr;
    void *progress_user = nullptr;
};

// Writes the model (atomically); returns the file size. The bytes depend
// only on the options, not on the number of threads. Throws lb::Error.
uint64_t write_model(const lb_synth_options &o, const std::string &path, const WriteOptions &w = {});
// Writes the importance matrix (atomically); returns the file size.
uint64_t write_imatrix(const lb_synth_options &o, const std::string &path);

} // namespace lb::synth
