// lowbit info FILE [--json]: metadata and tensor table of a GGUF file.
// lowbit info --cpu [--json]: the CPU's features and the kernel sets.
#include "commands.hpp"
#include "json.hpp"
#include "kernels_info.hpp"
#include "lowbit/lowbit.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

namespace cli {

namespace {

// One element of a numeric array (or the scalar) as text.
std::string number_text(lb_value_type type, const void *p) {
    char buf[64];
    switch (type) {
    case LB_VALUE_U8: std::snprintf(buf, sizeof buf, "%u", *static_cast<const uint8_t *>(p)); break;
    case LB_VALUE_I8: std::snprintf(buf, sizeof buf, "%d", *static_cast<const int8_t *>(p)); break;
    case LB_VALUE_U16: std::snprintf(buf, sizeof buf, "%u", *static_cast<const uint16_t *>(p)); break;
    case LB_VALUE_I16: std::snprintf(buf, sizeof buf, "%d", *static_cast<const int16_t *>(p)); break;
    case LB_VALUE_U32: std::snprintf(buf, sizeof buf, "%" PRIu32, *static_cast<const uint32_t *>(p)); break;
    case LB_VALUE_I32: std::snprintf(buf, sizeof buf, "%" PRId32, *static_cast<const int32_t *>(p)); break;
    case LB_VALUE_U64: std::snprintf(buf, sizeof buf, "%" PRIu64, *static_cast<const uint64_t *>(p)); break;
    case LB_VALUE_I64: std::snprintf(buf, sizeof buf, "%" PRId64, *static_cast<const int64_t *>(p)); break;
    case LB_VALUE_F32: return json_number(*static_cast<const float *>(p), 9);
    case LB_VALUE_F64: return json_number(*static_cast<const double *>(p), 17);
    case LB_VALUE_BOOL: return *static_cast<const uint8_t *>(p) ? "true" : "false";
    default: return "?";
    }
    return buf;
}

size_t element_size(lb_value_type t) {
    switch (t) {
    case LB_VALUE_U8:
    case LB_VALUE_I8:
    case LB_VALUE_BOOL: return 1;
    case LB_VALUE_U16:
    case LB_VALUE_I16: return 2;
    case LB_VALUE_U32:
    case LB_VALUE_I32:
    case LB_VALUE_F32: return 4;
    default: return 8;
    }
}

// Text mode shows strings up to this length and arrays up to this many items.
constexpr size_t kShortString = 60;
constexpr uint64_t kShortArray = 8;

std::string short_string(const char *s, size_t len) {
    if (len <= kShortString) return json_string(s, len);
    return json_string(s, kShortString) + "...";
}

// The value of metadata pair i, as JSON (full) or as text (abbreviated).
std::string value_text(const lb_model *m, size_t i, bool json) {
    const lb_value_type type = lb_model_kv_type(m, i);
    if (type == LB_VALUE_STRING) {
        const char *s;
        size_t len;
        lb_model_kv_get_string(&s, &len, m, i);
        return json ? json_string(s, len) : short_string(s, len);
    }
    if (type != LB_VALUE_ARRAY) {
        if (type == LB_VALUE_F32 || type == LB_VALUE_F64) {
            double v;
            lb_model_kv_get_float(&v, m, i);
            return json_number(v, type == LB_VALUE_F32 ? 9 : 17);
        }
        if (type == LB_VALUE_BOOL) {
            int b;
            lb_model_kv_get_bool(&b, m, i);
            return b ? "true" : "false";
        }
        int64_t v;
        if (lb_model_kv_get_int(&v, m, i) == LB_OK) return std::to_string(v);
        uint64_t u;
        lb_model_kv_get_uint(&u, m, i);
        return std::to_string(u);
    }
    lb_value_type et;
    uint64_t count;
    lb_model_kv_get_array_info(&et, &count, m, i);
    const uint64_t shown = json ? count : std::min(count, kShortArray);
    std::string out = "[";
    if (et == LB_VALUE_STRING) {
        for (uint64_t j = 0; j < shown; ++j) {
            const char *s;
            size_t len;
            lb_model_kv_get_array_string(&s, &len, m, i, j);
            if (j > 0) out += ", ";
            out += json ? json_string(s, len) : short_string(s, len);
        }
    } else {
        const void *data;
        lb_model_kv_get_array_data(&data, m, i);
        const size_t es = element_size(et);
        for (uint64_t j = 0; j < shown; ++j) {
            if (j > 0) out += ", ";
            out += number_text(et, static_cast<const uint8_t *>(data) + j * es);
        }
    }
    if (shown < count) out += ", ... (" + std::to_string(count) + " items)";
    return out + "]";
}

std::string type_text(const lb_model *m, size_t i) {
    const lb_value_type type = lb_model_kv_type(m, i);
    if (type != LB_VALUE_ARRAY) return lb_value_type_name(type);
    lb_value_type et;
    uint64_t count;
    lb_model_kv_get_array_info(&et, &count, m, i);
    return std::string("arr[") + lb_value_type_name(et) + "]";
}

std::string shape_text(const lb_model *m, size_t i, bool json) {
    std::string out = json ? "[" : "";
    for (uint32_t d = 0; d < lb_model_tensor_n_dims(m, i); ++d) {
        if (d > 0) out += json ? ", " : " x ";
        out += std::to_string(lb_model_tensor_dim(m, i, d));
    }
    return json ? out + "]" : out;
}

void print_json(const lb_model *m) {
    std::printf("{\n  \"path\": %s,\n", json_string(lb_model_path(m)).c_str());
    std::printf("  \"gguf_version\": %u,\n  \"alignment\": %u,\n", lb_model_gguf_version(m),
                lb_model_alignment(m));
    std::printf("  \"file_size\": %" PRIu64 ",\n  \"data_offset\": %" PRIu64 ",\n", lb_model_file_size(m),
                lb_model_data_offset(m));
    std::printf("  \"metadata\": [");
    for (size_t i = 0; i < lb_model_kv_count(m); ++i) {
        const lb_value_type type = lb_model_kv_type(m, i);
        std::printf("%s\n    {\"key\": %s, \"type\": \"%s\"", i > 0 ? "," : "",
                    json_string(lb_model_kv_key(m, i)).c_str(), lb_value_type_name(type));
        if (type == LB_VALUE_ARRAY) {
            lb_value_type et;
            uint64_t count;
            lb_model_kv_get_array_info(&et, &count, m, i);
            std::printf(", \"element_type\": \"%s\", \"count\": %" PRIu64, lb_value_type_name(et), count);
        }
        std::printf(", \"value\": %s}", value_text(m, i, true).c_str());
    }
    std::printf("\n  ],\n  \"tensors\": [");
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        std::printf("%s\n    {\"name\": %s, \"type\": \"%s\", \"shape\": %s, \"offset\": %" PRIu64
                    ", \"size\": %" PRIu64 "}",
                    i > 0 ? "," : "", json_string(lb_model_tensor_name(m, i)).c_str(),
                    lb_type_name(lb_model_tensor_type(m, i)), shape_text(m, i, true).c_str(),
                    lb_model_tensor_file_offset(m, i), lb_model_tensor_size(m, i));
    }
    std::printf("\n  ]\n}\n");
}

void print_text(const lb_model *m) {
    std::printf("file:      %s\n", lb_model_path(m));
    if (lb_model_is_checkpoint(m))
        std::printf(
            "format:    Hugging Face checkpoint, %zu safetensors file(s), read as the GGUF file lowbit "
            "convert --outtype f32 writes\n",
            lb_model_shard_count(m));
    else
        std::printf("format:    GGUF version %u, alignment %u, %" PRIu64
                    " bytes, tensor data at offset %" PRIu64 "\n",
                    lb_model_gguf_version(m), lb_model_alignment(m), lb_model_file_size(m),
                    lb_model_data_offset(m));
    std::printf("metadata:  %zu keys\n", lb_model_kv_count(m));
    for (size_t i = 0; i < lb_model_kv_count(m); ++i)
        std::printf("  %-44s %-9s %s\n", lb_model_kv_key(m, i), type_text(m, i).c_str(),
                    value_text(m, i, false).c_str());
    uint64_t elements = 0, bytes = 0;
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        elements += static_cast<uint64_t>(lb_model_tensor_n_elements(m, i));
        bytes += lb_model_tensor_size(m, i);
    }
    std::printf("tensors:   %zu, %" PRIu64 " weights, %" PRIu64 " bytes (%.2f bits per weight)\n",
                lb_model_tensor_count(m), elements, bytes,
                elements > 0 ? 8.0 * static_cast<double>(bytes) / static_cast<double>(elements) : 0.0);
    std::printf("  %5s  %-40s %-8s %-24s %12s %12s\n", "#", "name", "type", "shape", "offset", "bytes");
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i)
        std::printf("  %5zu  %-40s %-8s %-24s %12" PRIu64 " %12" PRIu64 "\n", i, lb_model_tensor_name(m, i),
                    lb_type_name(lb_model_tensor_type(m, i)), shape_text(m, i, false).c_str(),
                    lb_model_tensor_file_offset(m, i), lb_model_tensor_size(m, i));
}

} // namespace

