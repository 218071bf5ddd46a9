// lb_model: a GGUF file opened for reading.
#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "model/repack.hpp"

#include <cstring>
#include <limits>

using lb::fail;
using lb::capi::guard;
using lb::capi::require;
namespace gguf = lb::gguf;

namespace {

const gguf::Value &value_at(const lb_model *model, size_t i, const char *fn) {
    require(model, fn, "model");
    const auto &kvs = model->model->kvs();
    if (i >= kvs.size())
        fail(LB_E_INVALID_ARG, "%s: index %zu is out of range (%zu keys)", fn, i, kvs.size());
    return kvs[i].value;
}

const std::string &key_at(const lb_model *model, size_t i) {
    return model->model->kvs()[i].key;
}

[[noreturn]] void wrong_type(const lb_model *model, size_t i, const char *wanted) {
    const gguf::Value &v = model->model->kvs()[i].value;
    fail(LB_E_TYPE, "%s: key '%s' has type %s%s%s, not %s", model->model->path().c_str(),
         key_at(model, i).c_str(), gguf::value_type_name(static_cast<uint32_t>(v.type)),
         v.is_array() ? " of " : "",
         v.is_array() ? gguf::value_type_name(static_cast<uint32_t>(v.elem_type)) : "", wanted);
}

template <typename T> T load(const gguf::Value &v) {
    T x;
    std::memcpy(&x, v.bytes.data(), sizeof x);
    return x;
}

// Integer or bool scalar as (negative?, magnitude).
bool read_integer(const gguf::Value &v, bool *negative, uint64_t *magnitude) {
    int64_t s = 0;
    uint64_t u = 0;
    bool is_signed = true;
    switch (v.type) {
    case gguf::ValueType::U8:
    case gguf::ValueType::BOOL: u = load<uint8_t>(v), is_signed = false; break;
    case gguf::ValueType::U16: u = load<uint16_t>(v), is_signed = false; break;
    case gguf::ValueType::U32: u = load<uint32_t>(v), is_signed = false; break;
    case gguf::ValueType::U64: u = load<uint64_t>(v), is_signed = false; break;
    case gguf::ValueType::I8: s = load<int8_t>(v); break;
    case gguf::ValueType::I16: s = load<int16_t>(v); break;
    case gguf::ValueType::I32: s = load<int32_t>(v); break;
    case gguf::ValueType::I64: s = load<int64_t>(v); break;
    default: return false;
    }
    if (is_signed) {
        *negative = s < 0;
        *magnitude = s < 0 ? static_cast<uint64_t>(-(s + 1)) + 1 : static_cast<uint64_t>(s);
    } else {
        *negative = false;
        *magnitude = u;
    }
    return true;
}

const lb::Model::Tensor *tensor_at(const lb_model *model, size_t i) {
    if (model == nullptr || i >= model->model->tensors().size()) return nullptr;
    return &model->model->tensors()[i];
}

} // namespace

