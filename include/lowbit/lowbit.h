/*
 * lowbit: quantize large language models into GGUF files that llama.cpp and
 * every other GGUF runtime load.
 *
 * This header is the whole public interface of liblowbit and its reference
 * documentation. It is plain C99; the library behind it is C++ but no C++
 * exception ever crosses this boundary.
 *
 * Conventions used throughout
 * ---------------------------
 * - Every function that can fail returns an lb_status: LB_OK (0) on success,
 *   a negative LB_E_* code otherwise. After a failure, lb_last_error() returns
 *   a message for this thread that names the file, tensor, key or argument at
 *   fault.
 * - Out-parameters come first and are named `out`. On failure they are left
 *   untouched unless the function says otherwise.
 * - Handles (lb_model, lb_quantizer) are opaque. They are created by a
 *   _open/_new function and released by the matching _close/_free function,
 *   which accepts NULL.
 * - Strings and arrays returned by a handle ("borrowed") stay valid until the
 *   handle is released; the caller must not free them.
 * - A handle may be used from one thread at a time, except where a function
 *   says it is safe to call concurrently (lb_quantizer_cancel(),
 *   lb_session_cancel()). Functions without a handle are thread-safe.
 * - An opened lb_model is never modified: every function that takes a
 *   `const lb_model *` may run on several threads at once with the same
 *   model (several sessions and quantizers sharing one mapped model is the
 *   normal case); only lb_model_close() must wait until they are done, and
 *   the model must outlive the sessions opened on it.
 * - Option structs carry a version: initialise them with their _init()
 *   function and the header's version macro, so that a program built against
 *   an older header keeps working. Structs the library hands out carry the
 *   library's version in their first field. Numeric options that may grow
 *   are set through one enum-keyed function (lb_session_set_param()), so new
 *   options add no symbols.
 * - Sizes are in bytes, counts in elements; tensor dimensions follow GGUF:
 *   dimension 0 (ne[0]) is the row width, the contiguous one.
 */
#ifndef LOWBIT_LOWBIT_H
#define LOWBIT_LOWBIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Export macro                                                             */
/* ------------------------------------------------------------------------ */

#if defined(LOWBIT_STATIC)
#define LB_API
#elif defined(_WIN32)
#if defined(LOWBIT_BUILDING)
#define LB_API __declspec(dllexport)
#else
#define LB_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define LB_API __attribute__((visibility("default")))
#else
#define LB_API
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                 */
/* ------------------------------------------------------------------------ */

#define LB_VERSION_MAJOR 0
#define LB_VERSION_MINOR 1
#define LB_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH, so 0.1.0 is 100. */
#define LB_VERSION_NUMBER (LB_VERSION_MAJOR * 10000 + LB_VERSION_MINOR * 100 + LB_VERSION_PATCH)
#define LB_VERSION_STRING "0.1.0"

/* The version of the library actually loaded, as "MAJOR.MINOR.PATCH".
 * Compare with LB_VERSION_STRING to detect a header/library mismatch.
 * Returns a static string; never NULL. */
LB_API const char *lb_version(void);

/* The version of the library actually loaded, as LB_VERSION_NUMBER. */
LB_API uint32_t lb_version_number(void);

/* ------------------------------------------------------------------------ */
/* Kernel sets                                                              */
/* ------------------------------------------------------------------------ */

/* lowbit's hot loops (block searches, dot products, matrix products) come in
 * kernel sets, one per instruction set, all in this library: "scalar" (the
 * reference that defines every format's bytes), "generic" (4-lane vectors:
 * SSE2 on x86-64, NEON on AArch64), and on x86-64 "avx2" (AVX2, FMA, F16C) and
 * "avx512" (AVX-512 F, BW, VL, DQ and VNNI). Every set writes the same bytes;
 * dot products agree within float rounding. The first use picks the fastest
 * set this CPU (and its operating system) runs, unless the environment
 * variable LOWBIT_KERNELS names another set that runs here; the choice then
 * holds for the life of the process. */

/* The number of kernel sets in this build, and the name of set i, slowest
 * first (a static string; NULL if i >= lb_kernels_count()). */
LB_API size_t lb_kernels_count(void);
LB_API const char *lb_kernels_name(size_t i);

/* Nonzero if the set named `name` is in this build and runs on this CPU. */
LB_API int lb_kernels_available(const char *name);

/* The name of the set in use (a static string; never NULL). Picks it if
 * nothing has yet. */
LB_API const char *lb_kernels_active(void);

/* The instruction-set extensions the kernel sets use that this CPU and its
 * operating system offer, space-separated, e.g. "sse2 avx2 fma f16c avx512f
 * avx512bw avx512vl avx512dq avx512vnni" (a static string; never NULL). */
LB_API const char *lb_cpu_features(void);

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                  */
/* ------------------------------------------------------------------------ */

typedef enum lb_status {
    LB_OK = 0,
    /* A file could not be opened, mapped, read, written, synced or renamed. */
    LB_E_IO = -1,
    /* The input is malformed: not GGUF, a failed GGUF validation, bad tensor
     * data (NaN, infinity), a malformed imatrix. */
    LB_E_FORMAT = -2,
    /* The input is valid but lowbit cannot handle it: a tensor type without
     * a (de)quantizer in this build, a big-endian file, a GGUF version from
     * the future. */
    LB_E_UNSUPPORTED = -3,
    /* A caller error: NULL where a pointer is required, an index out of
     * range, a buffer too small, an unknown type name, a bad option value. */
    LB_E_INVALID_ARG = -4,
    /* Memory could not be allocated. */
    LB_E_NOMEM = -5,
    /* The work was cancelled by lb_quantizer_cancel() or by a callback. */
    LB_E_CANCELLED = -6,
    /* A key or tensor looked up by name does not exist. */
    LB_E_NOT_FOUND = -7,
    /* A metadata value was read as a type it does not have (for example a
     * string read with lb_model_kv_get_int()). */
    LB_E_TYPE = -8,
    /* A bug in lowbit. Please report it with lb_last_error()'s message. */
    LB_E_INTERNAL = -9,
    /* Not a status: makes the enum span int32 so that any int value passed
     * from C or a binding is a valid lb_status in C++. Same in the enums below. */
    LB_STATUS_FORCE_INT32 = 0x7fffffff
} lb_status;

/* The message for the last failure on the calling thread, naming the file,
 * tensor, key or argument at fault. Thread-local, owned by the library, valid
 * until the next lowbit call on this thread. Never NULL: "" when no call on
 * this thread has failed yet. */
LB_API const char *lb_last_error(void);

/* A stable identifier for a status code, e.g. "LB_E_FORMAT". Returns
 * "LB_E_UNKNOWN" for values that are not lb_status codes. Never NULL. */
LB_API const char *lb_status_name(lb_status status);

/* ------------------------------------------------------------------------ */
/* Tensor types                                                             */
/* ------------------------------------------------------------------------ */

/* Tensor element types. The values are the GGUF on-disk type ids (ggml's
 * enum ggml_type), so they can be compared with any GGUF tool. Ids 4, 5 and
 * 31..33, 36..38 were removed from the format and are rejected in files. */
typedef enum lb_type {
    LB_TYPE_F32 = 0,
    LB_TYPE_F16 = 1,
    LB_TYPE_Q4_0 = 2,
    LB_TYPE_Q4_1 = 3,
    LB_TYPE_Q5_0 = 6,
    LB_TYPE_Q5_1 = 7,
    LB_TYPE_Q8_0 = 8,
    LB_TYPE_Q8_1 = 9,
    LB_TYPE_Q2_K = 10,
    LB_TYPE_Q3_K = 11,
    LB_TYPE_Q4_K = 12,
    LB_TYPE_Q5_K = 13,
    LB_TYPE_Q6_K = 14,
    LB_TYPE_Q8_K = 15,
    LB_TYPE_IQ2_XXS = 16,
    LB_TYPE_IQ2_XS = 17,
    LB_TYPE_IQ3_XXS = 18,
    LB_TYPE_IQ1_S = 19,
    LB_TYPE_IQ4_NL = 20,
    LB_TYPE_IQ3_S = 21,
    LB_TYPE_IQ2_S = 22,
    LB_TYPE_IQ4_XS = 23,
    LB_TYPE_I8 = 24,
    LB_TYPE_I16 = 25,
    LB_TYPE_I32 = 26,
    LB_TYPE_I64 = 27,
    LB_TYPE_F64 = 28,
    LB_TYPE_IQ1_M = 29,
    LB_TYPE_BF16 = 30,
    LB_TYPE_TQ1_0 = 34,
    LB_TYPE_TQ2_0 = 35,
    LB_TYPE_MXFP4 = 39,
    LB_TYPE_NVFP4 = 40,
    LB_TYPE_Q1_0 = 41,
    LB_TYPE_Q2_0 = 42,
    /* lowbit's extension types: tiled layouts, which only lowbit reads
     * (docs/formats.md; lb_model_repack() converts them). The blocks of
     * Q4_K (Q8_0) rows, 4 (16) consecutive rows interleaved. */
    LB_TYPE_Q4_K_4 = 1024,
    LB_TYPE_Q8R16 = 1025,
    /* No type: "the default" where an option takes a type, "none" where a
     * function returns one. Stays -1 whatever types are added. */
    LB_TYPE_NONE = -1,
    LB_TYPE_FORCE_INT32 = 0x7fffffff
} lb_type;

