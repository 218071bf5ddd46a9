// lb_quantizer: a quantization job.
#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "formats/type_traits.hpp"
#include "imatrix/imatrix.hpp"
#include "recipes/ftype.hpp"

#include <algorithm>
#include <regex>

using lb::fail;
using lb::capi::guard;
using lb::capi::require;

extern "C" {

const char *lb_ftype_name(lb_ftype ftype) {
    const lb::recipes::FtypeInfo *f = lb::recipes::ftype_info(ftype);
    return f != nullptr ? f->name : nullptr;
}

lb_status lb_ftype_from_name(lb_ftype *out, const char *name) {
    return guard([&] {
        require(out, "lb_ftype_from_name", "out");
        require(name, "lb_ftype_from_name", "name");
        const lb::recipes::FtypeInfo *f = lb::recipes::ftype_from_name(name);
        if (f == nullptr) fail(LB_E_INVALID_ARG, "'%s' is not a quantization type", name);
        *out = f->id;
    });
}

int lb_ftype_is_supported(lb_ftype ftype) {
    return lb::recipes::ftype_supported(ftype) ? 1 : 0;
}

lb_type lb_ftype_default_type(lb_ftype ftype) {
    const lb::recipes::FtypeInfo *f = lb::recipes::ftype_info(ftype);
    return f != nullptr ? f->default_type : LB_TYPE_NONE;
}

lb_status lb_quantizer_new(lb_quantizer **out) {
    return guard([&] {
        require(out, "lb_quantizer_new", "out");
        *out = new lb_quantizer();
    });
}

void lb_quantizer_free(lb_quantizer *quantizer) {
    delete quantizer;
}

namespace {

// Refuses a number that is no file type (naming `what`, the argument), and a
// file type this build cannot write.
void require_ftype(lb_ftype ftype, const std::string &what) {
    const lb::recipes::FtypeInfo *f = lb::recipes::ftype_info(ftype);
    if (f == nullptr)
        fail(LB_E_INVALID_ARG, "%s = %d is not a file type", what.c_str(), static_cast<int>(ftype));
    if (f->refused != nullptr)
        fail(LB_E_UNSUPPORTED, "file type %s is not a quantization target: %s", f->name, f->refused);
    if (!lb::recipes::ftype_supported(ftype))
        fail(LB_E_UNSUPPORTED, "quantization type %s is not implemented in this build of lowbit", f->name);
}

} // namespace

lb_status lb_quantizer_set_ftype(lb_quantizer *quantizer, lb_ftype ftype) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_ftype", "quantizer");
        require_ftype(ftype, "lb_quantizer_set_ftype: ftype");
        quantizer->job.options.plan.ftype = ftype;
    });
}

lb_status lb_quantizer_set_threads(lb_quantizer *quantizer, int n_threads) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_threads", "quantizer");
        if (n_threads < 0 || n_threads > 1024)
            fail(LB_E_INVALID_ARG, "lb_quantizer_set_threads: %d threads is not in [0, 1024]", n_threads);
        quantizer->job.options.n_threads = n_threads;
    });
}

lb_status lb_quantizer_set_allow_requantize(lb_quantizer *quantizer, int allow) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_allow_requantize", "quantizer");
        quantizer->job.options.allow_requantize = allow != 0;
    });
}

lb_status lb_quantizer_set_progress(lb_quantizer *quantizer, lb_progress_fn fn, void *user) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_progress", "quantizer");
        quantizer->job.options.progress = fn;
        quantizer->job.options.progress_user = user;
    });
}

lb_status lb_quantizer_set_log(lb_quantizer *quantizer, lb_log_fn fn, void *user) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_log", "quantizer");
        quantizer->job.options.log = fn;
        quantizer->job.options.log_user = user;
    });
}

void lb_quantizer_cancel(lb_quantizer *quantizer) {
    if (quantizer != nullptr) quantizer->job.cancel();
}

// A type a user may choose for tensors: one lowbit can produce.
static void check_output_type(lb_type type, const char *fn, bool allow_default) {
    if (allow_default && type == LB_TYPE_NONE) return;
    const lb::formats::TypeTraits &t = lb::formats::traits(static_cast<uint32_t>(type));
    if (t.block_size == 0) fail(LB_E_INVALID_ARG, "%s: %d is not a tensor type", fn, static_cast<int>(type));
    if (t.quantize == nullptr) fail(LB_E_UNSUPPORTED, "%s: lowbit cannot produce type %s", fn, t.name);
}

