#include "quantizer/quantizer.hpp"

#include "common/error.hpp"
#include "common/finite.hpp"
#include "common/thread_pool.hpp"
#include "formats/type_traits.hpp"
#include "gguf/writer.hpp"
#include "kernels/kernels.hpp"
#include "recipes/ftype.hpp"
#include "recipes/tensor_category.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sys/stat.h>

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

// Sets a key as ggml's gguf_set_val_* does: an existing key is removed and
// the new value appended, so the output's key order is llama-quantize's.
void set_kv(std::vector<gguf::KeyValue> &kvs, const gguf::KeyValue &kv) {
    const long i = gguf::find_key(kvs, kv.key);
    if (i >= 0) kvs.erase(kvs.begin() + i);
    kvs.push_back(kv);
}

gguf::Value scalar(gguf::ValueType type, const void *p, size_t n) {
    gguf::Value v;
    v.type = type;
    v.bytes.assign(static_cast<const uint8_t *>(p), static_cast<const uint8_t *>(p) + n);
    return v;
}

// "blk.N." renumbered after removing the pruned layers; "" if N is pruned.
std::string pruned_name(const std::string &name, const std::vector<int> &prune) {
    const int layer = recipes::layer_of(name);
    if (prune.empty() || layer < 0) return name;
    if (std::binary_search(prune.begin(), prune.end(), layer)) return "";
    const int removed = static_cast<int>(std::lower_bound(prune.begin(), prune.end(), layer) - prune.begin());
    const std::string digits = std::to_string(layer);
    return "blk." + std::to_string(layer - removed) + name.substr(4 + digits.size());
}

// The file type of a model being copied: general.file_type, or the type most
// 2-D weights have.
lb_ftype input_ftype(const Model &in) {
    const long i = gguf::find_key(in.kvs(), gguf::kKeyFileType);
    if (i >= 0) {
        const gguf::Value &v = in.kvs()[static_cast<size_t>(i)].value;
        if (v.type == gguf::ValueType::U32 || v.type == gguf::ValueType::I32) {
            uint32_t x;
            std::memcpy(&x, v.bytes.data(), 4);
            if (recipes::ftype_info(static_cast<int>(x)) != nullptr) return static_cast<lb_ftype>(x);
        }
    }
    std::map<uint32_t, int> counts;
    for (const Model::Tensor &t : in.tensors())
        if (t.info->n_dims >= 2) ++counts[t.info->type];
    uint32_t best = LB_TYPE_F32;
    int most = 0;
    for (const auto &[type, n] : counts)
        if (n > most) most = n, best = type;
    for (int id = 0; id < 64; ++id) {
        const recipes::FtypeInfo *f = recipes::ftype_info(id);
        if (f != nullptr && static_cast<uint32_t>(f->default_type) == best) return f->id;
    }
    return LB_FTYPE_ALL_F32;
}

// One output tensor and where it comes from.
struct Job {
    const Model::Tensor *in;
    gguf::TensorInfo out;   // name (after pruning), shape, new type and size
    std::string input_name; // the name in the input (and the imatrix)
    bool convert = false;
    std::vector<float> importance; // per column (times experts); empty: none
    size_t out_file = 0;
};

} // namespace