/* The canonical name of a type, upper case as llama.cpp prints quantization
 * names ("F32", "Q4_0", "IQ2_XXS"). Returns NULL for ids that are not types
 * (removed or out of range). Static string. */
LB_API const char *lb_type_name(lb_type type);

/* Parses a type name, case-insensitively ("q4_0", "Q8_0", "bf16").
 * Errors: LB_E_INVALID_ARG if name is NULL or names no type. */
LB_API lb_status lb_type_from_name(lb_type *out, const char *name);

/* Elements per block (1 for F32/F16/BF16, 32 for Q4_0, 256 for K-quants).
 * Returns 0 for ids that are not types. */
LB_API int64_t lb_type_block_size(lb_type type);

/* Bytes per block (4 for F32, 18 for Q4_0, ...). 0 for ids that are not types. */
LB_API size_t lb_type_block_bytes(lb_type type);

/* 1 if the type stores blocks with scales (everything but F32, F16, BF16,
 * F64 and the integer types), 0 otherwise. */
LB_API int lb_type_is_quantized(lb_type type);

/* 1 if lb_quantize_rows() can produce this type in this build, else 0. */
LB_API int lb_type_can_quantize(lb_type type);

/* 1 if lb_dequantize_rows() can read this type in this build, else 0. */
LB_API int lb_type_can_dequantize(lb_type type);

/* 1 if quantizing to this type needs an importance matrix, else 0. */
LB_API int lb_type_requires_imatrix(lb_type type);

/* ------------------------------------------------------------------------ */
/* Row API: quantize and dequantize plain float rows                        */
/* ------------------------------------------------------------------------ */

/* Bytes taken by one row of n_per_row elements of the given type.
 * Errors: LB_E_INVALID_ARG if out is NULL, the type is not a type,
 * n_per_row < 0, or n_per_row is not a multiple of the type's block size. */
LB_API lb_status lb_row_size(size_t *out, lb_type type, int64_t n_per_row);

/* Quantizes n_rows rows of n_per_row floats from src (row-major, contiguous)
 * into dst, one row of blocks after the other (n_rows * lb_row_size() bytes).
 *
 * imatrix, if not NULL, holds n_per_row non-negative importance weights (the
 * mean squared activation of each input column, as llama.cpp's imatrix
 * stores it); the quantizer then minimizes the importance-weighted squared
 * error instead of the plain one. Types that do not use it ignore it.
 *
 * The result depends only on the inputs: the same call gives the same bytes
 * on every machine and with every kernel. dst needs no particular alignment.
 *
 * Errors: LB_E_INVALID_ARG (NULL pointers, n_rows or n_per_row < 0,
 * n_per_row not a multiple of the block size, dst_size smaller than needed,
 * negative or non-finite imatrix values); LB_E_UNSUPPORTED (no quantizer for
 * the type in this build, or the type requires an imatrix and none was
 * given); LB_E_FORMAT (src holds NaN or infinity: the message gives the row). */
LB_API lb_status lb_quantize_rows(lb_type type, const float *src, int64_t n_rows, int64_t n_per_row,
                                  const float *imatrix, void *dst, size_t dst_size);

/* Dequantizes n_rows rows of n_per_row elements of the given type from src
 * (src_size bytes, at least n_rows * lb_row_size()) into dst (n_rows *
 * n_per_row floats). Bit-exact with llama.cpp's dequantization. src needs
 * no particular alignment.
 * Errors: LB_E_INVALID_ARG (NULL pointers, bad sizes, src_size too small);
 * LB_E_UNSUPPORTED (no dequantizer for the type in this build). */
LB_API lb_status lb_dequantize_rows(lb_type type, const void *src, size_t src_size, int64_t n_rows,
                                    int64_t n_per_row, float *dst);

/* ------------------------------------------------------------------------ */
/* Models: reading GGUF files                                               */
/* ------------------------------------------------------------------------ */

typedef struct lb_model lb_model;

/* Opens a GGUF file read-only, maps it into memory and validates it: header,
 * every metadata key and value, every tensor's name, shape, type and data
 * range. Nothing is trusted: counts, lengths and offsets are checked against
 * the file size before use. The first shard of a split model
 * ("name-00001-of-00003.gguf") opens every shard, read as one model: the
 * metadata is the first shard's, the tensors are all shards' in order.
 * A folder is read as a Hugging Face checkpoint (see lb_convert()): the model
 * is the GGUF file lb_convert() would write with outtype LB_TYPE_F32 (its
 * metadata, tensor names, order and shapes), but nothing is written and the
 * matrices keep the checkpoint's own type (F32, F16 or BF16), served from the
 * mapped safetensors files; Q/K rows permuted into llama.cpp's rotary order,
 * 1-D tensors (in F32) and computed ones are held in memory. Shards are then
 * the safetensors files. So lb_quantizer_run() and lb_session_new() take a
 * checkpoint directly, and quantizing it gives the bytes converting to F32
 * and then quantizing gives. An archive of a checkpoint (see lb_convert()) is
 * read the same way, its members held in memory.
 * On success *out owns the model; release it with lb_model_close().
 * Errors: LB_E_INVALID_ARG (NULL out or path, a shard other than the first);
 * LB_E_IO (cannot open or map, a missing shard: the message names the file);
 * LB_E_FORMAT (not GGUF, truncated, or a validation failed: the message says
 * which key or tensor); LB_E_UNSUPPORTED (GGUF version 1 or newer than 3,
 * big-endian file); LB_E_NOMEM. */
LB_API lb_status lb_model_open(lb_model **out, const char *path);

/* Releases a model and everything borrowed from it. Accepts NULL. */
LB_API void lb_model_close(lb_model *model);

/* The path the model was opened from. Borrowed. */
LB_API const char *lb_model_path(const lb_model *model);

/* GGUF format version of the file (2 or 3). */
LB_API uint32_t lb_model_gguf_version(const lb_model *model);

/* Data alignment of the file (general.alignment, default 32). */
LB_API uint32_t lb_model_alignment(const lb_model *model);

/* Size of the (first shard's) file in bytes. */
LB_API uint64_t lb_model_file_size(const lb_model *model);

/* Number of files the model was read from: 1, or the shards of a split model
 * (a checkpoint's: its safetensors files). */
LB_API size_t lb_model_shard_count(const lb_model *model);

/* 1 if the model is a Hugging Face checkpoint (a folder or an archive of
 * one) read as GGUF (see lb_model_open()), 0 if it is a GGUF file (or model
 * is NULL). */
LB_API int lb_model_is_checkpoint(const lb_model *model);

/* File offset where the tensor data section starts. */
LB_API uint64_t lb_model_data_offset(const lb_model *model);

/* What lb_model_open() accepted because ggml (and so every GGUF runtime)
 * accepts it, but which is not quite right, one message each naming the file
 * and the key or tensor: a bool byte other than 0 or 1 (read as true), a NUL
 * byte in a key or tensor name (the name is its part before the NUL, as
 * runtimes read it; a key that then repeats an earlier one is ignored).
 * Tools should show them (the lowbit CLI prints them as warnings).
 * lb_model_warning() returns NULL for i out of range; the strings are
 * borrowed. */
LB_API size_t lb_model_warning_count(const lb_model *model);
LB_API const char *lb_model_warning(const lb_model *model, size_t i);

/* --- Metadata (key/value pairs) ----------------------------------------- */

/* GGUF metadata value types; the values are the on-disk ids. */
typedef enum lb_value_type {
    LB_VALUE_U8 = 0,
    LB_VALUE_I8 = 1,
    LB_VALUE_U16 = 2,
    LB_VALUE_I16 = 3,
    LB_VALUE_U32 = 4,
    LB_VALUE_I32 = 5,
    LB_VALUE_F32 = 6,
    LB_VALUE_BOOL = 7,
    LB_VALUE_STRING = 8,
    LB_VALUE_ARRAY = 9,
    LB_VALUE_U64 = 10,
    LB_VALUE_I64 = 11,
    LB_VALUE_F64 = 12,
    LB_VALUE_FORCE_INT32 = 0x7fffffff
} lb_value_type;

/* Name of a value type as GGUF tools print it ("u32", "str", "arr").
 * Returns NULL for values that are not value types. Static string. */
LB_API const char *lb_value_type_name(lb_value_type type);

/* Number of metadata key/value pairs, in file order. */
LB_API size_t lb_model_kv_count(const lb_model *model);

/* The key of pair i (i < lb_model_kv_count()), NUL-terminated. Borrowed.
 * Returns NULL if i is out of range. */
LB_API const char *lb_model_kv_key(const lb_model *model, size_t i);

/* Finds a key. Errors: LB_E_INVALID_ARG (NULL arguments); LB_E_NOT_FOUND. */
LB_API lb_status lb_model_kv_find(size_t *out, const lb_model *model, const char *key);

/* The type of value i; LB_VALUE_ARRAY for arrays. Returns -1 cast to
 * lb_value_type if i is out of range. */
LB_API lb_value_type lb_model_kv_type(const lb_model *model, size_t i);

/* Reads value i as a signed integer. Accepts every integer type and bool;
 * a u64 above INT64_MAX is an error.
 * Errors: LB_E_INVALID_ARG (NULL out, i out of range); LB_E_TYPE. */