lb_status lb_quantizer_set_imatrix(lb_quantizer *quantizer, const char *path) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_imatrix", "quantizer");
        if (path == nullptr) {
            quantizer->job.options.imatrix.reset();
            return;
        }
        const lb::imatrix::Imatrix m = lb::imatrix::read(path);
        auto data = std::make_shared<lb::ImportanceData>();
        data->path = path;
        data->datasets = m.datasets;
        data->chunk_count = m.chunk_count;
        data->means = lb::imatrix::means(m);
        quantizer->job.options.imatrix = std::move(data);
    });
}

lb_status lb_quantizer_add_imatrix_filter(lb_quantizer *quantizer, int include, const char *name) {
    return guard([&] {
        require(quantizer, "lb_quantizer_add_imatrix_filter", "quantizer");
        require(name, "lb_quantizer_add_imatrix_filter", "name");
        lb::QuantizeOptions &o = quantizer->job.options;
        if ((include ? o.imatrix_exclude : o.imatrix_include).size() > 0)
            fail(LB_E_INVALID_ARG, "--include-weights and --exclude-weights cannot be used together");
        (include ? o.imatrix_include : o.imatrix_exclude).push_back(name);
    });
}

lb_status lb_quantizer_set_output_tensor_type(lb_quantizer *quantizer, lb_type type) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_output_tensor_type", "quantizer");
        check_output_type(type, "lb_quantizer_set_output_tensor_type", true);
        quantizer->job.options.plan.output_type = type;
    });
}

lb_status lb_quantizer_set_token_embedding_type(lb_quantizer *quantizer, lb_type type) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_token_embedding_type", "quantizer");
        check_output_type(type, "lb_quantizer_set_token_embedding_type", true);
        quantizer->job.options.plan.token_embd_type = type;
    });
}

lb_status lb_quantizer_add_tensor_type(lb_quantizer *quantizer, const char *pattern, lb_type type) {
    return guard([&] {
        require(quantizer, "lb_quantizer_add_tensor_type", "quantizer");
        require(pattern, "lb_quantizer_add_tensor_type", "pattern");
        check_output_type(type, "lb_quantizer_add_tensor_type", false);
        std::regex re;
        try {
            re = std::regex(pattern);
        } catch (const std::regex_error &e) {
            fail(LB_E_INVALID_ARG, "--tensor-type: '%s' is not a valid regular expression: %s", pattern,
                 e.what());
        }
        quantizer->job.options.plan.tensor_types.push_back({pattern, std::move(re), type});
    });
}