gguf::KeyValue parse_kv_override(const std::string &spec) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq >= 128)
        fail(LB_E_INVALID_ARG,
             "malformed --override-kv '%s': expected KEY=TYPE:VALUE with a key of 1 to 127 bytes",
             spec.c_str());
    gguf::KeyValue kv;
    kv.key = spec.substr(0, eq);
    const std::string rest = spec.substr(eq + 1);
    const auto value_of = [&](const char *prefix) { return rest.substr(std::strlen(prefix)); };
    if (rest.rfind("int:", 0) == 0) {
        // llama.cpp stores integer overrides as u32 of the absolute value
        const long long v = std::atoll(value_of("int:").c_str());
        const uint32_t u = static_cast<uint32_t>(v < 0 ? -static_cast<unsigned long long>(v)
                                                       : static_cast<unsigned long long>(v));
        kv.value = gguf::Value::u32(u);
    } else if (rest.rfind("float:", 0) == 0) {
        const float f = static_cast<float>(std::atof(value_of("float:").c_str()));
        kv.value = scalar(gguf::ValueType::F32, &f, 4);
    } else if (rest.rfind("bool:", 0) == 0) {
        const std::string b = value_of("bool:");
        if (b != "true" && b != "false")
            fail(LB_E_INVALID_ARG, "malformed --override-kv '%s': a bool is true or false", spec.c_str());
        const uint8_t v = b == "true";
        kv.value = scalar(gguf::ValueType::BOOL, &v, 1);
    } else if (rest.rfind("str:", 0) == 0) {
        const std::string s = value_of("str:");
        if (s.size() > 127)
            fail(LB_E_INVALID_ARG, "malformed --override-kv '%s': a string value is at most 127 bytes",
                 spec.c_str());
        kv.value = gguf::Value::string(s);
    } else {
        fail(LB_E_INVALID_ARG, "malformed --override-kv '%s': the type must be int, float, bool or str",
             spec.c_str());
    }
    return kv;
}

void Quantizer::check_cancelled() const {
    if (cancelled_.load(std::memory_order_relaxed)) fail(LB_E_CANCELLED, "quantization cancelled");
}

void Quantizer::log(lb_log_level level, const std::string &message) const {
    if (options.log != nullptr) options.log(level, message.c_str(), options.log_user);
}