LB_API lb_status lb_model_kv_get_int(int64_t *out, const lb_model *model, size_t i);

/* Reads value i as an unsigned integer. Accepts every integer type and bool;
 * negative values are an error.
 * Errors: LB_E_INVALID_ARG; LB_E_TYPE. */
LB_API lb_status lb_model_kv_get_uint(uint64_t *out, const lb_model *model, size_t i);

/* Reads value i (f32 or f64) as a double.
 * Errors: LB_E_INVALID_ARG; LB_E_TYPE. */
LB_API lb_status lb_model_kv_get_float(double *out, const lb_model *model, size_t i);

/* Reads value i (bool) as 0 or 1. Errors: LB_E_INVALID_ARG; LB_E_TYPE. */
LB_API lb_status lb_model_kv_get_bool(int *out, const lb_model *model, size_t i);

/* Reads string value i. *out points to the bytes, NUL-terminated, borrowed;
 * *len (if len is not NULL) receives the length, which can be smaller than
 * strlen() would say if the string holds NUL bytes.
 * Errors: LB_E_INVALID_ARG; LB_E_TYPE. */
LB_API lb_status lb_model_kv_get_string(const char **out, size_t *len, const lb_model *model, size_t i);

/* The element type and element count of array value i.
 * Errors: LB_E_INVALID_ARG (NULL arguments, i out of range); LB_E_TYPE (not
 * an array). */
LB_API lb_status lb_model_kv_get_array_info(lb_value_type *out_type, uint64_t *out_count,
                                            const lb_model *model, size_t i);

/* The elements of numeric or bool array value i: *out points to count
 * elements of the array's element type in host order, suitably aligned for
 * that type; bools are one byte each. Borrowed.
 * Errors: LB_E_INVALID_ARG; LB_E_TYPE (not an array, or an array of
 * strings). */
LB_API lb_status lb_model_kv_get_array_data(const void **out, const lb_model *model, size_t i);

/* Element j of string array value i, NUL-terminated and borrowed; *len as in
 * lb_model_kv_get_string().
 * Errors: LB_E_INVALID_ARG (also j out of range); LB_E_TYPE (not an array of
 * strings). */
LB_API lb_status lb_model_kv_get_array_string(const char **out, size_t *len, const lb_model *model, size_t i,
                                              uint64_t j);

/* --- Tensors ------------------------------------------------------------ */

/* Number of tensors, in file order. */
LB_API size_t lb_model_tensor_count(const lb_model *model);

/* Finds a tensor by name. Errors: LB_E_INVALID_ARG; LB_E_NOT_FOUND. */
LB_API lb_status lb_model_tensor_find(size_t *out, const lb_model *model, const char *name);

/* Name of tensor i (shorter than 64 bytes), borrowed; NULL if i is out of
 * range. */
LB_API const char *lb_model_tensor_name(const lb_model *model, size_t i);

/* Element type of tensor i; LB_TYPE_NONE if i is out of range. */
LB_API lb_type lb_model_tensor_type(const lb_model *model, size_t i);

/* Number of dimensions of tensor i (1..4; 0 if i is out of range). A tensor
 * stored with 0 dimensions (a scalar) has 1, of one element, as in ggml. */
LB_API uint32_t lb_model_tensor_n_dims(const lb_model *model, size_t i);

/* Extent of dimension d of tensor i: ne[d]. 1 for d >= n_dims, 0 if i is out
 * of range. */
LB_API int64_t lb_model_tensor_dim(const lb_model *model, size_t i, uint32_t d);

/* Number of elements of tensor i (the product of its dimensions). */
LB_API int64_t lb_model_tensor_n_elements(const lb_model *model, size_t i);

/* The shard (0-based) holding tensor i; 0 for a model in one file. */
LB_API size_t lb_model_tensor_shard(const lb_model *model, size_t i);

/* Offset of tensor i's data in its shard's file (data offset + tensor offset);
 * 0 for a tensor a checkpoint holds in memory. */
LB_API uint64_t lb_model_tensor_file_offset(const lb_model *model, size_t i);

/* Size in bytes of tensor i's data. */
LB_API uint64_t lb_model_tensor_size(const lb_model *model, size_t i);

/* Tensor i's raw data as stored in the file (memory-mapped, read-only,
 * borrowed); *size receives its byte size if size is not NULL.
 * Errors: LB_E_INVALID_ARG (NULL out, i out of range). */
LB_API lb_status lb_model_tensor_data(const void **out, uint64_t *size, const lb_model *model, size_t i);

/* --- Tiled layouts -------------------------------------------------------- */

/* Writes the model's file again, atomically, to path (which may be the
 * model's own), with its matrices in `layout`:
 *   "q8r16"    every Q8_0 matrix with a multiple of 16 rows as LB_TYPE_Q8R16,
 *   "q4_k_4"   every Q4_K matrix with a multiple of 4 rows as LB_TYPE_Q4_K_4,
 *   "standard" every tensor in its standard type (Q8_0, Q4_K).
 * token_embd.weight stays standard. Every other tensor, every other byte and
 * every metadata key are kept; the key "lowbit.layout" (a string: the
 * layout's name) is set when a tensor is tiled, removed otherwise. Lossless:
 * repacking to "standard" gives back the standard file. Only lowbit reads the
 * tiled types (docs/formats.md); lowbit's sessions also repack standard files
 * in memory themselves (LB_SESSION_REPACK). *tensors_tiled (if not NULL)
 * receives the number of tiled tensors written.
 * Errors: LB_E_INVALID_ARG (NULL model or path, an unknown layout: the
 * message lists the names); LB_E_UNSUPPORTED (a split model, a Hugging Face
 * checkpoint); LB_E_IO. */
LB_API lb_status lb_model_repack(const lb_model *model, const char *path, const char *layout,
                                 uint64_t *tensors_tiled);

/* ------------------------------------------------------------------------ */
/* Quantization jobs                                                        */
/* ------------------------------------------------------------------------ */

/* Model file types: what a quantization produces. The values are llama.cpp's
 * llama_ftype ids, which are also written to general.file_type. */
typedef enum lb_ftype {
    LB_FTYPE_ALL_F32 = 0,
    LB_FTYPE_F16 = 1,
    LB_FTYPE_Q4_0 = 2,
    LB_FTYPE_Q4_1 = 3,
    LB_FTYPE_Q8_0 = 7,
    LB_FTYPE_Q5_0 = 8,
    LB_FTYPE_Q5_1 = 9,
    LB_FTYPE_Q2_K = 10,
    LB_FTYPE_Q3_K_S = 11,
    LB_FTYPE_Q3_K_M = 12,
    LB_FTYPE_Q3_K_L = 13,
    LB_FTYPE_Q4_K_S = 14,
    LB_FTYPE_Q4_K_M = 15,
    LB_FTYPE_Q5_K_S = 16,
    LB_FTYPE_Q5_K_M = 17,
    LB_FTYPE_Q6_K = 18,
    LB_FTYPE_IQ2_XXS = 19,
    LB_FTYPE_IQ2_XS = 20,
    LB_FTYPE_Q2_K_S = 21,
    LB_FTYPE_IQ3_XS = 22,
    LB_FTYPE_IQ3_XXS = 23,
    LB_FTYPE_IQ1_S = 24,
    LB_FTYPE_IQ4_NL = 25,
    LB_FTYPE_IQ3_S = 26,
    LB_FTYPE_IQ3_M = 27,
    LB_FTYPE_IQ2_S = 28,
    LB_FTYPE_IQ2_M = 29,
    LB_FTYPE_IQ4_XS = 30,
    LB_FTYPE_IQ1_M = 31,
    LB_FTYPE_BF16 = 32,
    LB_FTYPE_TQ1_0 = 36,
    LB_FTYPE_TQ2_0 = 37,
    LB_FTYPE_MXFP4_MOE = 38,
    LB_FTYPE_NVFP4 = 39,
    LB_FTYPE_Q1_0 = 40,
    LB_FTYPE_Q2_0 = 41,
    LB_FTYPE_FORCE_INT32 = 0x7fffffff
} lb_ftype;

/* The name of a file type as llama-quantize spells it ("Q4_0", "Q4_K_M",
 * "F32" for LB_FTYPE_ALL_F32). NULL for values that are not file types. */
LB_API const char *lb_ftype_name(lb_ftype ftype);

/* Parses a file type name case-insensitively, or its number ("15"). Accepts
 * llama-quantize's aliases Q3_K, Q4_K and Q5_K (the _M variants).
 * Errors: LB_E_INVALID_ARG if name is NULL or names no file type. */
LB_API lb_status lb_ftype_from_name(lb_ftype *out, const char *name);

/* 1 if lb_quantizer_run() can produce this file type in this build (0 for
 * LB_FTYPE_NVFP4: NVFP4 files are converted from NVFP4 checkpoints, not
 * quantized, by llama.cpp as by lowbit; NVFP4 tensors can still be asked for
 * with lb_quantizer_add_tensor_type()). */
LB_API int lb_ftype_is_supported(lb_ftype ftype);

/* The tensor type most weights get in this file type (Q4_K for Q4_K_M).
 * LB_TYPE_NONE for values that are not file types. */
LB_API lb_type lb_ftype_default_type(lb_ftype ftype);

typedef struct lb_quantizer lb_quantizer;

