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
#include <future>
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
    const std::vector<float> *importance = nullptr; // per column (times experts); nullptr: none
    size_t out_file = 0;
};

// One output of a run: its file type, files, tensors and writers. Every
// output has the same tensors in the same order (jobs[i] of each comes from
// the same input tensor); only their types differ.
struct Output {
    OutputSpec spec;
    recipes::PlanOptions plan_options;
    std::vector<std::string> paths; // one, or one per input shard (keep_split)
    std::vector<Job> jobs;
    QuantizeStats stats;
    std::vector<std::unique_ptr<gguf::Writer>> writers;
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

namespace {

// One run of a quantizer, in phases: the output paths, the imatrix entries in
// use, each output's plan (every check is made before anything is written),
// then the metadata and writers of each output, then the tensors, each read
// and converted to floats once for all outputs.
class Run {
  public:
    Run(const QuantizeOptions &o, const Model &in, const std::atomic<bool> &cancelled)
        : o_(o), in_(in), cancelled_(cancelled) {}

    // Writes every output (or with dry_run only plans them); appends each
    // output's tensors to plan. Returns the outputs' figures.
    std::vector<QuantizeStats> execute(const std::vector<OutputSpec> &specs, std::vector<PlanEntry> &plan);

  private:
    // A converted tensor's destination in one output.
    struct Target {
        const Job *job;
        gguf::Writer *writer;
    };

    void check_cancelled() const {
        if (cancelled_.load(std::memory_order_relaxed)) fail(LB_E_CANCELLED, "quantization cancelled");
    }
    void log(lb_log_level level, const std::string &message) const {
        if (o_.log != nullptr) o_.log(level, message.c_str(), o_.log_user);
    }
    void report(lb_progress &progress) const {
        if (o_.progress != nullptr && o_.progress(&progress, o_.progress_user) != 0)
            fail(LB_E_CANCELLED, "quantization cancelled by the progress callback");
        check_cancelled();
    }

    std::vector<std::string> paths_of(const std::string &out_path) const;
    void check_paths(const std::vector<Output> &outputs) const;
    void select_imatrix_entries();
    void plan_output(Output &out, const std::string &label) const;
    std::vector<gguf::KeyValue> metadata(const Output &out) const;
    void open_writers(Output &out) const;
    void write_tensors(std::vector<Output> &outputs, lb_progress &progress) const;
    void copy_tensor(const Model::Tensor &tensor, gguf::Writer &writer) const;
    void convert_tensor(const Model::Tensor &tensor, const std::vector<Target> &targets,
                        lb_progress &progress) const;