QuantizeStats Quantizer::run(const Model &in, const std::string &out_path) {
    cancelled_.store(false, std::memory_order_relaxed);
    plan_.clear();
    const auto start = std::chrono::steady_clock::now();
    const std::string &path = in.path();
    const QuantizeOptions &o = options;

    // Output paths: one file, or one per input shard (--keep-split).
    std::vector<std::string> out_paths;
    const size_t n_out = o.keep_split ? in.shard_count() : 1;
    if (!o.keep_split) {
        out_paths.push_back(out_path);
    } else { // as llama-quantize names them, even for one shard
        std::string prefix = out_path;
        if (prefix.size() > 5 && prefix.compare(prefix.size() - 5, 5, ".gguf") == 0)
            prefix.resize(prefix.size() - 5);
        for (size_t i = 0; i < n_out; ++i)
            out_paths.push_back(split_path(prefix, static_cast<int>(i + 1), static_cast<int>(n_out)));
    }
    if (!o.dry_run)
        for (const std::string &p : out_paths) {
            for (size_t s = 0; s < in.shard_count(); ++s)
                if (same_file(p, in.mapping(s)))
                    fail(LB_E_INVALID_ARG, "%s: the output path names an input file; choose another output",
                         p.c_str());
            struct stat st;
            if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
                fail(LB_E_INVALID_ARG, "%s: the output path is a folder; give a file name", p.c_str());
        }

    // The imatrix entries in use (after --include-weights / --exclude-weights).
    std::map<std::string, const std::vector<float> *> entries;
    if (o.imatrix)
        for (const auto &[name, values] : o.imatrix->means) {
            bool keep = true;
            for (const std::string &x : o.imatrix_exclude) keep = keep && name.find(x) == std::string::npos;
            if (!o.imatrix_include.empty()) {
                keep = false;
                for (const std::string &x : o.imatrix_include)
                    keep = keep || name.find(x) != std::string::npos;
            }
            if (keep) entries[name] = &values;
        }
    recipes::PlanOptions plan_options = o.plan;
    plan_options.has_imatrix = !entries.empty();
    plan_options.visit_in_file_order = o.keep_split;
    if (o.plan.only_copy) plan_options.ftype = input_ftype(in);

    // The output tensors: the input's, minus pruned layers, renamed.
    std::vector<Job> jobs;
    for (const Model::Tensor &t : in.tensors()) {
        const std::string name = pruned_name(t.info->name, o.prune_layers);
        if (name.empty()) continue;
        Job job;
        job.in = &t;
        job.out = *t.info;
        job.out.name = name;
        job.input_name = t.info->name;
        job.out_file = o.keep_split ? t.shard : 0;
        jobs.push_back(std::move(job));
    }
    const recipes::ModelFacts facts = recipes::model_facts(in.kvs(), path);
    std::vector<const gguf::TensorInfo *> inputs;
    for (const Model::Tensor &t : in.tensors()) inputs.push_back(t.info);
    recipes::check_layers(inputs, facts, path);
    std::vector<gguf::TensorInfo> infos;
    for (const Job &j : jobs) infos.push_back(j.out);
    const std::vector<recipes::TensorPlan> plan = recipes::make_plan(infos, facts, plan_options, path);

    // Decide everything and check that each conversion is possible before
    // anything is written.
    QuantizeStats stats;
    for (size_t i = 0; i < jobs.size(); ++i) {
        Job &job = jobs[i];
        const gguf::TensorInfo &t = *job.in->info;
        const lb_type from = static_cast<lb_type>(t.type), to = plan[i].type;
        job.convert = to != from;
        job.out.type = static_cast<uint32_t>(to);
        job.out.size = gguf::tensor_bytes(job.out, path);
        if (job.convert) {
            const formats::TypeTraits &tf = formats::traits(from), &tt = formats::traits(to);
            if (tf.quantized && !o.allow_requantize)
                fail(LB_E_UNSUPPORTED,
                     "%s: tensor '%s' is already quantized (%s); requantizing to %s loses quality and is "
                     "refused "
                     "unless allowed (--allow-requantize)",
                     path.c_str(), t.name.c_str(), tf.name, tt.name);
            if (tf.dequantize == nullptr)
                fail(LB_E_UNSUPPORTED, "%s: tensor '%s' has type %s, which lowbit cannot convert",
                     path.c_str(), t.name.c_str(), tf.name);
            if (tt.quantize == nullptr)
                fail(LB_E_UNSUPPORTED,
                     "%s: tensor '%s' needs type %s, which this build of lowbit cannot produce", path.c_str(),
                     t.name.c_str(), tt.name);
            // the importance of its columns, as llama-quantize matches it
            const auto it = entries.find(job.input_name);
            if (it != entries.end()) {
                const std::vector<float> &m = *it->second;
                const size_t expected = static_cast<size_t>(t.ne[0] * t.ne[2]);
                if (m.size() == expected)
                    job.importance = m;
                else if (recipes::category_of(job.input_name) != recipes::Category::TokenEmbd)
                    fail(LB_E_FORMAT,
                         "%s: imatrix entry '%s' has %zu values but tensor '%s' needs %zu (one per input "
                         "column%s); "
                         "is the imatrix for another model?",
                         o.imatrix->path.c_str(), job.input_name.c_str(), m.size(), t.name.c_str(), expected,
                         t.ne[2] > 1 ? " and expert" : "");
            }
            if (job.importance.empty() && plan[i].requires_imatrix && !o.dry_run)
                fail(LB_E_UNSUPPORTED,
                     "%s: tensor '%s' gets type %s, which needs an importance matrix%s (use --imatrix)",
                     path.c_str(), job.out.name.c_str(), tt.name,
                     o.imatrix ? ", but the imatrix has no entry for it" : "");
            ++stats.quantized;
        }
        if (plan[i].fallback) {
            ++stats.fallbacks;
            log(LB_LOG_WARN, plan[i].note);
        }
        stats.elements += static_cast<uint64_t>(t.n_elements());
        stats.input_bytes += t.size;
        stats.output_bytes += job.out.size;
        plan_.push_back({job.out.name, from, to, job.out.size});
    }
    stats.tensors = jobs.size();
    if (o.dry_run) {
        bool needs = false;
        for (size_t i = 0; i < jobs.size(); ++i)
            needs = needs || (plan[i].requires_imatrix && jobs[i].importance.empty());
        if (needs) log(LB_LOG_WARN, "a real run of this quantization needs an importance matrix (--imatrix)");
        stats.elapsed_us = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
                .count());
        return stats;
    }

    // Metadata: the input's minus split keys, quantization version, file type,
    // the user's overrides, then the imatrix keys (llama-quantize's order).
    std::vector<gguf::KeyValue> kvs;
    for (const gguf::KeyValue &kv : in.kvs())
        if (kv.key.rfind("split.", 0) != 0) kvs.push_back(kv);
    set_kv(kvs, {gguf::kKeyQuantizationVersion, gguf::Value::u32(2)});
    set_kv(kvs, {gguf::kKeyFileType, gguf::Value::u32(static_cast<uint32_t>(plan_options.ftype))});
    for (const gguf::KeyValue &kv : o.kv_overrides) set_kv(kvs, kv);
    if (!entries.empty()) {
        set_kv(kvs, {"quantize.imatrix.file", gguf::Value::string(o.imatrix->path.substr(0, 127))});
        if (!o.imatrix->datasets.empty())
            set_kv(kvs, {"quantize.imatrix.dataset",
                         gguf::Value::string(o.imatrix->datasets.front().substr(0, 127))});
        set_kv(kvs,
               {"quantize.imatrix.entries_count", gguf::Value::u32(static_cast<uint32_t>(entries.size()))});
        if (o.imatrix->chunk_count > 0)
            set_kv(kvs, {"quantize.imatrix.chunks_count", gguf::Value::u32(o.imatrix->chunk_count)});
    }
    if (!o.prune_layers.empty() && facts.n_layer > 0) {
        const int removed =
            static_cast<int>(std::lower_bound(o.prune_layers.begin(), o.prune_layers.end(), facts.n_layer) -
                             o.prune_layers.begin());
        set_kv(kvs, {facts.arch + ".block_count",
                     gguf::Value::u32(static_cast<uint32_t>(facts.n_layer - removed))});
    }

    // One writer per output file; all are committed together at the end.
    check_cancelled();
    std::vector<std::unique_ptr<gguf::Writer>> writers;
    for (size_t f = 0; f < n_out; ++f) {
        // as llama.cpp writes shards: the metadata in the first, only the
        // split keys in the others
        std::vector<gguf::KeyValue> file_kvs = f == 0 ? kvs : std::vector<gguf::KeyValue>{};
        std::vector<gguf::TensorInfo> file_tensors;
        for (const Job &j : jobs)
            if (j.out_file == f) file_tensors.push_back(j.out);
        if (o.keep_split) {
            const uint16_t no = static_cast<uint16_t>(f), count = static_cast<uint16_t>(n_out);
            const int32_t total = static_cast<int32_t>(jobs.size());
            set_kv(file_kvs, {"split.no", scalar(gguf::ValueType::U16, &no, 2)});
            set_kv(file_kvs, {"split.count", scalar(gguf::ValueType::U16, &count, 2)});
            set_kv(file_kvs, {"split.tensors.count", scalar(gguf::ValueType::I32, &total, 4)});
        }
        writers.push_back(std::make_unique<gguf::Writer>(out_paths[f], file_kvs, std::move(file_tensors)));
    }
    const int n_threads = o.n_threads > 0 ? o.n_threads : hardware_threads();
    const formats::SearchKernels &search = kernels::active().search;

    lb_progress progress{LB_PROGRESS_VERSION, 0, stats.elements, 0, jobs.size(), ""};
    auto report = [&]() {
        if (o.progress != nullptr && o.progress(&progress, o.progress_user) != 0)
            fail(LB_E_CANCELLED, "quantization cancelled by the progress callback");
        check_cancelled();
    };

    for (size_t ji = 0; ji < jobs.size(); ++ji) {
        const Job &job = jobs[ji];
        const gguf::TensorInfo &t = *job.in->info;
        gguf::Writer &writer = *writers[job.out_file];
        const uint8_t *src = job.in->data;
        const MappedFile &mapping = in.mapping(job.in->shard);
        progress.tensor_index = ji;
        progress.tensor_name = job.out.name.c_str();
        report();
        mapping.check_size();
        if (!job.convert) {
            for (uint64_t off = 0; off < t.size; off += kCopyChunkBytes) {
                writer.write(src + off, std::min<uint64_t>(kCopyChunkBytes, t.size - off));
                check_cancelled();
                mapping.check_size();
            }
            progress.done_elements += static_cast<uint64_t>(t.n_elements());
        } else {
            const lb_type from = static_cast<lb_type>(t.type), to = static_cast<lb_type>(job.out.type);
            const int64_t n_per_row = t.ne[0];
            const int64_t n_rows = n_per_row == 0 ? 0 : t.n_elements() / n_per_row;
            const int64_t rows_per_expert = std::max<int64_t>(1, t.ne[1]);
            const size_t in_row = formats::row_bytes(from, n_per_row);
            const size_t out_row = formats::row_bytes(to, n_per_row);
            const formats::TypeTraits &tf = formats::traits(from), &tt = formats::traits(to);
            const int64_t chunk_rows = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, n_per_row));
            std::vector<uint8_t> out(static_cast<size_t>(std::min(chunk_rows, n_rows)) * out_row);
            for (int64_t r0 = 0; r0 < n_rows; r0 += chunk_rows) {
                const int64_t nr = std::min(chunk_rows, n_rows - r0);
                parallel_for(n_threads, nr, 1, [&](int64_t begin, int64_t end) {
                    std::vector<float> row(static_cast<size_t>(n_per_row));
                    // a file with a small general.alignment can place rows at
                    // any address; blocks are read through their structs
                    std::vector<float> staged;
                    for (int64_t r = begin; r < end; ++r) {
                        const int64_t row_index = r0 + r;
                        const uint8_t *in_row_data = src + static_cast<size_t>(row_index) * in_row;
                        if (reinterpret_cast<uintptr_t>(in_row_data) % alignof(float) != 0) {
                            staged.resize((in_row + sizeof(float) - 1) / sizeof(float));
                            std::memcpy(staged.data(), in_row_data, in_row);
                            in_row_data = reinterpret_cast<const uint8_t *>(staged.data());
                        }
                        tf.dequantize(in_row_data, row.data(), n_per_row);
                        const int64_t j = first_non_finite(row.data(), n_per_row);
                        if (j >= 0)
                            fail(LB_E_FORMAT, "%s: tensor '%s' row %lld column %lld holds %s", path.c_str(),
                                 t.name.c_str(), static_cast<long long>(row_index), static_cast<long long>(j),
                                 std::isnan(row[static_cast<size_t>(j)]) ? "NaN" : "an infinity");
                        // each expert's rows use that expert's importance
                        const float *importance =
                            job.importance.empty()
                                ? nullptr
                                : job.importance.data() + (row_index / rows_per_expert) * n_per_row;
                        tt.quantize(row.data(), out.data() + static_cast<size_t>(r) * out_row, n_per_row,
                                    importance, search);
                    }
                });
                writer.write(out.data(), static_cast<size_t>(nr) * out_row);
                progress.done_elements += static_cast<uint64_t>(nr * n_per_row);
                report();
                mapping.check_size();
            }
        }
        writer.end_tensor();
        // the input pages of this tensor are not needed again
        mapping.release(src, t.size);
    }
    report(); // done == total
    for (auto &w : writers) {
        stats.output_file_bytes += w->finish();
        ++stats.output_files;
    }
    for (auto &w : writers) w->publish();
    stats.elapsed_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
            .count());
    return stats;
}

} // namespace lb