/* Progress of a running quantization, passed to an lb_progress_fn. Owned by
 * the library and valid only during the call. Fields may be added at the
 * end in later versions, with a higher version: read a field only if the
 * version that added it is at most `version`. */
typedef struct lb_progress {
    uint32_t version;        /* LB_PROGRESS_VERSION of the library that filled it */
    uint64_t done_elements;  /* weights processed so far, all tensors */
    uint64_t total_elements; /* weights in the whole model */
    size_t tensor_index;     /* tensor being processed, 0-based, file order */
    size_t tensor_count;     /* tensors in the model */
    const char *tensor_name; /* name of that tensor */
} lb_progress;

#define LB_PROGRESS_VERSION 1

/* Progress callback: called from the thread that runs lb_quantizer_run(),
 * at least once per tensor and about every 16 MiB of weights. Return 0 to
 * continue, any other value to cancel (the run then returns LB_E_CANCELLED). */
typedef int (*lb_progress_fn)(const lb_progress *progress, void *user);

typedef enum lb_log_level { LB_LOG_INFO = 0, LB_LOG_WARN = 1, LB_LOG_FORCE_INT32 = 0x7fffffff } lb_log_level;

/* Log callback: receives notices during a run, e.g. a warning for each
 * tensor whose shape forces a fallback type. message is one line without
 * a trailing newline, valid only during the call. Called from the thread that
 * runs lb_quantizer_run(). */
typedef void (*lb_log_fn)(lb_log_level level, const char *message, void *user);

/* Creates a quantization job with default options: file type Q8_0, all
 * hardware threads, no requantizing, no callbacks.
 * Release it with lb_quantizer_free().
 * Errors: LB_E_INVALID_ARG (NULL out); LB_E_NOMEM. */
LB_API lb_status lb_quantizer_new(lb_quantizer **out);

/* Releases a job. Accepts NULL. Must not be called while it runs. */
LB_API void lb_quantizer_free(lb_quantizer *quantizer);

/* Sets the file type to produce. Which tensors are quantized, and to which
 * type, follows llama.cpp's llama-quantize: 2-D and 3-D tensors whose name
 * ends in "weight", except norms and a few small special tensors; output and
 * token embeddings get llama.cpp's per-file-type types; a tensor whose row
 * width does not fit the type's block falls back to a type it fits (with a
 * warning through the log callback).
 * Errors: LB_E_INVALID_ARG (not a file type); LB_E_UNSUPPORTED (not
 * implemented in this build, see lb_ftype_is_supported(), or no quantization
 * target: LB_FTYPE_NVFP4, which llama_model_quantize refuses too). */
LB_API lb_status lb_quantizer_set_ftype(lb_quantizer *quantizer, lb_ftype ftype);

/* Sets the number of worker threads; 0 means one per hardware thread.
 * Errors: LB_E_INVALID_ARG (NULL quantizer, n < 0 or n > 1024). */
LB_API lb_status lb_quantizer_set_threads(lb_quantizer *quantizer, int n_threads);

/* Allows (1) or refuses (0, the default) input tensors that are already
 * quantized: when allowed, they are dequantized and quantized again, which
 * loses more quality than quantizing the original weights.
 * Errors: LB_E_INVALID_ARG (NULL quantizer). */
LB_API lb_status lb_quantizer_set_allow_requantize(lb_quantizer *quantizer, int allow);

/* Sets (or with fn NULL, clears) the progress callback.
 * Errors: LB_E_INVALID_ARG (NULL quantizer). */
LB_API lb_status lb_quantizer_set_progress(lb_quantizer *quantizer, lb_progress_fn fn, void *user);

/* Sets (or with fn NULL, clears) the log callback. Without one, notices are
 * dropped. Errors: LB_E_INVALID_ARG (NULL quantizer). */
LB_API lb_status lb_quantizer_set_log(lb_quantizer *quantizer, lb_log_fn fn, void *user);

/* Asks a running lb_quantizer_run() to stop as soon as possible; it then
 * returns LB_E_CANCELLED and leaves no output file. Safe to call from any
 * thread and from a signal handler while the job runs. A cancel request
 * is cleared when the next run starts. Accepts NULL. */
LB_API void lb_quantizer_cancel(lb_quantizer *quantizer);

/* Runs the job: reads every tensor of model, converts those the file type
 * selects, and writes a GGUF file to out_path with all of model's metadata,
 * general.quantization_version = 2 and general.file_type set (split.* keys
 * dropped). The file is written to a temporary file in out_path's folder,
 * synced and renamed over out_path only when complete: on any error or
 * cancellation out_path is left as it was and the temporary file is removed.
 * The input file is never modified; out_path naming the input is an error.
 *
 * Errors: LB_E_INVALID_ARG (NULL arguments, out_path is the input file);
 * LB_E_UNSUPPORTED (a tensor type that cannot be converted, an already
 * quantized tensor without lb_quantizer_set_allow_requantize()); LB_E_FORMAT
 * (NaN or infinity in a tensor); LB_E_IO (cannot create, write, sync or
 * rename the output); LB_E_CANCELLED; LB_E_NOMEM. */
LB_API lb_status lb_quantizer_run(lb_quantizer *quantizer, const lb_model *model, const char *out_path);

/* Runs the job for n file types in one pass: each input tensor is read and
 * converted to floats once, then quantized to every type; out_paths[k] gets
 * file type ftypes[k], byte for byte the file lb_quantizer_run() writes after
 * lb_quantizer_set_ftype(quantizer, ftypes[k]) with the same other options
 * (which apply to every output; the quantizer's own file type and only_copy
 * are not used). With keep_split, each out_paths[k] names its outputs' shards
 * as lb_quantizer_run()'s out_path does. Every file is written to a temporary
 * file and all are renamed only when all are complete: on any error or
 * cancellation no out_paths[k] is touched. Memory grows with n by one chunk
 * of output rows per type, not by whole tensors.
 *
 * Afterwards lb_quantizer_output_count() is n, the plan holds every output's
 * tensors (output 0's first; lb_quantizer_plan_output() says whose an entry
 * is), lb_quantizer_output_stat() gives each output's figures, and
 * lb_quantizer_stat() their sums (LB_STAT_ELAPSED_US: the run's wall time).
 *
 * Errors: those of lb_quantizer_run(), and LB_E_INVALID_ARG (NULL arguments,
 * n = 0, not a file type, two outputs with the same path); LB_E_UNSUPPORTED
 * (a file type this build cannot produce). */
LB_API lb_status lb_quantizer_run_many(lb_quantizer *quantizer, const lb_model *model, const lb_ftype *ftypes,
                                       const char *const *out_paths, size_t n);

/* The number of outputs of the last successful run: 1 after
 * lb_quantizer_run(), n after lb_quantizer_run_many(); 0 before any run. */
LB_API size_t lb_quantizer_output_count(const lb_quantizer *quantizer);

/* --- llama-quantize's options ------------------------------------------ */

/* Uses an importance matrix: llama.cpp's GGUF imatrix file or its legacy
 * .dat format (detected from the contents). Its entries are matched to
 * tensors by name; an entry must hold one value per input column of its
 * tensor (times the number of experts). With path NULL, clears it.
 * The output then carries quantize.imatrix.file, .dataset, .entries_count and
 * .chunks_count keys, as llama-quantize writes them.
 * Errors: LB_E_INVALID_ARG (NULL quantizer); LB_E_IO (cannot read the file);
 * LB_E_FORMAT (malformed, non-finite or negative values: the message names
 * the file and the entry). */
LB_API lb_status lb_quantizer_set_imatrix(lb_quantizer *quantizer, const char *path);

/* Keeps only the imatrix entries whose name contains `name` (include = 1,
 * llama-quantize --include-weights) or drops them (include = 0,
 * --exclude-weights). May be called several times; includes and excludes
 * cannot be mixed.
 * Errors: LB_E_INVALID_ARG (NULL arguments, mixing includes and excludes). */
LB_API lb_status lb_quantizer_add_imatrix_filter(lb_quantizer *quantizer, int include, const char *name);

/* The type of output.weight (llama-quantize --output-tensor-type), or
 * LB_TYPE_NONE (the default) for the file type's choice.
 * Errors: LB_E_INVALID_ARG (not a type); LB_E_UNSUPPORTED (a type lowbit
 * cannot produce). Same for the next function. */
LB_API lb_status lb_quantizer_set_output_tensor_type(lb_quantizer *quantizer, lb_type type);

/* The type of token_embd.weight (llama-quantize --token-embedding-type), or
 * LB_TYPE_NONE (the default). */
LB_API lb_status lb_quantizer_set_token_embedding_type(lb_quantizer *quantizer, lb_type type);

/* Gives every tensor whose name matches `pattern` (an ECMAScript regular
 * expression, searched anywhere in the name; the first matching pattern
 * wins) the type `type` (llama-quantize --tensor-type PATTERN=TYPE).
 * Errors: LB_E_INVALID_ARG (NULL arguments, a pattern that does not compile:
 * the message says why, not a type); LB_E_UNSUPPORTED (a type lowbit cannot
 * produce). */
LB_API lb_status lb_quantizer_add_tensor_type(lb_quantizer *quantizer, const char *pattern, lb_type type);

/* 1: every quantizable tensor gets the file type's default type, without the
 * per-tensor mixture (llama-quantize --pure). Default 0. */
