#include "eval/tensor_errors.hpp"

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "eval/chunks.hpp"
#include "formats/type_traits.hpp"
#include "kernels/kernels.hpp"
#include "session/observer_scope.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace lb::eval {

double TensorError::relative() const {
    if (reference > 0.0) return error / reference;
    return error > 0.0 ? std::numeric_limits<double>::infinity() : 0.0;
}

namespace {

// Weight rows per task and tokens per tile (as kernels/matmul.cpp).
constexpr int64_t kBandRows = 32;
constexpr int64_t kTileTokens = 32;

std::string shape_of(const gguf::TensorInfo &i) {
    std::string s;
    for (uint32_t d = 0; d < std::max<uint32_t>(i.n_dims, 1); ++d)
        s += strformat(d ? ", %lld" : "%lld", static_cast<long long>(i.ne[d]));
    return s;
}

// The quantized model's side of one weight, found on first use.
struct Entry {
    TensorError figures;
    const uint8_t *data = nullptr; // the quantized tensor's rows
    size_t row_bytes = 0;
    std::unique_ptr<uint8_t[]> copy; // the rows moved to aligned memory
};

class Measure {
  public:
    Measure(const Model &quantized, const kernels::KernelSet &k, int n_threads)
        : quantized_(quantized), f32_(k.dot().by_type[LB_TYPE_F32]), n_threads_(n_threads) {
        if (f32_.tile == nullptr) fail(LB_E_INTERNAL, "tensor errors: no F32 matrix product");
        for (const Model::Tensor &t : quantized.tensors()) by_name_.emplace(t.info->name, &t);
    }

    // Adds the product of weight m with n_rows input rows.
    void add(const session::Matrix &m, const float *rows, int64_t n_rows) {
        if (n_rows <= 0) return;
        Entry &e = entry(m);
        const int64_t n = m.w.n;
        // the inputs in the F32 kernels' layout, 64-byte aligned
        const size_t a_row = f32_.activation_row_bytes(n);
        activations_.resize(a_row * static_cast<size_t>(n_rows) + 64);
        uint8_t *a = activations_.data();
        a += (64 - reinterpret_cast<uintptr_t>(a) % 64) % 64;
        for (int64_t t = 0; t < n_rows; ++t)
            f32_.quantize_activations(rows + t * n, a + static_cast<size_t>(t) * a_row, n);
        const formats::TypeTraits &tb = formats::traits(m.w.type), &tq = formats::traits(e.figures.type);
        std::mutex mutex;
        double error = 0.0, reference = 0.0;
        const int64_t n_bands = (m.w.rows + kBandRows - 1) / kBandRows;
        parallel_for(n_threads_, n_bands, 1, [&](int64_t b0, int64_t b1) {
            // per band: the base's rows W, the differences D = W_q - W, and
            // their products with a tile of tokens
            std::vector<float> w(static_cast<size_t>(kBandRows * n)), d(w.size()), q(static_cast<size_t>(n));
            std::vector<float> wx(static_cast<size_t>(kBandRows * kTileTokens)), dx(wx.size());
            double err = 0.0, ref = 0.0;
            for (int64_t band = b0; band < b1; ++band) {
                const int64_t r0 = band * kBandRows, nr = std::min(kBandRows, m.w.rows - r0);
                for (int64_t r = 0; r < nr; ++r) {
                    float *wr = w.data() + r * n, *dr = d.data() + r * n;
                    tb.dequantize(m.w.data + static_cast<size_t>(r0 + r) * m.w.row_bytes, wr, n);
                    tq.dequantize(e.data + static_cast<size_t>(r0 + r) * e.row_bytes, q.data(), n);
                    for (int64_t i = 0; i < n; ++i) dr[i] = q[static_cast<size_t>(i)] - wr[i];
                }
                for (int64_t t0 = 0; t0 < n_rows; t0 += kTileTokens) {
                    const int64_t nt = std::min(kTileTokens, n_rows - t0);
                    const uint8_t *at = a + static_cast<size_t>(t0) * a_row;
                    auto tile = [&](const std::vector<float> &rows_of, std::vector<float> &out) {
                        f32_.tile({.n = n,
                                   .w = reinterpret_cast<const uint8_t *>(rows_of.data()),
                                   .w_stride = static_cast<size_t>(n) * sizeof(float),
                                   .n_rows = nr,
                                   .a = at,
                                   .a_stride = a_row,
                                   .n_tokens = nt,
                                   .out = out.data(),
                                   .out_stride = nr});
                    };
                    tile(w, wx);
                    tile(d, dx);
                    for (int64_t i = 0; i < nt * nr; ++i) {
                        const double y = wx[static_cast<size_t>(i)], dy = dx[static_cast<size_t>(i)];
                        ref += y * y;
                        err += dy * dy;
                    }
                }
            }
            const std::lock_guard<std::mutex> lock(mutex);
            error += err;
            reference += ref;
        });
        e.figures.error += error;
        e.figures.reference += reference;
        e.figures.n_rows += static_cast<uint64_t>(n_rows);
    }

