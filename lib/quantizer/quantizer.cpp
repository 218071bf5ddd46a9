#include "quantizer/quantizer.hpp"

#include "common/error.hpp"
#include "common/finite.hpp"
#include "common/parallel.hpp"
#include "formats/type_traits.hpp"
#include "gguf/writer.hpp"

#include <cmath>
#include <cstring>
#include <sys/stat.h>
#include <vector>

namespace lb {

namespace {

// Rows are processed in chunks of about this many weights: progress and
// cancellation are checked between chunks, and memory stays bounded.
constexpr int64_t kChunkElements = 4 << 20;
constexpr uint64_t kCopyChunkBytes = 16u << 20;

bool same_file(const std::string &path, const MappedFile &in) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return false;
    return static_cast<uint64_t>(st.st_dev) == in.device() && static_cast<uint64_t>(st.st_ino) == in.inode();
}

void set_u32(std::vector<gguf::KeyValue> &kvs, const std::string &key, uint32_t value) {
    const long i = gguf::find_key(kvs, key);
    if (i >= 0) kvs[static_cast<size_t>(i)].value = gguf::Value::u32(value);
    else kvs.push_back({key, gguf::Value::u32(value)});
}

// One tensor's conversion: what it is, what it becomes.
struct Job {
    size_t index;
    lb_type from, to;
    bool convert;
};

} // namespace

void Quantizer::check_cancelled() const {
    if (cancelled_.load(std::memory_order_relaxed)) fail(LB_E_CANCELLED, "quantization cancelled");
}

void Quantizer::log(lb_log_level level, const std::string &message) const {
    if (options.log != nullptr) options.log(level, message.c_str(), options.log_user);
}