LB_API lb_status lb_quantizer_set_pure(lb_quantizer *quantizer, int pure);

/* 0: leave output.weight as it is (llama-quantize --leave-output-tensor).
 * Default 1. */
LB_API lb_status lb_quantizer_set_quantize_output(lb_quantizer *quantizer, int quantize_output);

/* 1: copy every tensor as it is (llama-quantize's COPY type); the file type
 * written is the input's. Default 0. */
LB_API lb_status lb_quantizer_set_only_copy(lb_quantizer *quantizer, int only_copy);

/* Sets or adds a metadata key in the output, as llama-quantize
 * --override-kv KEY=TYPE:VALUE with TYPE int (stored as u32 of the absolute
 * value, as llama.cpp does), float (f32), bool (true/false) or str.
 * Errors: LB_E_INVALID_ARG (malformed spec: the message says what is wrong). */
LB_API lb_status lb_quantizer_add_kv_override(lb_quantizer *quantizer, const char *spec);

/* 1: write one output file per input shard (llama-quantize --keep-split),
 * named as llama.cpp names shards: out_path without ".gguf", then
 * "-00001-of-0000N.gguf" (also for a model in one file). The first carries
 * the metadata, the others only the split keys. Default 0: one file. */
LB_API lb_status lb_quantizer_set_keep_split(lb_quantizer *quantizer, int keep_split);

/* Removes the layers blk.N of the listed indices and renumbers the rest
 * (llama-quantize --prune-layers). n = 0 clears the list.
 * Errors: LB_E_INVALID_ARG (NULL layers with n > 0, negative index). */
LB_API lb_status lb_quantizer_set_prune_layers(lb_quantizer *quantizer, const int32_t *layers, size_t n);

/* 1: lb_quantizer_run() decides every tensor's type and the output size but
 * writes nothing (llama-quantize --dry-run). Default 0. */
LB_API lb_status lb_quantizer_set_dry_run(lb_quantizer *quantizer, int dry_run);

/* The plan of the last run (or dry run): one entry per output tensor, in
 * output order. Name borrowed from the quantizer, valid until its next run
 * or lb_quantizer_free(). Out-of-range indices give NULL / LB_TYPE_NONE / 0. */
LB_API size_t lb_quantizer_plan_count(const lb_quantizer *quantizer);
LB_API const char *lb_quantizer_plan_name(const lb_quantizer *quantizer, size_t i);
LB_API lb_type lb_quantizer_plan_input_type(const lb_quantizer *quantizer, size_t i);
LB_API lb_type lb_quantizer_plan_type(const lb_quantizer *quantizer, size_t i);
LB_API uint64_t lb_quantizer_plan_bytes(const lb_quantizer *quantizer, size_t i);
/* Which output of the run plan entry i belongs to (0 after lb_quantizer_run()). */
LB_API size_t lb_quantizer_plan_output(const lb_quantizer *quantizer, size_t i);

/* Figures from the last successful lb_quantizer_run() (or dry run). */
typedef enum lb_stat {
    LB_STAT_TENSORS = 0,           /* tensors written */
    LB_STAT_QUANTIZED = 1,         /* tensors whose type was changed */
    LB_STAT_FALLBACKS = 2,         /* tensors that fell back to another type because of their shape */
    LB_STAT_ELEMENTS = 3,          /* weights in all tensors */
    LB_STAT_INPUT_BYTES = 4,       /* tensor data bytes read */
    LB_STAT_OUTPUT_BYTES = 5,      /* tensor data bytes written (without padding) */
    LB_STAT_OUTPUT_FILE_BYTES = 6, /* size of the output file */
    LB_STAT_ELAPSED_US = 7,        /* wall time of the run in microseconds */
    LB_STAT_OUTPUT_FILES = 8,      /* files written (several with keep_split) */
    LB_STAT_FORCE_INT32 = 0x7fffffff
} lb_stat;

/* One figure from the last successful run; 0 before any run, for a NULL
 * quantizer or an unknown stat. After lb_quantizer_run_many(), the sum over
 * its outputs (LB_STAT_ELAPSED_US: the wall time of the whole run). */
LB_API uint64_t lb_quantizer_stat(const lb_quantizer *quantizer, lb_stat stat);

/* One figure of output `output` of the last successful run (0 if there is no
 * such output). LB_STAT_ELAPSED_US is the whole run's wall time. */
LB_API uint64_t lb_quantizer_output_stat(const lb_quantizer *quantizer, size_t output, lb_stat stat);

/* ------------------------------------------------------------------------ */
/* Sessions: running a model                                                */
/* ------------------------------------------------------------------------ */

/* A session runs a model forward: it tokenizes text with the model's
 * vocabulary, evaluates tokens with a key/value cache and keeps their logits,
 * and on that measures perplexity and generates text. It runs llama-family
 * models (general.architecture "llama", "qwen2", "qwen3") with weights of any
 * type lowbit reads (F32, F16, BF16, Q4_0 ... Q8_0, Q2_K ... Q6_K), the way
 * llama.cpp's CPU backend does: activations quantized to the type llama.cpp
 * pairs with each weight type, so logits agree with llama.cpp's closely.
 *
 * Several sessions may run on one model at once, each on its own thread; one
 * session is used from one thread at a time (lb_session_cancel() excepted).
 * The model must stay open while its sessions live. */
typedef struct lb_session lb_session;

/* Opens a session on model, checking that it can be run: the architecture,
 * every tensor's presence, shape and type, the vocabulary (its token ids
 * must lie inside the embedding). Nothing is loaded: weights are read from
 * the model's mapping as they are used.
 * Errors: LB_E_INVALID_ARG (NULL arguments); LB_E_UNSUPPORTED (an
 * architecture, tokenizer or tensor type lowbit cannot run: the message
 * names it); LB_E_FORMAT (a tensor missing or of the wrong shape, a broken
 * vocabulary: the message names the tensor or key); LB_E_NOMEM. */
LB_API lb_status lb_session_new(lb_session **out, const lb_model *model);

/* Releases a session. Accepts NULL. */
LB_API void lb_session_free(lb_session *session);

/* The session's numeric options, set and read through one pair of functions
 * (new options add values here, not symbols). */
typedef enum lb_session_param {
    /* Worker threads; 0 (the default) is one per hardware thread. */
    LB_SESSION_THREADS = 0,
    /* Tokens the key/value cache holds; 0 (the default) is the model's
     * trained context (<arch>.context_length) up to 4096. Changing it
     * empties the cache. */
    LB_SESSION_CONTEXT = 1,
    /* Tokens evaluated per step of lb_session_eval() (default 512). */
    LB_SESSION_BATCH = 2,
    /* The cache's element type: LB_TYPE_F16 (the default, as llama.cpp) or
     * LB_TYPE_F32. Changing it empties the cache. */
    LB_SESSION_CACHE_TYPE = 3,
    /* 1 (the default): at the first evaluation, Q8_0 and Q4_K matrices
     * whose row counts allow it are copied once into the tiled layout the
     * kernel set multiplies fastest (Q8R16, Q4_K_4: docs/formats.md), where
     * it has kernels for one; the logits agree with the file's layout within
     * the dot products' bounds. 0: the file's layout only (the copies are
     * freed at the next evaluation). */
    LB_SESSION_REPACK = 4,
    LB_SESSION_PARAM_FORCE_INT32 = 0x7fffffff
} lb_session_param;

/* Errors: LB_E_INVALID_ARG (NULL session, an unknown parameter, a value out
 * of range: the message gives the range). */
LB_API lb_status lb_session_set_param(lb_session *session, lb_session_param param, int64_t value);
LB_API lb_status lb_session_get_param(int64_t *out, const lb_session *session, lb_session_param param);

/* --- Tokens ------------------------------------------------------------- */

typedef enum lb_tokenize_flags {
    /* Add BOS and EOS as the vocabulary asks (tokenizer.ggml.add_bos_token ...). */
    LB_TOKENIZE_ADD_SPECIAL = 1,
    /* Text such as "<s>" or "<|im_end|>" becomes the control token it names;
     * without it, only user-defined tokens are recognised in the text (as
     * llama.cpp does). */
    LB_TOKENIZE_PARSE_SPECIAL = 2,
    LB_TOKENIZE_FORCE_INT32 = 0x7fffffff
} lb_tokenize_flags;

/* Tokenizes len bytes of UTF-8 text (flags: lb_tokenize_flags or'ed) the way
 * llama.cpp's llama_tokenize does, into tokens[0, capacity). *n_tokens
 * receives the number of tokens of the text, also when capacity is too small
 * (then nothing is written and the call fails): call with capacity 0 to ask.
 * Errors: LB_E_INVALID_ARG (NULL session or n_tokens, NULL text with len > 0,
 * NULL tokens with capacity > 0, capacity too small). */
LB_API lb_status lb_session_tokenize(const lb_session *session, const char *text, size_t len, uint32_t flags,
                                     int32_t *tokens, size_t capacity, size_t *n_tokens);

/* Writes the text of n tokens (UTF-8, not NUL-terminated) into
 * text[0, capacity); *len receives its length in bytes, also when capacity
 * is too small (then nothing is written and the call fails). With special
 * nonzero, control tokens render as their text ("</s>"); otherwise as
 * nothing. Errors: LB_E_INVALID_ARG (NULL arguments, a token outside the
 * vocabulary, capacity too small). */