int cmd_info(const Args &args) {
    std::string path;
    bool json = false, cpu = false;
    for (const std::string &a : args) {
        if (a == "--json")
            json = true;
        else if (a == "--cpu")
            cpu = true;
        else if (a == "-h" || a == "--help") {
            std::printf(
                "usage: lowbit info FILE [--json]\n       lowbit info --cpu [--json]\n\nPrints the "
                "metadata and the tensor table of a GGUF file (or a Hugging Face checkpoint), or with "
                "--cpu\nthe CPU's instruction-set extensions, the kernel sets of the library and the "
                "one in use\n(the fastest this CPU runs; the environment variable LOWBIT_KERNELS "
                "forces another).\n");
            return 0;
        } else if (a.size() > 1 && a[0] == '-')
            return error("info: unknown option '" + a + "'");
        else if (path.empty())
            path = a;
        else
            return error("info: more than one file given ('" + path + "' and '" + a + "')");
    }
    if (cpu && !path.empty()) return error("info: --cpu takes no file ('" + path + "' given)");
    if (cpu) return print_cpu_info(json);
    if (path.empty()) return error("info: no file given (usage: lowbit info FILE [--json] or --cpu)");
    lb_model *m = open_model(path);
    if (m == nullptr) return 1;
    if (json)
        print_json(m);
    else
        print_text(m);
    lb_model_close(m);
    return 0;
}

} // namespace cli
