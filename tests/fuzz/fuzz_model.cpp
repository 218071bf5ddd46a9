// Fuzz target: any bytes as a GGUF model through the public API. Opening must
// either fail with a status and a message or give a model whose every
// metadata value, tensor and quantization plan can be read without a crash,
// a sanitizer report or a hang. A small accepted model is also quantized for
// real (a file type picked by the input), and what lowbit wrote must open.
#include "lowbit/lowbit.h"
#include "memfd_path.hpp"
#include "scratch.hpp"

#include <cstdint>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const fuzz::MemFile file(data, size);
    if (!file.ok()) return 0;
    lb_model *m = nullptr;
    if (lb_model_open(&m, file.path()) != LB_OK) {
        if (std::strlen(lb_last_error()) == 0) __builtin_trap(); // every failure explains itself
        return 0;
    }
    for (size_t i = 0; i < lb_model_kv_count(m); ++i) {
        size_t found = 0;
        if (lb_model_kv_find(&found, m, lb_model_kv_key(m, i)) != LB_OK) __builtin_trap();
        int64_t si;
        uint64_t ui;
        double f;
        int b;
        const char *s;
        size_t len;
        lb_model_kv_get_int(&si, m, i);
        lb_model_kv_get_uint(&ui, m, i);
        lb_model_kv_get_float(&f, m, i);
        lb_model_kv_get_bool(&b, m, i);
        lb_model_kv_get_string(&s, &len, m, i);
        lb_value_type elem;
        uint64_t count = 0;
        if (lb_model_kv_get_array_info(&elem, &count, m, i) == LB_OK) {
            const void *p;
            lb_model_kv_get_array_data(&p, m, i);
            for (uint64_t k = 0; k < count && k < 4; ++k) lb_model_kv_get_array_string(&s, &len, m, i, k);
        }
    }
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i) {
        const void *p;
        uint64_t n;
        if (lb_model_tensor_data(&p, &n, m, i) != LB_OK) __builtin_trap(); // validated at open
        if (n != lb_model_tensor_size(m, i)) __builtin_trap();
        for (uint32_t d = 0; d < lb_model_tensor_n_dims(m, i); ++d) lb_model_tensor_dim(m, i, d);
    }
    // the plan of a mixture over whatever metadata and shapes the file has
    lb_quantizer *q = nullptr;
    if (lb_quantizer_new(&q) == LB_OK) {
        lb_quantizer_set_ftype(q, LB_FTYPE_Q4_K_M);
        lb_quantizer_set_threads(q, 1);
        lb_quantizer_set_dry_run(q, 1);
        lb_quantizer_set_allow_requantize(q, 1);
        if (lb_quantizer_run(q, m, "/dev/null") != LB_OK && std::strlen(lb_last_error()) == 0)
            __builtin_trap();
        lb_quantizer_free(q);
    }
    // a real run when the model is small: every conversion and the writer
    uint64_t elements = 0;
    for (size_t i = 0; i < lb_model_tensor_count(m); ++i)
        elements += static_cast<uint64_t>(lb_model_tensor_n_elements(m, i));
    if (elements <= (1u << 16) && lb_quantizer_new(&q) == LB_OK) {
        static const lb_ftype kTypes[] = {LB_FTYPE_Q4_K_M, LB_FTYPE_Q8_0, LB_FTYPE_Q2_K, LB_FTYPE_Q5_1,
                                          LB_FTYPE_Q3_K_S, LB_FTYPE_F16,  LB_FTYPE_Q6_K, LB_FTYPE_Q4_0};
        const lb_ftype ftype = kTypes[data[size - 1] % (sizeof kTypes / sizeof kTypes[0])];
        const std::string out = fuzz::scratch_path("out.gguf");
        lb_quantizer_set_ftype(q, ftype);
        lb_quantizer_set_threads(q, 1);
        lb_quantizer_set_allow_requantize(q, 1);
        const lb_status st = lb_quantizer_run(q, m, out.c_str());
        if (st == LB_OK)
            fuzz::reopen_or_trap(out);
        else if (std::strlen(lb_last_error()) == 0)
            __builtin_trap();
        lb_quantizer_free(q);
    }
    lb_model_close(m);
    return 0;
}