LB_API lb_status lb_session_detokenize(const lb_session *session, const int32_t *tokens, size_t n,
                                       int special, char *text, size_t capacity, size_t *len);

/* The number of tokens of the vocabulary (rows of token_embd.weight: the
 * width of a logit row). */
LB_API size_t lb_session_vocab_size(const lb_session *session);

typedef enum lb_special_token {
    LB_TOKEN_BOS = 0,
    LB_TOKEN_EOS = 1,
    LB_TOKEN_UNK = 2,
    LB_TOKEN_PAD = 3,
    LB_TOKEN_EOT = 4, /* end of turn ("<|im_end|>", "<|eot_id|>" ...) */
    LB_SPECIAL_TOKEN_FORCE_INT32 = 0x7fffffff
} lb_special_token;

/* The id of a special token, or -1 if the vocabulary has none. */
LB_API int32_t lb_session_special_token(const lb_session *session, lb_special_token which);

/* --- Evaluation ----------------------------------------------------------- */

/* Empties the key/value cache: the next lb_session_eval() starts at
 * position 0. */
LB_API lb_status lb_session_clear(lb_session *session);

/* Tokens in the cache: the position the next token gets. */
LB_API size_t lb_session_position(const lb_session *session);

/* Evaluates n tokens after those in the cache (positions position ...
 * position + n - 1), LB_SESSION_BATCH at a time, and keeps the logits of
 * token i where outputs[i] is nonzero (outputs NULL: of the last token only).
 * On failure the cache holds what it held before.
 * Errors: LB_E_INVALID_ARG (NULL session or tokens, n = 0, a token outside
 * the vocabulary, position + n beyond the context); LB_E_CANCELLED (the
 * observer or lb_session_cancel()); LB_E_NOMEM. */
LB_API lb_status lb_session_eval(lb_session *session, const int32_t *tokens, size_t n,
                                 const uint8_t *outputs);

/* The logits kept by the last lb_session_eval(): lb_session_n_logits() rows
 * of lb_session_vocab_size() floats, in token order. lb_session_logits()
 * returns row k (borrowed, valid until the next eval or clear), NULL for k
 * out of range. */
LB_API size_t lb_session_n_logits(const lb_session *session);
LB_API const float *lb_session_logits(const lb_session *session, size_t k);

/* Asks a running evaluation, perplexity or generation to stop: it then fails
 * with LB_E_CANCELLED. Safe from any thread while the session runs.
 * Accepts NULL. */
LB_API void lb_session_cancel(lb_session *session);

/* --- The observer: the inputs of every matrix product ---------------------- */

/* One matrix product about to run: its weight, and the rows it multiplies
 * (the activations before they are quantized for the product), as llama.cpp's
 * eval callback shows them to llama-imatrix. Owned by the library, valid only
 * during the call. Fields may be added at the end, with a higher version. */
typedef struct lb_matmul_input {
    uint32_t version;   /* LB_MATMUL_INPUT_VERSION of the library that filled it */
    const char *weight; /* the weight tensor's name: "blk.3.ffn_down.weight", "output.weight" */
    int32_t layer;      /* its layer (blk.N), -1 for output.weight */
    int64_t n_rows;     /* input rows: one per token of the step */
    int64_t n_cols;     /* values per row: the weight's ne[0] */
    const float *rows;  /* n_rows x n_cols, row-major */
} lb_matmul_input;

#define LB_MATMUL_INPUT_VERSION 1

/* Called on the thread that evaluates, before each matrix product of each
 * step (q, k and v of a layer share their input but are each announced).
 * Return 0 to continue, nonzero to cancel (the evaluation then fails with
 * LB_E_CANCELLED). */
typedef int (*lb_observer_fn)(const lb_matmul_input *input, void *user);

/* Sets (or with fn NULL, clears) the observer.
 * Errors: LB_E_INVALID_ARG (NULL session). */
LB_API lb_status lb_session_set_observer(lb_session *session, lb_observer_fn fn, void *user);

/* --- Perplexity ---------------------------------------------------------- */

/* A perplexity, or the estimate so far. Set version to LB_PERPLEXITY_VERSION
 * before passing one to be filled: the library fills the fields of that
 * version (fields may be added at the end, with a higher version). */
typedef struct lb_perplexity {
    uint32_t version;       /* LB_PERPLEXITY_VERSION */
    double perplexity;      /* exp(mean negative log-likelihood) */
    double uncertainty;     /* its standard error, as llama-perplexity prints it */
    double mean_nll;        /* mean negative log-likelihood of the scored tokens */
    uint64_t n_tokens;      /* tokens of the text, BOS included */
    uint64_t n_chunks;      /* chunks that will be scored */
    uint64_t n_chunks_done; /* chunks scored so far */
    uint64_t n_scored;      /* predictions scored so far */
    double seconds;         /* time so far */
} lb_perplexity;

#define LB_PERPLEXITY_VERSION 1

/* Called after each chunk with the estimate so far; return nonzero to cancel. */
typedef int (*lb_perplexity_fn)(const lb_perplexity *so_far, void *user);

/* Scores len bytes of text as llama-perplexity does: tokenized with BOS,
 * consecutive chunks of n_ctx tokens each evaluated alone with its first
 * token replaced by BOS, and in each chunk the predictions of positions
 * n_ctx/2 ... n_ctx-2 scored. max_chunks limits the chunks (0: all).
 * progress may be NULL. The cache is used (and emptied) as it goes.
 * Errors: LB_E_INVALID_ARG (NULL arguments, out->version unknown, n_ctx < 2 or larger than the
 * model's context, a text shorter than 2 * n_ctx tokens: the message says how
 * long it is); LB_E_CANCELLED; LB_E_NOMEM. */
LB_API lb_status lb_session_perplexity(lb_session *session, const char *text, size_t len, int64_t n_ctx,
                                       int64_t max_chunks, lb_perplexity_fn progress, void *user,
                                       lb_perplexity *out);

/* --- Generation ---------------------------------------------------------- */

typedef struct lb_generate_options {
    uint32_t version;   /* LB_GENERATE_OPTIONS_VERSION */
    int32_t max_tokens; /* tokens to generate at most (default 64) */
    float temperature;  /* 0 (the default): the most likely token every time */
    int32_t top_k;      /* sample among the top_k most likely (default 40; 0: all) */
    float top_p;        /* ... whose probabilities reach top_p (default 0.95; 1: all) */
    uint64_t seed;      /* of the sampler (default 0) */
    int stop_at_end;    /* 1 (the default): stop at the end-of-sequence / -turn token */
} lb_generate_options;

#define LB_GENERATE_OPTIONS_VERSION 1

/* Fills o with the defaults of options version `version` (pass
 * LB_GENERATE_OPTIONS_VERSION). Errors: LB_E_INVALID_ARG (NULL o, unknown
 * version). */
LB_API lb_status lb_generate_options_init(lb_generate_options *o, uint32_t version);

/* Called for each token generated with its text (UTF-8, possibly part of a
 * character); return nonzero to stop. */
typedef int (*lb_token_fn)(int32_t token, const char *piece, size_t len, void *user);

/* Tokenizes the prompt (with BOS as the vocabulary asks), evaluates it from
 * position 0 and generates up to o->max_tokens tokens, calling on_token (may
 * be NULL) for each. o NULL: the defaults.
 * Errors: LB_E_INVALID_ARG (NULL session or prompt, bad options, a prompt
 * that with max_tokens exceeds the context); LB_E_CANCELLED; LB_E_NOMEM. */
LB_API lb_status lb_session_generate(lb_session *session, const char *prompt, size_t len,
                                     const lb_generate_options *o, lb_token_fn on_token, void *user);

/* --- KL-divergence -------------------------------------------------------- */

/* How far a model's next-token distributions are from a base model's (the
 * 16-bit original of a quantized file) over a text, scored as
 * llama-perplexity --kl-divergence scores: the text cut as
 * lb_session_perplexity() cuts it, and at each scored position the
 * KL-divergence KL(base || model), the change of the correct token's
 * probability (Δp = p_model - p_base) and whether both rank the same token
 * first. In one step (lb_kld) or in two: the base's distributions saved to a
 * file first (lb_kld_save_base), so that one run of the base serves many
 * models (lb_kld_from_file); both give the same figures to the bit. */

typedef struct lb_kld_options {
    uint32_t version;   /* LB_KLD_OPTIONS_VERSION */
    int32_t n_ctx;      /* tokens per chunk (default 512) */
    int32_t max_chunks; /* chunks to score at most (default 0: all) */
} lb_kld_options;

#define LB_KLD_OPTIONS_VERSION 1

/* Fills o with the defaults of options version `version`.
 * Errors: LB_E_INVALID_ARG (NULL o, unknown version). */
LB_API lb_status lb_kld_options_init(lb_kld_options *o, uint32_t version);

/* A value and its standard error. */
typedef struct lb_estimate {
    double value;
    double uncertainty;
} lb_estimate;

/* The extremes and quantiles of a per-position figure (linear interpolation
 * between sorted values, as llama.cpp computes them). */
typedef struct lb_quantiles {
    double min, p0_1, p1, p5, p10, p25, median, p75, p90, p95, p99, p99_9, max;
} lb_quantiles;