#define LB_FLAG_SETTER(function, field)                                                                      \
    lb_status function(lb_quantizer *quantizer, int value) {                                                 \
        return guard([&] {                                                                                   \
            require(quantizer, #function, "quantizer");                                                      \
            quantizer->job.options.field = value != 0;                                                       \
        });                                                                                                  \
    }

LB_FLAG_SETTER(lb_quantizer_set_pure, plan.pure)
LB_FLAG_SETTER(lb_quantizer_set_quantize_output, plan.quantize_output)
LB_FLAG_SETTER(lb_quantizer_set_only_copy, plan.only_copy)
LB_FLAG_SETTER(lb_quantizer_set_keep_split, keep_split)
LB_FLAG_SETTER(lb_quantizer_set_dry_run, dry_run)

lb_status lb_quantizer_add_kv_override(lb_quantizer *quantizer, const char *spec) {
    return guard([&] {
        require(quantizer, "lb_quantizer_add_kv_override", "quantizer");
        require(spec, "lb_quantizer_add_kv_override", "spec");
        quantizer->job.options.kv_overrides.push_back(lb::parse_kv_override(spec));
    });
}

lb_status lb_quantizer_set_prune_layers(lb_quantizer *quantizer, const int32_t *layers, size_t n) {
    return guard([&] {
        require(quantizer, "lb_quantizer_set_prune_layers", "quantizer");
        if (n > 0) require(layers, "lb_quantizer_set_prune_layers", "layers");
        std::vector<int> list;
        for (size_t i = 0; i < n; ++i) {
            if (layers[i] < 0) fail(LB_E_INVALID_ARG, "--prune-layers: layer %d is negative", layers[i]);
            list.push_back(layers[i]);
        }
        std::sort(list.begin(), list.end());
        list.erase(std::unique(list.begin(), list.end()), list.end());
        quantizer->job.options.prune_layers = std::move(list);
    });
}

lb_status lb_quantizer_run(lb_quantizer *quantizer, const lb_model *model, const char *out_path) {
    return guard([&] {
        require(quantizer, "lb_quantizer_run", "quantizer");
        require(model, "lb_quantizer_run", "model");
        require(out_path, "lb_quantizer_run", "out_path");
        quantizer->stats.clear();
        quantizer->stats = {quantizer->job.run(*model->model, out_path)};
    });
}

lb_status lb_quantizer_run_many(lb_quantizer *quantizer, const lb_model *model, const lb_ftype *ftypes,
                                const char *const *out_paths, size_t n) {
    return guard([&] {
        require(quantizer, "lb_quantizer_run_many", "quantizer");
        require(model, "lb_quantizer_run_many", "model");
        if (n == 0) fail(LB_E_INVALID_ARG, "lb_quantizer_run_many: no outputs (n is 0)");
        require(ftypes, "lb_quantizer_run_many", "ftypes");
        require(out_paths, "lb_quantizer_run_many", "out_paths");
        std::vector<lb::OutputSpec> outputs;
        for (size_t k = 0; k < n; ++k) {
            require_ftype(ftypes[k], lb::strformat("lb_quantizer_run_many: ftypes[%zu]", k));
            if (out_paths[k] == nullptr)
                fail(LB_E_INVALID_ARG, "lb_quantizer_run_many: out_paths[%zu] is NULL", k);
            outputs.push_back({.ftype = ftypes[k], .only_copy = false, .path = out_paths[k]});
        }
        quantizer->stats.clear();
        quantizer->stats = quantizer->job.run(*model->model, outputs);
    });
}

size_t lb_quantizer_output_count(const lb_quantizer *quantizer) {
    return quantizer != nullptr ? quantizer->stats.size() : 0;
}

size_t lb_quantizer_plan_output(const lb_quantizer *quantizer, size_t i) {
    return quantizer != nullptr && i < quantizer->job.plan().size() ? quantizer->job.plan()[i].output : 0;
}

size_t lb_quantizer_plan_count(const lb_quantizer *quantizer) {
    return quantizer != nullptr ? quantizer->job.plan().size() : 0;
}

const char *lb_quantizer_plan_name(const lb_quantizer *quantizer, size_t i) {
    return quantizer != nullptr && i < quantizer->job.plan().size() ? quantizer->job.plan()[i].name.c_str()
                                                                    : nullptr;
}

lb_type lb_quantizer_plan_input_type(const lb_quantizer *quantizer, size_t i) {
    return quantizer != nullptr && i < quantizer->job.plan().size() ? quantizer->job.plan()[i].input_type
                                                                    : LB_TYPE_NONE;
}

lb_type lb_quantizer_plan_type(const lb_quantizer *quantizer, size_t i) {
    return quantizer != nullptr && i < quantizer->job.plan().size() ? quantizer->job.plan()[i].type
                                                                    : LB_TYPE_NONE;
}

uint64_t lb_quantizer_plan_bytes(const lb_quantizer *quantizer, size_t i) {
    return quantizer != nullptr && i < quantizer->job.plan().size() ? quantizer->job.plan()[i].bytes : 0;
}

namespace {

uint64_t stat_of(const lb::QuantizeStats &s, lb_stat stat) {
    switch (stat) {
    case LB_STAT_TENSORS: return s.tensors;
    case LB_STAT_QUANTIZED: return s.quantized;
    case LB_STAT_FALLBACKS: return s.fallbacks;
    case LB_STAT_ELEMENTS: return s.elements;
    case LB_STAT_INPUT_BYTES: return s.input_bytes;
    case LB_STAT_OUTPUT_BYTES: return s.output_bytes;
    case LB_STAT_OUTPUT_FILE_BYTES: return s.output_file_bytes;
    case LB_STAT_ELAPSED_US: return s.elapsed_us;
    case LB_STAT_OUTPUT_FILES: return s.output_files;
    case LB_STAT_FORCE_INT32: break;
    }
    return 0;
}

} // namespace

uint64_t lb_quantizer_output_stat(const lb_quantizer *quantizer, size_t output, lb_stat stat) {
    if (quantizer == nullptr || output >= quantizer->stats.size()) return 0;
    return stat_of(quantizer->stats[output], stat);
}

uint64_t lb_quantizer_stat(const lb_quantizer *quantizer, lb_stat stat) {
    if (quantizer == nullptr || quantizer->stats.empty()) return 0;
    // one output: its figures; several: their sums, and the run's wall time
    if (stat == LB_STAT_ELAPSED_US) return stat_of(quantizer->stats.front(), stat);
    uint64_t total = 0;
    for (const lb::QuantizeStats &s : quantizer->stats) total += stat_of(s, stat);
    return total;
}

} // extern "C"
