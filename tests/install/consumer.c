/* A program outside the lowbit tree, built against an installed lowbit (by
 * pkg-config or by find_package): quantizes the model given on the command
 * line to Q8_0 and checks the result. Usage: consumer IN.gguf OUT.gguf.
 * Prints "ok <tensors> <output bytes>" and exits 0 on success. */
#include <lowbit/lowbit.h>

#include <stdio.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "consumer: %s: %s\n", what, lb_last_error());
    return 1;
}

int main(int argc, char **argv) {
    lb_model *in = NULL, *out = NULL;
    lb_quantizer *q = NULL;
    size_t key = 0;
    uint64_t file_type = 0;
    int status = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: consumer IN.gguf OUT.gguf\n");
        return 2;
    }
    if (lb_version_number() / 10000 != LB_VERSION_MAJOR) {
        fprintf(stderr, "consumer: header %s, library %s\n", LB_VERSION_STRING, lb_version());
        return 1;
    }
    if (lb_model_open(&in, argv[1]) != LB_OK) return fail("open");
    if (lb_quantizer_new(&q) != LB_OK || lb_quantizer_set_ftype(q, LB_FTYPE_Q8_0) != LB_OK ||
        lb_quantizer_set_threads(q, 1) != LB_OK) {
        status = fail("quantizer");
        goto done;
    }
    if (lb_quantizer_run(q, in, argv[2]) != LB_OK) {
        status = fail("run");
        goto done;
    }
    if (lb_model_open(&out, argv[2]) != LB_OK || lb_model_kv_find(&key, out, "general.file_type") != LB_OK ||
        lb_model_kv_get_uint(&file_type, out, key) != LB_OK) {
        status = fail("reopen");
        goto done;
    }
    if (file_type != LB_FTYPE_Q8_0 || lb_model_tensor_count(out) != lb_model_tensor_count(in)) {
        fprintf(stderr, "consumer: output has file type %llu and %zu tensors\n",
                (unsigned long long)file_type, lb_model_tensor_count(out));
        goto done;
    }
    printf("ok %zu %llu\n", lb_model_tensor_count(out),
           (unsigned long long)lb_quantizer_stat(q, LB_STAT_OUTPUT_FILE_BYTES));
    status = 0;
done:
    lb_model_close(out);
    lb_quantizer_free(q);
    lb_model_close(in);
    return status;
}