extern "C" {

lb_status lb_model_open(lb_model **out, const char *path) {
    return guard([&] {
        require(out, "lb_model_open", "out");
        require(path, "lb_model_open", "path");
        auto model = std::make_unique<lb_model>();
        model->model = std::make_unique<lb::Model>(path);
        *out = model.release();
    });
}

lb_status lb_model_repack(const lb_model *model, const char *path, const char *layout,
                          uint64_t *tensors_tiled) {
    return guard([&] {
        require(model, "lb_model_repack", "model");
        require(path, "lb_model_repack", "path");
        require(layout, "lb_model_repack", "layout");
        lb::formats::Layout l;
        if (!lb::formats::find_layout(layout, &l))
            lb::fail(LB_E_INVALID_ARG, "lb_model_repack: unknown layout '%s' (standard, q4_k_4 or q8r16)",
                     layout);
        const lb::RepackResult r = lb::write_repacked(*model->model, path, l);
        if (tensors_tiled != nullptr) *tensors_tiled = r.tensors_tiled;
    });
}

void lb_model_close(lb_model *model) {
    delete model;
}

const char *lb_model_path(const lb_model *model) {
    return model != nullptr ? model->model->path().c_str() : nullptr;
}

uint32_t lb_model_gguf_version(const lb_model *model) {
    return model != nullptr ? model->model->header().version : 0;
}

uint32_t lb_model_alignment(const lb_model *model) {
    return model != nullptr ? model->model->header().alignment : 0;
}

uint64_t lb_model_file_size(const lb_model *model) {
    return model != nullptr ? model->model->mapping(0).size() : 0;
}

uint64_t lb_model_data_offset(const lb_model *model) {
    return model != nullptr ? model->model->header().data_offset : 0;
}

size_t lb_model_shard_count(const lb_model *model) {
    return model != nullptr ? model->model->shard_count() : 0;
}

int lb_model_is_checkpoint(const lb_model *model) {
    return model != nullptr && model->model->is_checkpoint() ? 1 : 0;
}

const char *lb_value_type_name(lb_value_type type) {
    return gguf::value_type_name(static_cast<uint32_t>(type));
}

size_t lb_model_kv_count(const lb_model *model) {
    return model != nullptr ? model->model->kvs().size() : 0;
}

const char *lb_model_kv_key(const lb_model *model, size_t i) {
    if (model == nullptr || i >= model->model->kvs().size()) return nullptr;
    return key_at(model, i).c_str();
}

lb_status lb_model_kv_find(size_t *out, const lb_model *model, const char *key) {
    return guard([&] {
        require(out, "lb_model_kv_find", "out");
        require(model, "lb_model_kv_find", "model");
        require(key, "lb_model_kv_find", "key");
        const long i = gguf::find_key(model->model->kvs(), key);
        if (i < 0) fail(LB_E_NOT_FOUND, "%s: no key '%s'", model->model->path().c_str(), key);
        *out = static_cast<size_t>(i);
    });
}

lb_value_type lb_model_kv_type(const lb_model *model, size_t i) {
    if (model == nullptr || i >= model->model->kvs().size()) return static_cast<lb_value_type>(-1);
    return static_cast<lb_value_type>(model->model->kvs()[i].value.type);
}

lb_status lb_model_kv_get_int(int64_t *out, const lb_model *model, size_t i) {
    return guard([&] {
        require(out, "lb_model_kv_get_int", "out");
        const gguf::Value &v = value_at(model, i, "lb_model_kv_get_int");
        bool neg;
        uint64_t mag;
        if (!read_integer(v, &neg, &mag)) wrong_type(model, i, "an integer");
        if (!neg && mag > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            fail(LB_E_TYPE, "%s: key '%s' holds %llu, which does not fit a signed 64-bit integer",
                 model->model->path().c_str(), key_at(model, i).c_str(),
                 static_cast<unsigned long long>(mag));
        *out = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
    });
}

lb_status lb_model_kv_get_uint(uint64_t *out, const lb_model *model, size_t i) {
    return guard([&] {
        require(out, "lb_model_kv_get_uint", "out");
        const gguf::Value &v = value_at(model, i, "lb_model_kv_get_uint");
        bool neg;
        uint64_t mag;
        if (!read_integer(v, &neg, &mag)) wrong_type(model, i, "an integer");
        if (neg)
            fail(LB_E_TYPE, "%s: key '%s' holds a negative value", model->model->path().c_str(),
                 key_at(model, i).c_str());
        *out = mag;
    });
}

lb_status lb_model_kv_get_float(double *out, const lb_model *model, size_t i) {
    return guard([&] {
        require(out, "lb_model_kv_get_float", "out");
        const gguf::Value &v = value_at(model, i, "lb_model_kv_get_float");
        if (v.type == gguf::ValueType::F32)
            *out = load<float>(v);
        else if (v.type == gguf::ValueType::F64)
            *out = load<double>(v);
        else
            wrong_type(model, i, "f32 or f64");
    });
}

lb_status lb_model_kv_get_bool(int *out, const lb_model *model, size_t i) {
    return guard([&] {
        require(out, "lb_model_kv_get_bool", "out");
        const gguf::Value &v = value_at(model, i, "lb_model_kv_get_bool");
        if (v.type != gguf::ValueType::BOOL) wrong_type(model, i, "bool");
        *out = v.bytes[0] != 0;
    });
}

lb_status lb_model_kv_get_string(const char **out, size_t *len, const lb_model *model, size_t i) {
    return guard([&] {
        require(out, "lb_model_kv_get_string", "out");
        const gguf::Value &v = value_at(model, i, "lb_model_kv_get_string");
        if (v.type != gguf::ValueType::STRING) wrong_type(model, i, "str");
        *out = v.strings[0].c_str();
        if (len != nullptr) *len = v.strings[0].size();
    });
}

lb_status lb_model_kv_get_array_info(lb_value_type *out_type, uint64_t *out_count, const lb_model *model,
                                     size_t i) {
    return guard([&] {
        require(out_type, "lb_model_kv_get_array_info", "out_type");
        require(out_count, "lb_model_kv_get_array_info", "out_count");
        const gguf::Value &v = value_at(model, i, "lb_model_kv_get_array_info");
        if (!v.is_array()) wrong_type(model, i, "arr");
        *out_type = static_cast<lb_value_type>(v.elem_type);
        *out_count = v.count;
    });
}

lb_status lb_model_kv_get_array_data(const void **out, const lb_model *model, size_t i) {
    return guard([&] {
        require(out, "lb_model_kv_get_array_data", "out");
        const gguf::Value &v = value_at(model, i, "lb_model_kv_get_array_data");
        if (!v.is_array() || v.elem_type == gguf::ValueType::STRING) wrong_type(model, i, "a numeric array");
        *out = v.bytes.data();
    });
}

lb_status lb_model_kv_get_array_string(const char **out, size_t *len, const lb_model *model, size_t i,
                                       uint64_t j) {
    return guard([&] {
        require(out, "lb_model_kv_get_array_string", "out");
        const gguf::Value &v = value_at(model, i, "lb_model_kv_get_array_string");
        if (!v.is_array() || v.elem_type != gguf::ValueType::STRING) wrong_type(model, i, "an array of str");
        if (j >= v.count)
            fail(LB_E_INVALID_ARG,
                 "lb_model_kv_get_array_string: element %llu is out of range (key '%s' has %llu)",
                 static_cast<unsigned long long>(j), key_at(model, i).c_str(),
                 static_cast<unsigned long long>(v.count));
        *out = v.strings[j].c_str();
        if (len != nullptr) *len = v.strings[j].size();
    });
}

size_t lb_model_tensor_count(const lb_model *model) {
    return model != nullptr ? model->model->tensors().size() : 0;
}

lb_status lb_model_tensor_find(size_t *out, const lb_model *model, const char *name) {
    return guard([&] {
        require(out, "lb_model_tensor_find", "out");
        require(model, "lb_model_tensor_find", "model");
        require(name, "lb_model_tensor_find", "name");
        const auto &ts = model->model->tensors();
        for (size_t i = 0; i < ts.size(); ++i)
            if (ts[i].info->name == name) {
                *out = i;
                return;
            }
        fail(LB_E_NOT_FOUND, "%s: no tensor '%s'", model->model->path().c_str(), name);
    });
}

const char *lb_model_tensor_name(const lb_model *model, size_t i) {
    const lb::Model::Tensor *t = tensor_at(model, i);
    return t != nullptr ? t->info->name.c_str() : nullptr;
}

lb_type lb_model_tensor_type(const lb_model *model, size_t i) {
    const lb::Model::Tensor *t = tensor_at(model, i);
    return t != nullptr ? static_cast<lb_type>(t->info->type) : LB_TYPE_NONE;
}

uint32_t lb_model_tensor_n_dims(const lb_model *model, size_t i) {
    const lb::Model::Tensor *t = tensor_at(model, i);
    return t != nullptr ? t->info->n_dims : 0;
}

int64_t lb_model_tensor_dim(const lb_model *model, size_t i, uint32_t d) {
    const lb::Model::Tensor *t = tensor_at(model, i);
    if (t == nullptr) return 0;
    return d < gguf::kMaxDims ? t->info->ne[d] : 1;
}

int64_t lb_model_tensor_n_elements(const lb_model *model, size_t i) {
    const lb::Model::Tensor *t = tensor_at(model, i);
    return t != nullptr ? t->info->n_elements() : 0;
}

size_t lb_model_tensor_shard(const lb_model *model, size_t i) {
    const lb::Model::Tensor *t = tensor_at(model, i);
    return t != nullptr ? t->shard : 0;
}

uint64_t lb_model_tensor_file_offset(const lb_model *model, size_t i) {
    const lb::Model::Tensor *t = tensor_at(model, i);
    return t != nullptr ? model->model->file_offset(*t) : 0;
}

uint64_t lb_model_tensor_size(const lb_model *model, size_t i) {
    const lb::Model::Tensor *t = tensor_at(model, i);
    return t != nullptr ? t->info->size : 0;
}

lb_status lb_model_tensor_data(const void **out, uint64_t *size, const lb_model *model, size_t i) {
    return guard([&] {
        require(out, "lb_model_tensor_data", "out");
        require(model, "lb_model_tensor_data", "model");
        const lb::Model::Tensor *t = tensor_at(model, i);
        if (t == nullptr)
            fail(LB_E_INVALID_ARG, "lb_model_tensor_data: index %zu is out of range (%zu tensors)", i,
                 model->model->tensors().size());
        *out = t->data;
        if (size != nullptr) *size = t->info->size;
    });
}

size_t lb_model_warning_count(const lb_model *model) {
    return model != nullptr ? model->model->warnings().size() : 0;
}

const char *lb_model_warning(const lb_model *model, size_t i) {
    if (model == nullptr || i >= model->model->warnings().size()) return nullptr;
    return model->model->warnings()[i].c_str();
}

} // extern "C"