    const QuantizeOptions &o_;
    const Model &in_;
    const std::atomic<bool> &cancelled_;
    std::map<std::string, const std::vector<float> *> entries_; // the imatrix entries in use
    recipes::ModelFacts facts_;
};

// One file, or one per input shard (--keep-split), named as llama-quantize
// names them, even for one shard.
std::vector<std::string> Run::paths_of(const std::string &out_path) const {
    if (!o_.keep_split) return {out_path};
    std::string prefix = out_path;
    if (prefix.ends_with(".gguf")) prefix.resize(prefix.size() - 5);
    std::vector<std::string> paths;
    const size_t n = in_.shard_count();
    for (size_t i = 0; i < n; ++i)
        paths.push_back(split_path(prefix, static_cast<int>(i + 1), static_cast<int>(n)));
    return paths;
}

void Run::check_paths(const std::vector<Output> &outputs) const {
    std::vector<std::string> seen;
    for (const Output &out : outputs)
        for (const std::string &p : out.paths) {
            for (size_t s = 0; s < in_.shard_count(); ++s)
                if (same_file(p, in_.mapping(s)))
                    fail(LB_E_INVALID_ARG, "%s: the output path names an input file; choose another output",
                         p.c_str());
            struct stat st;
            if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
                fail(LB_E_INVALID_ARG, "%s: the output path is a folder; give a file name", p.c_str());
            if (std::find(seen.begin(), seen.end(), p) != seen.end())
                fail(LB_E_INVALID_ARG, "%s: two outputs have this path; give each its own", p.c_str());
            seen.push_back(p);
        }
}

// The imatrix entries in use (after --include-weights / --exclude-weights).
void Run::select_imatrix_entries() {
    if (!o_.imatrix) return;
    for (const auto &[name, values] : o_.imatrix->means) {
        bool keep = true;
        for (const std::string &x : o_.imatrix_exclude) keep = keep && name.find(x) == std::string::npos;
        if (!o_.imatrix_include.empty()) {
            keep = false;
            for (const std::string &x : o_.imatrix_include) keep = keep || name.find(x) != std::string::npos;
        }
        if (keep) entries_[name] = &values;
    }
}

// The output's tensors (the input's, minus pruned layers, renamed), their
// types, and the checks that each conversion is possible.
void Run::plan_output(Output &out, const std::string &label) const {
    const std::string &path = in_.path();
    recipes::PlanOptions &po = out.plan_options;
    po = o_.plan;
    po.ftype = out.spec.only_copy ? input_ftype(in_) : out.spec.ftype;
    po.only_copy = out.spec.only_copy;
    po.has_imatrix = !entries_.empty();
    po.visit_in_file_order = o_.keep_split;

    std::vector<Job> &jobs = out.jobs;
    for (const Model::Tensor &t : in_.tensors()) {
        const std::string name = pruned_name(t.info->name, o_.prune_layers);
        if (name.empty()) continue;
        Job job;
        job.in = &t;
        job.out = *t.info;
        job.out.name = name;
        job.input_name = t.info->name;
        job.out_file = o_.keep_split ? t.shard : 0;
        jobs.push_back(std::move(job));
    }
    std::vector<gguf::TensorInfo> infos;
    for (const Job &j : jobs) infos.push_back(j.out);
    const std::vector<recipes::TensorPlan> plan = recipes::make_plan(infos, facts_, po, path);

    QuantizeStats &stats = out.stats;
    for (size_t i = 0; i < jobs.size(); ++i) {
        Job &job = jobs[i];
        const gguf::TensorInfo &t = *job.in->info;
        const lb_type from = static_cast<lb_type>(t.type), to = plan[i].type;
        job.convert = to != from;
        job.out.type = static_cast<uint32_t>(to);
        job.out.size = gguf::tensor_bytes(job.out, path);
        if (job.convert) {
            const formats::TypeTraits &tf = formats::traits(from), &tt = formats::traits(to);
            if (tf.quantized && !o_.allow_requantize)
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
            const auto it = entries_.find(job.input_name);
            if (it != entries_.end()) {
                const std::vector<float> &m = *it->second;
                const size_t expected = static_cast<size_t>(t.ne[0] * t.ne[2]);
                if (m.size() == expected)
                    job.importance = &m;
                else if (recipes::category_of(job.input_name) != recipes::Category::TokenEmbd)
                    fail(LB_E_FORMAT,
                         "%s: imatrix entry '%s' has %zu values but tensor '%s' needs %zu (one per input "
                         "column%s); "
                         "is the imatrix for another model?",
                         o_.imatrix->path.c_str(), job.input_name.c_str(), m.size(), t.name.c_str(), expected,
                         t.ne[2] > 1 ? " and expert" : "");
            }
            if (job.importance == nullptr && plan[i].requires_imatrix && !o_.dry_run)
                fail(LB_E_UNSUPPORTED,
                     "%s: tensor '%s' gets type %s, which needs an importance matrix%s (use --imatrix FILE; "
                     "make one with: lowbit imatrix MODEL.gguf -f TEXT -o FILE)",
                     path.c_str(), job.out.name.c_str(), tt.name,
                     o_.imatrix ? ", but the imatrix has no entry for it" : "");
            ++stats.quantized;
        }
        if (plan[i].fallback) {
            ++stats.fallbacks;
            log(LB_LOG_WARN, label + plan[i].note);
        }
        stats.elements += static_cast<uint64_t>(t.n_elements());
        stats.input_bytes += t.size;
        stats.output_bytes += job.out.size;
    }
    stats.tensors = jobs.size();
    if (o_.dry_run) {
        bool needs = false;
        for (size_t i = 0; i < jobs.size(); ++i)
            needs = needs || (plan[i].requires_imatrix && jobs[i].importance == nullptr);
        if (needs)
            log(LB_LOG_WARN,
                label + "a real run of this quantization needs an importance matrix (--imatrix)");
    }
}

// The input's metadata minus split keys, quantization version, file type,
// the user's overrides, then the imatrix keys (llama-quantize's order).
std::vector<gguf::KeyValue> Run::metadata(const Output &out) const {
    std::vector<gguf::KeyValue> kvs;
    for (const gguf::KeyValue &kv : in_.kvs())
        if (kv.key.rfind("split.", 0) != 0) kvs.push_back(kv);
    set_kv(kvs, {gguf::kKeyQuantizationVersion, gguf::Value::u32(2)});
    set_kv(kvs, {gguf::kKeyFileType, gguf::Value::u32(static_cast<uint32_t>(out.plan_options.ftype))});
    for (const gguf::KeyValue &kv : o_.kv_overrides) set_kv(kvs, kv);
    if (!entries_.empty()) {
        set_kv(kvs, {"quantize.imatrix.file", gguf::Value::string(o_.imatrix->path.substr(0, 127))});
        if (!o_.imatrix->datasets.empty())
            set_kv(kvs, {"quantize.imatrix.dataset",
                         gguf::Value::string(o_.imatrix->datasets.front().substr(0, 127))});
        set_kv(kvs,
               {"quantize.imatrix.entries_count", gguf::Value::u32(static_cast<uint32_t>(entries_.size()))});
        if (o_.imatrix->chunk_count > 0)
            set_kv(kvs, {"quantize.imatrix.chunks_count", gguf::Value::u32(o_.imatrix->chunk_count)});
    }
    if (!o_.prune_layers.empty() && facts_.n_layer > 0) {
        const int removed = static_cast<int>(
            std::lower_bound(o_.prune_layers.begin(), o_.prune_layers.end(), facts_.n_layer) -
            o_.prune_layers.begin());
        set_kv(kvs, {facts_.arch + ".block_count",
                     gguf::Value::u32(static_cast<uint32_t>(facts_.n_layer - removed))});
    }
    return kvs;
}

// One writer per output file; all are committed together at the end.
void Run::open_writers(Output &out) const {
    const std::vector<gguf::KeyValue> kvs = metadata(out);
    const size_t n_files = out.paths.size();
    for (size_t f = 0; f < n_files; ++f) {
        // as llama.cpp writes shards: the metadata in the first, only the
        // split keys in the others
        std::vector<gguf::KeyValue> file_kvs = f == 0 ? kvs : std::vector<gguf::KeyValue>{};
        std::vector<gguf::TensorInfo> file_tensors;
        for (const Job &j : out.jobs)
            if (j.out_file == f) file_tensors.push_back(j.out);
        if (o_.keep_split) {
            const uint16_t no = static_cast<uint16_t>(f), count = static_cast<uint16_t>(n_files);
            const int32_t total = static_cast<int32_t>(out.jobs.size());
            set_kv(file_kvs, {"split.no", scalar(gguf::ValueType::U16, &no, 2)});
            set_kv(file_kvs, {"split.count", scalar(gguf::ValueType::U16, &count, 2)});
            set_kv(file_kvs, {"split.tensors.count", scalar(gguf::ValueType::I32, &total, 4)});
        }
        out.writers.push_back(
            std::make_unique<gguf::Writer>(out.paths[f], file_kvs, std::move(file_tensors)));
    }
}

// Tensor by tensor, in output order: each output that keeps the tensor's
// type gets a copy; those that convert it share one pass over its rows.
void Run::write_tensors(std::vector<Output> &outputs, lb_progress &progress) const {
    const std::vector<Job> &first = outputs.front().jobs;
    for (size_t ji = 0; ji < first.size(); ++ji) {
        const Model::Tensor &tensor = *first[ji].in;
        const MappedFile &mapping = in_.mapping(tensor.shard);
        progress.tensor_index = ji;
        progress.tensor_name = first[ji].out.name.c_str();
        report(progress);
        mapping.check_size();
        std::vector<Target> targets;
        for (Output &out : outputs) {
            const Job &job = out.jobs[ji];
            gguf::Writer &writer = *out.writers[job.out_file];
            if (job.convert)
                targets.push_back({&job, &writer});
            else
                copy_tensor(tensor, writer);
        }
        if (targets.empty())
            progress.done_elements += static_cast<uint64_t>(tensor.info->n_elements());
        else
            convert_tensor(tensor, targets, progress);
        for (Output &out : outputs) out.writers[out.jobs[ji].out_file]->end_tensor();
        // the input pages of this tensor are not needed again
        mapping.release(tensor.data, tensor.info->size);
    }
    report(progress); // done == total
}

void Run::copy_tensor(const Model::Tensor &tensor, gguf::Writer &writer) const {
    const uint64_t size = tensor.info->size;
    const MappedFile &mapping = in_.mapping(tensor.shard);
    for (uint64_t off = 0; off < size; off += kCopyChunkBytes) {
        writer.write(tensor.data + off, std::min<uint64_t>(kCopyChunkBytes, size - off));
        check_cancelled();
        mapping.check_size();
    }
}

// Chunk by chunk of rows: each row is converted to floats once, checked, and
// quantized into every target's type.
void Run::convert_tensor(const Model::Tensor &tensor, const std::vector<Target> &targets,
                         lb_progress &progress) const {
    const gguf::TensorInfo &t = *tensor.info;
    const std::string &path = in_.path();
    const MappedFile &mapping = in_.mapping(tensor.shard);
    const int n_threads = o_.n_threads > 0 ? o_.n_threads : hardware_threads();
    const kernels::KernelSet &set = kernels::active();
    const formats::SearchKernels &search = set.search;
    const lb_type from = static_cast<lb_type>(t.type);
    const int64_t n_per_row = t.ne[0];
    const int64_t n_rows = n_per_row == 0 ? 0 : t.n_elements() / n_per_row;
    const int64_t rows_per_expert = std::max<int64_t>(1, t.ne[1]);
    const size_t in_row = formats::row_bytes(from, n_per_row);
    const formats::DequantizeRowFn dequantize = kernels::dequantizer(set, from);
    const int64_t chunk_rows = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, n_per_row));
    std::vector<size_t> out_row(targets.size());
    // two sets of chunk buffers: one is written out while the next chunk is
    // quantized into the other
    std::vector<std::vector<uint8_t>> buffers[2];
    for (size_t k = 0; k < targets.size(); ++k) {
        out_row[k] = formats::row_bytes(static_cast<lb_type>(targets[k].job->out.type), n_per_row);
        for (auto &b : buffers)
            b.emplace_back(static_cast<size_t>(std::min(chunk_rows, n_rows)) * out_row[k]);
    }
    // the write of the previous chunk; declared after the buffers, so that
    // leaving early (an exception) waits for it before they go
    std::future<void> writing;
    for (int64_t r0 = 0; r0 < n_rows; r0 += chunk_rows) {
        const int64_t nr = std::min(chunk_rows, n_rows - r0);
        std::vector<std::vector<uint8_t>> &out = buffers[(r0 / chunk_rows) % 2];
        parallel_for(n_threads, nr, 1, [&](int64_t begin, int64_t end) {
            std::vector<float> row(static_cast<size_t>(n_per_row));
            // a file with a small general.alignment can place rows at any
            // address; blocks are read through their structs
            std::vector<float> staged;
            for (int64_t r = begin; r < end; ++r) {
                const int64_t row_index = r0 + r;
                const uint8_t *in_row_data = tensor.data + static_cast<size_t>(row_index) * in_row;
                if (reinterpret_cast<uintptr_t>(in_row_data) % alignof(float) != 0) {
                    staged.resize((in_row + sizeof(float) - 1) / sizeof(float));
                    std::memcpy(staged.data(), in_row_data, in_row);
                    in_row_data = reinterpret_cast<const uint8_t *>(staged.data());
                }
                dequantize(in_row_data, row.data(), n_per_row);
                const int64_t j = set.first_non_finite(row.data(), n_per_row);
                if (j >= 0)
                    fail(LB_E_FORMAT, "%s: tensor '%s' row %lld column %lld holds %s", path.c_str(),
                         t.name.c_str(), static_cast<long long>(row_index), static_cast<long long>(j),
                         std::isnan(row[static_cast<size_t>(j)]) ? "NaN" : "an infinity");
                for (size_t k = 0; k < targets.size(); ++k) {
                    const Job &job = *targets[k].job;
                    // each expert's rows use that expert's importance
                    const float *importance =
                        job.importance == nullptr
                            ? nullptr
                            : job.importance->data() + (row_index / rows_per_expert) * n_per_row;
                    formats::traits(job.out.type)
                        .quantize(row.data(), out[k].data() + static_cast<size_t>(r) * out_row[k], n_per_row,
                                  importance, search);
                }
            }
        });
        if (writing.valid()) writing.get(); // rethrows what the write threw
        writing = std::async(std::launch::async, [&targets, &out, &out_row, nr] {
            for (size_t k = 0; k < targets.size(); ++k)
                targets[k].writer->write(out[k].data(), static_cast<size_t>(nr) * out_row[k]);
        });
        progress.done_elements += static_cast<uint64_t>(nr * n_per_row);
        report(progress);
        mapping.check_size();
    }
    if (writing.valid()) writing.get();
}