    std::vector<TensorError> results() const {
        std::vector<TensorError> out;
        out.reserve(entries_.size());
        for (const auto &[name, e] : entries_) out.push_back(e.figures);
        std::sort(out.begin(), out.end(), [](const TensorError &a, const TensorError &b) {
            const double ra = a.relative(), rb = b.relative();
            if (ra != rb) return ra > rb;
            return a.name < b.name;
        });
        return out;
    }

  private:
    Entry &entry(const session::Matrix &m) {
        const auto found = entries_.find(m.name);
        if (found != entries_.end()) return found->second;
        const auto t = by_name_.find(m.name);
        if (t == by_name_.end())
            fail(LB_E_INVALID_ARG, "tensor errors: %s has no tensor '%s', which the base model multiplies",
                 quantized_.path().c_str(), m.name.c_str());
        const gguf::TensorInfo &i = *t->second->info;
        if (i.ne[0] != m.w.n || i.ne[1] != m.w.rows || i.ne[2] != 1 || i.ne[3] != 1)
            fail(LB_E_INVALID_ARG,
                 "tensor errors: %s: tensor '%s' has shape [%s]; the base model's is [%lld, %lld]",
                 quantized_.path().c_str(), m.name.c_str(), shape_of(i).c_str(),
                 static_cast<long long>(m.w.n), static_cast<long long>(m.w.rows));
        const formats::TypeTraits &tq = formats::traits(i.type);
        if (tq.dequantize == nullptr)
            fail(LB_E_UNSUPPORTED, "tensor errors: %s: tensor '%s' has type %s, which lowbit cannot read",
                 quantized_.path().c_str(), m.name.c_str(), tq.name != nullptr ? tq.name : "(unknown)");
        if (formats::traits(m.w.type).dequantize == nullptr)
            fail(LB_E_UNSUPPORTED,
                 "tensor errors: the base's tensor '%s' has type %s, which lowbit cannot read",
                 m.name.c_str(), formats::traits(m.w.type).name);
        Entry e;
        e.figures.name = m.name;
        e.figures.layer = m.layer;
        e.figures.base_type = m.w.type;
        e.figures.type = static_cast<lb_type>(i.type);
        e.row_bytes = formats::row_bytes(i.type, i.ne[0]);
        e.data = t->second->data;
        if (reinterpret_cast<uintptr_t>(e.data) % 4 != 0) { // as session/weights.cpp
            e.copy = std::make_unique<uint8_t[]>(i.size);
            std::memcpy(e.copy.get(), e.data, i.size);
            e.data = e.copy.get();
        }
        return entries_.emplace(m.name, std::move(e)).first->second;
    }

    const Model &quantized_;
    const kernels::WeightKernels &f32_;
    int n_threads_;
    std::unordered_map<std::string, const Model::Tensor *> by_name_;
    std::unordered_map<std::string, Entry> entries_;
    std::vector<uint8_t> activations_;
};

} // namespace

std::vector<TensorError> tensor_errors(session::Session &base, const Model &quantized,
                                       const std::string &text, const KldOptions &o,
                                       const ChunkProgress &progress) {
    base.begin_work();
    const Chunks chunks = cut_text(base, text, o.n_ctx, o.max_chunks, "tensor errors");
    const ContextFor ctx(base, o.n_ctx);
    const int n_threads = base.params.n_threads > 0 ? base.params.n_threads : hardware_threads();
    Measure measure(quantized, base.kernels != nullptr ? *base.kernels : kernels::active(), n_threads);
    const session::ObserverScope hook(base, [&](const session::Matrix &m, const float *rows, int64_t n_rows) {
        measure.add(m, rows, n_rows);
        return true;
    });
    for (uint64_t c = 0; c < chunks.n_chunks; ++c) {
        eval_chunk(base, chunks, c);
        if (progress && !progress(c + 1, chunks.n_chunks)) fail(LB_E_CANCELLED, "tensor errors cancelled");
    }
    return measure.results();
}

} // namespace lb::eval
