/* The public header compiles as strict C99 (-std=c99 -pedantic -Werror) and
 * the library is usable from C: open the model given on the command line,
 * read a key and a tensor, quantize a row. Exits 0 on success. */
#include <lowbit/lowbit.h>

#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                                                          \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, #cond, lb_last_error());   \
            return 1;                                                                                        \
        }                                                                                                    \
    } while (0)

int main(int argc, char **argv) {
    lb_model *model = NULL;
    size_t key = 0, tensor = 0, row_size = 0;
    const char *arch = NULL;
    float row[32];
    float back[32];
    unsigned char blocks[64];
    int i;

    CHECK(argc == 2);
    CHECK(strcmp(lb_version(), LB_VERSION_STRING) == 0);
    CHECK(lb_model_open(&model, argv[1]) == LB_OK);
    CHECK(lb_model_kv_find(&key, model, "general.architecture") == LB_OK);
    CHECK(lb_model_kv_get_string(&arch, NULL, model, key) == LB_OK);
    CHECK(strcmp(arch, "llama") == 0);
    CHECK(lb_model_tensor_find(&tensor, model, "token_embd.weight") == LB_OK);
    CHECK(lb_model_tensor_type(model, tensor) == LB_TYPE_F32);
    CHECK(lb_model_tensor_dim(model, tensor, 1) == 512);
    lb_model_close(model);

    for (i = 0; i < 32; ++i) row[i] = (float)(i - 16) / 8.0f;
    CHECK(lb_row_size(&row_size, LB_TYPE_Q8_0, 32) == LB_OK && row_size == 34);
    CHECK(lb_quantize_rows(LB_TYPE_Q8_0, row, 1, 32, NULL, blocks, sizeof blocks) == LB_OK);
    CHECK(lb_dequantize_rows(LB_TYPE_Q8_0, blocks, sizeof blocks, 1, 32, back) == LB_OK);
    for (i = 0; i < 32; ++i) {
        const float diff = back[i] > row[i] ? back[i] - row[i] : row[i] - back[i];
        CHECK(diff <= 0.01f); /* half a step of 2/127 */
    }
    CHECK(lb_model_open(&model, "/nonexistent.gguf") == LB_E_IO);
    CHECK(strstr(lb_last_error(), "/nonexistent.gguf") != NULL);
    printf("ok\n");
    return 0;
}