std::vector<QuantizeStats> Run::execute(const std::vector<OutputSpec> &specs, std::vector<PlanEntry> &plan) {
    const auto start = std::chrono::steady_clock::now();
    if (specs.empty()) fail(LB_E_INVALID_ARG, "no output file type given");
    std::vector<Output> outputs(specs.size());
    for (size_t k = 0; k < specs.size(); ++k) {
        outputs[k].spec = specs[k];
        outputs[k].paths = paths_of(specs[k].path);
    }
    if (!o_.dry_run) check_paths(outputs);
    select_imatrix_entries();
    facts_ = recipes::model_facts(in_.kvs(), in_.path());
    std::vector<const gguf::TensorInfo *> inputs;
    for (const Model::Tensor &t : in_.tensors()) inputs.push_back(t.info);
    recipes::check_layers(inputs, facts_, in_.path());
    for (size_t k = 0; k < outputs.size(); ++k) {
        // with several outputs, notices name the one they are about
        std::string label;
        if (outputs.size() > 1)
            label =
                std::string(specs[k].only_copy ? "COPY" : recipes::ftype_info(specs[k].ftype)->name) + ": ";
        plan_output(outputs[k], label);
        for (const Job &j : outputs[k].jobs)
            plan.push_back({.name = j.out.name,
                            .input_type = static_cast<lb_type>(j.in->info->type),
                            .type = static_cast<lb_type>(j.out.type),
                            .bytes = j.out.size,
                            .output = k});
    }
    if (!o_.dry_run) {
        check_cancelled();
        for (Output &out : outputs) open_writers(out);
        lb_progress progress{LB_PROGRESS_VERSION,         0, outputs.front().stats.elements, 0,
                             outputs.front().jobs.size(), ""};
        write_tensors(outputs, progress);
        for (Output &out : outputs)
            for (auto &w : out.writers) {
                out.stats.output_file_bytes += w->finish();
                ++out.stats.output_files;
            }
        for (Output &out : outputs)
            for (auto &w : out.writers) w->publish();
    }
    const uint64_t elapsed = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
            .count());
    std::vector<QuantizeStats> stats;
    for (Output &out : outputs) {
        out.stats.elapsed_us = elapsed;
        stats.push_back(out.stats);
    }
    return stats;
}

} // namespace

QuantizeStats Quantizer::run(const Model &in, const std::string &out_path) {
    return run(in, {{.ftype = options.plan.ftype, .only_copy = options.plan.only_copy, .path = out_path}})
        .front();
}

std::vector<QuantizeStats> Quantizer::run(const Model &in, const std::vector<OutputSpec> &outputs) {
    cancelled_.store(false, std::memory_order_relaxed);
    plan_.clear();
    return Run(options, in, cancelled_).execute(outputs, plan_);
}

} // namespace lb