QuantizeStats Quantizer::run(const gguf::GgufFile &in, const std::string &out_path) {
    cancelled_.store(false, std::memory_order_relaxed);
    const auto start = std::chrono::steady_clock::now();
    const gguf::Header &h = in.header();
    const std::string &path = in.path();
    if (same_file(out_path, in.mapping()))
        fail(LB_E_INVALID_ARG, "%s: the output path names the input file; choose another output", out_path.c_str());
    struct stat st;
    if (::stat(out_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        fail(LB_E_INVALID_ARG, "%s: the output path is a folder; give a file name", out_path.c_str());

    // Decide every tensor's type and check that each conversion is possible
    // before anything is written.
    const std::vector<recipes::TensorPlan> plan = recipes::make_plan(h, options.plan, path);
    QuantizeStats stats;
    std::vector<Job> jobs;
    std::vector<gguf::TensorInfo> out_tensors = h.tensors;
    for (size_t i = 0; i < h.tensors.size(); ++i) {
        const gguf::TensorInfo &t = h.tensors[i];
        Job job{i, static_cast<lb_type>(t.type), plan[i].type, plan[i].type != static_cast<lb_type>(t.type)};
        if (job.convert) {
            const formats::TypeTraits &from = formats::traits(job.from);
            const formats::TypeTraits &to = formats::traits(job.to);
            if (from.quantized && !options.allow_requantize)
                fail(LB_E_UNSUPPORTED,
                     "%s: tensor '%s' is already quantized (%s); requantizing to %s loses quality and is refused "
                     "unless allowed (--allow-requantize)",
                     path.c_str(), t.name.c_str(), from.name, to.name);
            if (from.dequantize == nullptr)
                fail(LB_E_UNSUPPORTED, "%s: tensor '%s' has type %s, which lowbit cannot convert", path.c_str(),
                     t.name.c_str(), from.name);
            if (to.quantize == nullptr)
                fail(LB_E_UNSUPPORTED, "%s: tensor '%s' needs type %s, which this build of lowbit cannot produce",
                     path.c_str(), t.name.c_str(), to.name);
            ++stats.quantized;
        }
        if (plan[i].fallback) {
            ++stats.fallbacks;
            log(LB_LOG_WARN, plan[i].note);
        }
        out_tensors[i].type = static_cast<uint32_t>(job.to);
        out_tensors[i].size = gguf::tensor_bytes(out_tensors[i], path);
        stats.elements += static_cast<uint64_t>(t.n_elements());
        stats.input_bytes += t.size;
        stats.output_bytes += out_tensors[i].size;
        jobs.push_back(job);
    }

    // Metadata: everything from the input, minus split keys, plus the
    // quantization version and file type.
    std::vector<gguf::KeyValue> kvs;
    for (const gguf::KeyValue &kv : h.kvs)
        if (kv.key.rfind("split.", 0) != 0) kvs.push_back(kv);
    set_u32(kvs, gguf::kKeyQuantizationVersion, 2);
    set_u32(kvs, gguf::kKeyFileType, static_cast<uint32_t>(options.plan.ftype));

    check_cancelled();
    gguf::Writer writer(out_path, kvs, out_tensors);
    const int n_threads = options.n_threads > 0 ? options.n_threads : hardware_threads();

    lb_progress progress{0, stats.elements, 0, jobs.size(), ""};
    auto report = [&]() {
        if (options.progress != nullptr && options.progress(&progress, options.progress_user) != 0)
            fail(LB_E_CANCELLED, "quantization cancelled by the progress callback");
        check_cancelled();
    };

    for (const Job &job : jobs) {
        const gguf::TensorInfo &t = h.tensors[job.index];
        const uint8_t *src = in.tensor_data(job.index);
        progress.tensor_index = job.index;
        progress.tensor_name = t.name.c_str();
        report();
        if (!job.convert) {
            for (uint64_t off = 0; off < t.size; off += kCopyChunkBytes) {
                const uint64_t n = std::min<uint64_t>(kCopyChunkBytes, t.size - off);
                writer.write(src + off, n);
                check_cancelled();
            }
            progress.done_elements += static_cast<uint64_t>(t.n_elements());
            writer.end_tensor();
            continue;
        }

        const int64_t n_per_row = t.ne[0];
        const int64_t n_rows = n_per_row == 0 ? 0 : t.n_elements() / n_per_row;
        const size_t in_row = formats::row_bytes(job.from, n_per_row);
        const size_t out_row = formats::row_bytes(job.to, n_per_row);
        const formats::TypeTraits &from = formats::traits(job.from);
        const formats::TypeTraits &to = formats::traits(job.to);
        const int64_t chunk_rows = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, n_per_row));
        std::vector<uint8_t> out(static_cast<size_t>(std::min(chunk_rows, n_rows)) * out_row);

        for (int64_t r0 = 0; r0 < n_rows; r0 += chunk_rows) {
            const int64_t nr = std::min(chunk_rows, n_rows - r0);
            parallel_for(n_threads, nr, 1, [&](int64_t begin, int64_t end) {
                std::vector<float> row(static_cast<size_t>(n_per_row));
                for (int64_t r = begin; r < end; ++r) {
                    from.dequantize(src + static_cast<size_t>(r0 + r) * in_row, row.data(), n_per_row);
                    const int64_t j = first_non_finite(row.data(), n_per_row);
                    if (j >= 0)
                        fail(LB_E_FORMAT, "%s: tensor '%s' row %lld column %lld holds %s", path.c_str(),
                             t.name.c_str(), static_cast<long long>(r0 + r), static_cast<long long>(j),
                             std::isnan(row[static_cast<size_t>(j)]) ? "NaN" : "an infinity");
                    to.quantize(row.data(), out.data() + static_cast<size_t>(r) * out_row, n_per_row, nullptr);
                }
            });
            writer.write(out.data(), static_cast<size_t>(nr) * out_row);
            progress.done_elements += static_cast<uint64_t>(nr * n_per_row);
            report();
        }
        writer.end_tensor();
    }
    report(); // done == total
    stats.tensors = jobs.size();
    stats.output_file_bytes = writer.commit();
    stats.elapsed_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
    return stats;
}

} // namespace lb