/* What llama-perplexity --kl-divergence prints. Set version to
 * LB_KLD_RESULT_VERSION before passing one to be filled: the library fills
 * the fields of that version. */
typedef struct lb_kld_result {
    uint32_t version;
    uint64_t n_scored;              /* positions scored so far */
    uint64_t n_chunks;              /* chunks scored so far */
    uint64_t n_chunks_total;        /* chunks that will be scored */
    int32_t n_ctx;                  /* tokens per chunk */
    lb_estimate ppl;                /* PPL(model) */
    lb_estimate ppl_base;           /* PPL(base) */
    double ln_ppl_correlation;      /* of the two models' per-token log-likelihoods */
    lb_estimate ln_ppl_ratio;       /* ln(PPL(model) / PPL(base)) */
    lb_estimate ppl_ratio;          /* PPL(model) / PPL(base) */
    lb_estimate ppl_difference;     /* PPL(model) - PPL(base) */
    lb_estimate kld;                /* mean KL(base || model), nats */
    lb_quantiles kld_quantiles;     /* of the per-position KLD */
    lb_estimate delta_p;            /* mean Δp of the correct token (a probability) */
    lb_quantiles delta_p_quantiles; /* of Δp */
    lb_estimate delta_p_rms;        /* root mean square of Δp */
    lb_estimate same_top;           /* fraction of positions whose most likely token is the base's */
    double seconds;                 /* time so far */
} lb_kld_result;

#define LB_KLD_RESULT_VERSION 1

/* Called after each chunk with the figures so far (a version
 * LB_KLD_RESULT_VERSION struct owned by the library); nonzero cancels. */
typedef int (*lb_kld_fn)(const lb_kld_result *so_far, void *user);

/* The divergence of model from base over len bytes of text. The two
 * sessions must be of the same vocabulary; both caches are used and emptied.
 * o NULL: the defaults; progress may be NULL.
 * Errors: LB_E_INVALID_ARG (NULL arguments, out->version unknown, bad
 * options, models of different vocabularies, a text shorter than two
 * contexts); LB_E_CANCELLED (progress, or lb_session_cancel on either
 * session); LB_E_NOMEM. */
LB_API lb_status lb_kld(lb_session *base, lb_session *model, const char *text, size_t len,
                        const lb_kld_options *o, lb_kld_fn progress, void *user, lb_kld_result *out);

/* Called after each chunk written: chunks done and in all; nonzero cancels. */
typedef int (*lb_chunks_fn)(uint64_t done, uint64_t total, void *user);

/* Evaluates base over the text and writes its distributions at the scored
 * positions, and the text's tokens, to path (lowbit's base-logits format:
 * zstd-compressed, written chunk by chunk and atomically, memory
 * independent of the text's length). *n_chunks (may be NULL) receives the
 * chunks written.
 * Errors: as lb_kld(); LB_E_IO (naming the path). */
LB_API lb_status lb_kld_save_base(lb_session *base, const char *text, size_t len, const lb_kld_options *o,
                                  const char *path, lb_chunks_fn progress, void *user, uint64_t *n_chunks);

/* The divergence of model from the base distributions saved in path, on
 * the tokens saved with them (no text is needed).
 * Errors: LB_E_INVALID_ARG (NULL arguments, out->version unknown, a file of
 * another vocabulary, chunks longer than the model's context); LB_E_IO;
 * LB_E_FORMAT (not a base-logits file, truncated, corrupt: the message names
 * the file); LB_E_CANCELLED; LB_E_NOMEM. */
LB_API lb_status lb_kld_from_file(lb_session *model, const char *base_path, lb_kld_fn progress, void *user,
                                  lb_kld_result *out);

/* --- Per-tensor errors ---------------------------------------------------- */

/* Which weight tensors of a quantized model hurt most, on a text: the base
 * session evaluates the text (cut and evaluated as lb_kld() does it), and
 * for each matrix product of that run, with weight W (the base's) and input
 * rows x, the quantized model's tensor of the same name W_q gives
 *   relative error = sum over x of ||W_q x - W x||^2 / sum over x of ||W x||^2,
 * both tensors dequantized to F32. The inputs are the base's own, so each
 * tensor's error is measured alone (no error flows in from the layers
 * before it); a tensor identical in both models has error 0. */

/* The result: one entry per weight tensor the run multiplied, worst
 * (highest relative error) first, ties in name order. */
typedef struct lb_tensor_errors lb_tensor_errors;

/* One tensor's figures. Set version to LB_TENSOR_ERROR_VERSION before
 * passing one to lb_tensor_errors_get(): the library fills the fields of
 * that version (fields may be added at the end, with a higher version). */
typedef struct lb_tensor_error {
    uint32_t version;
    const char *name;  /* "blk.3.ffn_down.weight"; borrowed from the result */
    int32_t layer;     /* blk.N, -1 for the output projection */
    lb_type base_type; /* the tensor's type in the base model */
    lb_type type;      /* ... and in the quantized model */
    uint64_t n_rows;   /* input rows multiplied, over the whole text */
    double error;      /* sum of ||W_q x - W x||^2 */
    double reference;  /* sum of ||W x||^2 */
    double relative;   /* error / reference (0 when both are 0) */
} lb_tensor_error;

#define LB_TENSOR_ERROR_VERSION 1

/* Measures every weight tensor of quantized against base's model over len
 * bytes of text; *out receives the result (release it with
 * lb_tensor_errors_free()). quantized is only read, never run: it must hold
 * each weight the base multiplies under the same name and shape, in any type
 * lowbit reads. o NULL: the defaults (its n_ctx and max_chunks as for
 * lb_kld()); progress (may be NULL) is called after each chunk. base's
 * observer (lb_session_set_observer) still sees every product; its cache is
 * used and emptied.
 * Errors: LB_E_INVALID_ARG (NULL arguments, bad options, a text shorter
 * than two contexts, a tensor missing from quantized or of another shape:
 * the message names the tensor and file); LB_E_UNSUPPORTED (a tensor type
 * lowbit cannot read); LB_E_CANCELLED (progress, the observer, or
 * lb_session_cancel on base); LB_E_NOMEM. */
LB_API lb_status lb_tensor_errors_measure(lb_tensor_errors **out, lb_session *base, const lb_model *quantized,
                                          const char *text, size_t len, const lb_kld_options *o,
                                          lb_chunks_fn progress, void *user);

/* Releases a result. Accepts NULL. */
LB_API void lb_tensor_errors_free(lb_tensor_errors *errors);

/* Entries in the result (0 for NULL). */
LB_API size_t lb_tensor_errors_count(const lb_tensor_errors *errors);

/* Entry i (i < lb_tensor_errors_count()) into *out.
 * Errors: LB_E_INVALID_ARG (NULL arguments, i out of range, out->version
 * unknown). */
LB_API lb_status lb_tensor_errors_get(const lb_tensor_errors *errors, size_t i, lb_tensor_error *out);

/* ------------------------------------------------------------------------ */
/* Hugging Face checkpoints                                                 */
/* ------------------------------------------------------------------------ */

/* How lb_convert() writes a checkpoint as GGUF. Initialise with
 * lb_convert_options_init(); fields may be added at the end, with a higher
 * version. */
typedef struct lb_convert_options {
    uint32_t version;  /* LB_CONVERT_OPTIONS_VERSION */
    lb_type outtype;   /* the weights' type: LB_TYPE_F32, LB_TYPE_F16 (default), LB_TYPE_BF16 or
                          LB_TYPE_Q8_0 (1-D tensors stay F32; Q8_0 rows not a multiple of 32 wide are F16) */
    int32_t n_threads; /* worker threads (0, the default: all) */
} lb_convert_options;

#define LB_CONVERT_OPTIONS_VERSION 1

/* Fills o with the defaults of options version `version`.
 * Errors: LB_E_INVALID_ARG (NULL o, unknown version). */
LB_API lb_status lb_convert_options_init(lb_convert_options *o, uint32_t version);

/* Converts a Hugging Face checkpoint folder (config.json; model.safetensors
 * or model.safetensors.index.json and its shards; tokenizer.json and
 * tokenizer_config.json) to a GGUF file at out_path, written atomically, as
 * llama.cpp's convert_hf_to_gguf.py writes it: LlamaForCausalLM,
 * MistralForCausalLM, Qwen2ForCausalLM and Qwen3ForCausalLM; llama.cpp's
 * tensor names, Q/K rows in its rotary order (llama, mistral), the <arch>.*
 * hyper-parameters, the tokenizer (byte-level BPE, or BPE over
 * SentencePiece-normalized text), general.* keys. Tensors are converted one
 * at a time; progress (may be NULL) is called after each, with the
 * tensor's GGUF name; nonzero cancels.
 * src may also be an archive of such a folder, by its name: .tar, .tar.gz
 * (.tgz), .tar.zst (.tzst), .tar.xz (.txz), .tar.bz2 or .zip, the checkpoint
 * at its top or in one top folder. It is read once, front to back; the
 * members a checkpoint uses are held in memory (none is unpacked to disk),
 * the others skipped. An archive holding a link, a device, an absolute or
 * ".." name, or a name twice is refused naming the member. In a folder or an
 * archive, a file NAME.zst stands for NAME (zstd-compressed).
 * Errors: LB_E_INVALID_ARG (NULL paths, a bad option); LB_E_IO;
 * LB_E_FORMAT (a malformed file, a missing tensor or field, a shape that
 * disagrees with the config, a damaged, truncated or refused archive or
 * .zst file: the message names the file, member, field or tensor);
 * LB_E_UNSUPPORTED (an architecture, dtype, tensor or tokenizer lowbit does
 * not convert, naming it); LB_E_CANCELLED; LB_E_NOMEM. */
LB_API lb_status lb_convert(const char *src, const char *out_path, const lb_convert_options *o,
                            lb_progress_fn progress, void *user);

/* ------------------------------------------------------------------------ */
/* Importance matrices                                                      */
/* ------------------------------------------------------------------------ */

/* Reads an importance matrix (llama.cpp's GGUF imatrix or legacy .dat) and
 * writes it in the GGUF form llama.cpp's tools read (general.type =
 * "imatrix", <name>.in_sum2 and <name>.counts tensors in name order). The
 * output is written atomically, as model outputs are.
 * Errors: LB_E_INVALID_ARG (NULL paths, out_path naming the input); LB_E_IO;
 * LB_E_FORMAT (a malformed input, naming the file and entry). */
LB_API lb_status lb_imatrix_convert(const char *in_path, const char *out_path);

/* --- Collecting one ------------------------------------------------------- */

/* How lb_imatrix_collect() gathers an importance matrix. Initialise with
 * lb_imatrix_options_init(); fields may be added at the end, with a higher
 * version. */
typedef struct lb_imatrix_options {
    uint32_t version;            /* LB_IMATRIX_OPTIONS_VERSION */
    int32_t n_ctx;               /* tokens per chunk (default 512) */
    int32_t max_chunks;          /* chunks to evaluate at most (default 0: all) */
    int32_t process_output;      /* nonzero: collect output.weight too (--process-output) */
    int32_t with_in_sum;         /* nonzero: also write <name>.in_sum, the sums of the activations */
    int32_t save_frequency;      /* nonzero N: also write OUT.at_K each time the chunk count K
                                    reaches a multiple of N (--save-frequency) */
    int32_t legacy_format;       /* nonzero: write the legacy .dat form (--output-format dat) */
    const char *dataset;         /* recorded in imatrix.datasets after the merged files' (NULL: none) */
    const char *const *in_files; /* n_in_files importance matrices of this model merged in first */
    size_t n_in_files;
} lb_imatrix_options;

#define LB_IMATRIX_OPTIONS_VERSION 1

/* Fills o with the defaults of options version `version`.
 * Errors: LB_E_INVALID_ARG (NULL o, unknown version). */
LB_API lb_status lb_imatrix_options_init(lb_imatrix_options *o, uint32_t version);

/* The progress or the outcome of a collection. Set version to
 * LB_IMATRIX_RESULT_VERSION before passing one to be filled. */
typedef struct lb_imatrix_result {
    uint32_t version;
    uint64_t n_chunks;       /* chunks evaluated so far */
    uint64_t n_chunks_total; /* chunks that will be evaluated */
    int32_t n_ctx;           /* tokens per chunk */
    uint32_t chunk_count;    /* imatrix.chunk_count: llama-imatrix's count (merged files included) */
    uint64_t n_entries;      /* weight tensors collected */
    lb_estimate ppl;         /* the perplexity of the chunks' second halves, as llama-imatrix prints it */
    double seconds;          /* since the call began */
} lb_imatrix_result;

#define LB_IMATRIX_RESULT_VERSION 1

/* Called after each chunk; nonzero cancels. */
typedef int (*lb_imatrix_fn)(const lb_imatrix_result *so_far, void *user);

/* Collects an importance matrix of session's model over text as
 * llama-imatrix does and writes it to out_path (atomically: nothing appears
 * at out_path on an error or a cancel). The text is cut as for perplexity
 * (chunks of n_ctx tokens, BOS first, at least two chunks); each chunk is
 * evaluated alone, all its logits computed. For every matrix product with a
 * weight named blk.* (and output.weight with process_output) and at least 16
 * input rows (llama-imatrix ignores smaller batches), the rows x are added:
 * <name>.in_sum2 += x_j^2 per column, <name>.counts += rows. The session's
 * own observer, if any, still sees every product. The GGUF written is
 * llama.cpp's imatrix form (general.type = "imatrix", imatrix.datasets,
 * imatrix.chunk_count, imatrix.chunk_size = n_ctx), which
 * lb_quantizer_set_imatrix() and llama-quantize --imatrix read.
 * Errors: LB_E_INVALID_ARG (NULL arguments, a bad option or out->version, a
 * text shorter than two chunks, an in_file for another model, naming the
 * file and tensor); LB_E_FORMAT (an unreadable in_file); LB_E_IO;
 * LB_E_CANCELLED; LB_E_NOMEM. */
LB_API lb_status lb_imatrix_collect(lb_session *session, const char *text, size_t len,
                                    const lb_imatrix_options *o, const char *out_path, lb_imatrix_fn progress,
                                    void *user, lb_imatrix_result *out);

/* ------------------------------------------------------------------------ */
/* Synthetic models                                                         */
/* ------------------------------------------------------------------------ */

/* The architectures synthetic models come in: the tensors and metadata
 * llama.cpp expects of each. */
typedef enum lb_synth_arch {
    LB_SYNTH_LLAMA = 0, /* general.architecture "llama" */
    LB_SYNTH_QWEN2 = 1, /* "qwen2": biases on the Q, K and V projections, NeoX rope */
    LB_SYNTH_QWEN3 = 2, /* "qwen3": RMSNorm of Q and K per head, NeoX rope */
    LB_SYNTH_ARCH_FORCE_INT32 = 0x7fffffff
} lb_synth_arch;

/* A llama-family model with random weights of realistic statistics
 * (Gaussian rows, a spread of per-row and per-column scales, rare large
 * outliers), for tests and benchmarks. Deterministic for a given seed. */
typedef struct lb_synth_options {
    uint32_t version;   /* LB_SYNTH_OPTIONS_VERSION */
    uint32_t n_layer;   /* blocks */
    uint32_t n_embd;    /* hidden size (multiple of n_head) */
    uint32_t n_head;    /* attention heads */
    uint32_t n_head_kv; /* key/value heads; n_head / n_head_kv is the GQA ratio */
    uint32_t n_ff;      /* feed-forward size */
    int tied_output;    /* 1: no output.weight (token_embd is shared) */
    lb_type type;       /* LB_TYPE_F32, LB_TYPE_F16 or LB_TYPE_BF16 */
    uint64_t seed;
    /* A GGUF model whose tokenizer.* keys (and vocabulary size) to copy, or
     * NULL for a built-in byte-level vocabulary of 259 tokens. */
    const char *tokenizer_from;
    lb_synth_arch arch; /* LB_SYNTH_LLAMA (the default), _QWEN2 or _QWEN3 */
} lb_synth_options;

#define LB_SYNTH_OPTIONS_VERSION 1

/* Fills o with the defaults of options version `version` (pass
 * LB_SYNTH_OPTIONS_VERSION, the version this header describes): the llama
 * architecture, 2 layers, n_embd 256, 8 heads, 4 KV heads, n_ff 512, untied
 * output, F16, seed 1, built-in vocabulary. A program built against an older
 * header passes its older version and gets the fields it knows.
 * Errors: LB_E_INVALID_ARG (NULL o, a version this library does not know). */
LB_API lb_status lb_synth_options_init(lb_synth_options *o, uint32_t version);

/* Writes the model to path (atomically), tensor by tensor, in bounded memory.
 * progress may be NULL.
 * Errors: LB_E_INVALID_ARG (NULL arguments, wrong version, impossible
 * shapes: the message says which field); LB_E_IO; LB_E_FORMAT (a bad
 * tokenizer_from); LB_E_CANCELLED (the callback asked to stop). */
LB_API lb_status lb_synth_write_model(const lb_synth_options *o, const char *path, lb_progress_fn progress,
                                      void *user);

/* Writes the same model as a Hugging Face checkpoint into the folder path,
 * which must not exist or be empty: config.json (LlamaForCausalLM,
 * Qwen2ForCausalLM or Qwen3ForCausalLM), model.safetensors with
 * transformers' tensor names and rotary row order (norms in F32, matrices
 * in the options' type), and tokenizer.json / tokenizer_config.json of the
 * built-in byte vocabulary. Converting it (lb_convert() with outtype the
 * options' type) gives the tensors lb_synth_write_model() writes, bit for
 * bit. The files are written into a temporary folder beside path and
 * renamed to path when complete. progress may be NULL.
 * Errors: as lb_synth_write_model(); LB_E_INVALID_ARG also for a
 * tokenizer_from (checkpoints carry the built-in vocabulary); LB_E_IO for a
 * path that is a file or a folder that is not empty. */
LB_API lb_status lb_synth_write_checkpoint(const lb_synth_options *o, const char *path,
                                           lb_progress_fn progress, void *user);

/* Writes a GGUF importance matrix matching the model the same options
 * describe: one entry per quantizable weight, mean squared activations with
 * a realistic log-normal spread across columns.
 * Errors: as lb_synth_write_model(). */
LB_API lb_status lb_synth_write_imatrix(const lb_synth_options *o, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* LOWBIT_LOWBIT_H */
