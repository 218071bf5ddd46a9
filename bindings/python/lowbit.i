/* SWIG interface of the lowbit Python module: the public C API of
 * include/lowbit/lowbit.h as the extension module lowbit._lowbit_c and its
 * proxy module lowbit.lowbit_c. The Pythonic API, lowbit/__init__.py, is
 * built on it; use that one.
 *
 * This layer stays close to C. Functions return their lb_status code; the
 * out-parameters of the header's functions are appended to it, so that
 * lb_row_size(type, n) returns [status, size]. Where SWIG alone is clumsy,
 * the header's function is hidden and an lbpy_* helper below takes its
 * place. The helpers
 * - release the GIL around every call that can take long: opening a model,
 *   the row API, quantization runs, imatrix conversion, synthetic models;
 * - exchange numpy arrays without copying them (numpy.i typemaps with 64-bit
 *   dimensions) and view tensor data in place;
 * - call Python callables for the progress and log callbacks of a run.
 * Helpers that produce Python objects return a (status, value) tuple. */

%define LBPY_DOCSTRING
"The C API of liblowbit (include/lowbit/lowbit.h), as SWIG wraps it, and the
lbpy_* helpers of bindings/python/lowbit.i. Functions return lb_status codes;
the lowbit package turns them into exceptions and is the API to use."
%enddef

%module(package="lowbit", docstring=LBPY_DOCSTRING) lowbit_c

%feature("autodoc", "1");

%begin %{
/* dladdr() is a GNU extension; Python.h defines _GNU_SOURCE the same way. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
%}

%{
#define SWIG_FILE_WITH_INIT
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <dlfcn.h>
#include <string.h>

#include "lowbit/lowbit.h"
%}

%include "stdint.i"
%include "numpy.i"

%init %{
import_array();
%}

/* ------------------------------------------------------------------------ */
/* Typemaps                                                                 */
/* ------------------------------------------------------------------------ */

/* numpy.i's typemaps with 64-bit dimensions: arrays of any size. */
%numpy_typemaps(float, NPY_FLOAT, int64_t)
%numpy_typemaps(uint8_t, NPY_UINT8, int64_t)
%numpy_typemaps(int32_t, NPY_INT32, int64_t)

/* An output array: 2-D, C-contiguous, native byte order, of exactly the
 * element type, and writeable (numpy.i's INPLACE_ARRAY2 does not check the
 * last). Written in place. */
%define LBPY_OUTPUT_ARRAY2(DATA_TYPE, DATA_TYPECODE)
%typemap(in, fragment="NumPy_Fragments")
  (DATA_TYPE *OUTPUT_ARRAY2, int64_t DIM1, int64_t DIM2) (PyArrayObject *output = NULL)
{
    output = obj_to_array_no_conversion($input, DATA_TYPECODE);
    if (!output || !require_dimensions(output, 2) || !require_contiguous(output) || !require_native(output))
        SWIG_fail;
    if (!PyArray_ISWRITEABLE(output)) {
        PyErr_SetString(PyExc_ValueError, "Array must be writeable.  A read-only array was given");
        SWIG_fail;
    }
    $1 = (DATA_TYPE *)array_data(output);
    $2 = (int64_t)array_size(output, 0);
    $3 = (int64_t)array_size(output, 1);
}
%enddef
LBPY_OUTPUT_ARRAY2(uint8_t, NPY_UINT8)
LBPY_OUTPUT_ARRAY2(float, NPY_FLOAT)

/* An optional 1-D array: None gives (NULL, 0). Converted (copied) only if
 * it is not already a contiguous array of the element type. */
%define LBPY_OPTIONAL_IN_ARRAY1(DATA_TYPE, DATA_TYPECODE)
%typemap(in, fragment="NumPy_Fragments")
  (DATA_TYPE *OPTIONAL_IN_ARRAY1, int64_t DIM1) (PyArrayObject *optional = NULL, int is_new_object = 0)
{
    if ($input == Py_None) {
        $1 = NULL;
        $2 = 0;
    } else {
        optional = obj_to_array_contiguous_allow_conversion($input, DATA_TYPECODE, &is_new_object);
        if (!optional || !require_dimensions(optional, 1)) SWIG_fail;
        $1 = (DATA_TYPE *)array_data(optional);
        $2 = (int64_t)array_size(optional, 0);
    }
}
%typemap(freearg) (DATA_TYPE *OPTIONAL_IN_ARRAY1, int64_t DIM1)
{
    if (is_new_object$argnum && optional$argnum) {
        Py_DECREF(optional$argnum);
    }
}
%enddef
LBPY_OPTIONAL_IN_ARRAY1(float, NPY_FLOAT)
LBPY_OPTIONAL_IN_ARRAY1(uint8_t, NPY_UINT8)

%apply (float *IN_ARRAY2, int64_t DIM1, int64_t DIM2) { (float *src, int64_t n_rows, int64_t n_per_row) };
%apply (float *OPTIONAL_IN_ARRAY1, int64_t DIM1) { (float *imatrix, int64_t imatrix_length) };
%apply (uint8_t *OUTPUT_ARRAY2, int64_t DIM1, int64_t DIM2) {
    (uint8_t *dst, int64_t dst_rows, int64_t dst_row_bytes)
};
%apply (uint8_t *IN_ARRAY2, int64_t DIM1, int64_t DIM2) {
    (uint8_t *src, int64_t src_rows, int64_t src_row_bytes)
};
%apply (float *OUTPUT_ARRAY2, int64_t DIM1, int64_t DIM2) { (float *dst, int64_t n_rows, int64_t n_per_row) };
%apply (int32_t *IN_ARRAY1, int64_t DIM1) { (int32_t *layers, int64_t n_layers) };

/* Scalar out-parameters: not passed from Python, appended to the result. */
%define LBPY_OUT_VALUE(TYPE, NAME, TO_PYTHON)
%typemap(in, numinputs=0) TYPE *NAME (TYPE temp) {
    temp = (TYPE)0;
    $1 = &temp;
}
%typemap(argout) TYPE *NAME {
    $result = SWIG_AppendOutput($result, TO_PYTHON);
}
%enddef
LBPY_OUT_VALUE(size_t, out, PyLong_FromSize_t(*$1))
LBPY_OUT_VALUE(int64_t, out, PyLong_FromLongLong((long long)*$1))
LBPY_OUT_VALUE(uint64_t, out, PyLong_FromUnsignedLongLong((unsigned long long)*$1))
LBPY_OUT_VALUE(uint64_t, out_count, PyLong_FromUnsignedLongLong((unsigned long long)*$1))
LBPY_OUT_VALUE(uint64_t, tensors_tiled, PyLong_FromUnsignedLongLong((unsigned long long)*$1))
LBPY_OUT_VALUE(double, out, PyFloat_FromDouble(*$1))
LBPY_OUT_VALUE(int, out, PyLong_FromLong((long)*$1))
LBPY_OUT_VALUE(lb_type, out, PyLong_FromLong((long)*$1))
LBPY_OUT_VALUE(lb_ftype, out, PyLong_FromLong((long)*$1))
LBPY_OUT_VALUE(lb_value_type, out_type, PyLong_FromLong((long)*$1))

/* Handle out-parameters: the new handle as an unowned SWIG pointer (None on
 * failure); the Python layer releases it with lb_model_close() or
 * lb_quantizer_free(). */
%typemap(in, numinputs=0) lb_model **out (lb_model *temp) {
    temp = NULL;
    $1 = &temp;
}
%typemap(argout) lb_model **out {
    PyObject *handle = SWIG_NewPointerObj(SWIG_as_voidptr(*$1), $descriptor(lb_model *), 0);
    $result = SWIG_AppendOutput($result, handle);
}
%typemap(in, numinputs=0) lb_quantizer **out (lb_quantizer *temp) {
    temp = NULL;
    $1 = &temp;
}
%typemap(argout) lb_quantizer **out {
    PyObject *handle = SWIG_NewPointerObj(SWIG_as_voidptr(*$1), $descriptor(lb_quantizer *), 0);
    $result = SWIG_AppendOutput($result, handle);
}
%typemap(in, numinputs=0) lb_session **out (lb_session *temp) {
    temp = NULL;
    $1 = &temp;
}
%typemap(argout) lb_session **out {
    PyObject *handle = SWIG_NewPointerObj(SWIG_as_voidptr(*$1), $descriptor(lb_session *), 0);
    $result = SWIG_AppendOutput($result, handle);
}

/* lbpy_quantize_rows() reports an imatrix of the wrong length as a Python
 * error (ValueError) besides its status. */
%exception lbpy_quantize_rows {
    $action
    if (PyErr_Occurred()) SWIG_fail;
}

/* ------------------------------------------------------------------------ */
/* The header                                                               */
/* ------------------------------------------------------------------------ */

/* Replaced by the lbpy_* helpers below. */
%ignore lb_model_open;
%ignore lb_model_kv_get_string;
%ignore lb_model_kv_get_array_data;
%ignore lb_model_kv_get_array_string;
%ignore lb_model_tensor_data;
%ignore lb_quantize_rows;
%ignore lb_dequantize_rows;
%ignore lb_quantizer_set_progress;
%ignore lb_quantizer_set_log;
%ignore lb_quantizer_run;
%ignore lb_quantizer_run_many;
%ignore lb_quantizer_set_prune_layers;
%ignore lb_imatrix_convert;
%ignore lb_synth_write_model;
%ignore lb_synth_write_imatrix;
%ignore lb_synth_write_checkpoint;
%ignore lb_session_new;
%ignore lb_session_tokenize;
%ignore lb_session_detokenize;
%ignore lb_session_eval;
%ignore lb_session_logits;
%ignore lb_session_set_observer;
%ignore lb_session_perplexity;
%ignore lb_kld;
%ignore lb_kld_save_base;
%ignore lb_kld_from_file;
%ignore lb_tensor_errors_measure;
%ignore lb_tensor_errors_get;
%ignore lb_tensor_errors_count;
%ignore lb_tensor_errors_free;
%ignore lb_imatrix_options;
%ignore lb_imatrix_options_init;
%ignore lb_imatrix_result;
%ignore lb_imatrix_fn;
%ignore lb_imatrix_collect;
%ignore lb_tensor_error;
%ignore lb_convert;
%ignore lb_kld_fn;
%ignore lb_chunks_fn;
%ignore lb_kld_result;
%ignore lb_estimate;
%ignore lb_quantiles;
%ignore lb_session_generate;
/* Only the callbacks' C side uses these. */
%ignore lb_progress;
%ignore lb_progress_fn;
%ignore lb_log_fn;
%ignore lb_matmul_input;
%ignore lb_observer_fn;
%ignore lb_perplexity;
%ignore lb_perplexity_fn;
%ignore lb_token_fn;
/* Passed to lbpy_synth_write_model() as an argument instead: a char pointer
 * member cannot be set from Python without leaking or dangling. */
%ignore lb_synth_options::tokenizer_from;
/* Enum members that only widen the enums. */
%rename("$ignore", regextarget=1) "_FORCE_INT32$";

%include "lowbit/lowbit.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

%{
/* (status, value) as a new tuple, stealing the reference to value. NULL with
 * the Python error set if value is NULL or the tuple cannot be made. */
static PyObject *lbpy_pair(lb_status status, PyObject *value) {
    if (value == NULL) return NULL;
    return Py_BuildValue("(iN)", (int)status, value);
}

/* (status, None): the result of a failed call. */
static PyObject *lbpy_failure(lb_status status) {
    Py_INCREF(Py_None);
    return lbpy_pair(status, Py_None);
}

/* The numpy type of one element of a tensor type stored element by element,
 * or -1 for types stored in blocks. BF16 has no numpy type: its raw bits are
 * shown as uint16. */
static int lbpy_element_typenum(lb_type type) {
    switch (type) {
    case LB_TYPE_F32:
        return NPY_FLOAT32;
    case LB_TYPE_F16:
        return NPY_FLOAT16;
    case LB_TYPE_BF16:
        return NPY_UINT16;
    case LB_TYPE_F64:
        return NPY_FLOAT64;
    case LB_TYPE_I8:
        return NPY_INT8;
    case LB_TYPE_I16:
        return NPY_INT16;
    case LB_TYPE_I32:
        return NPY_INT32;
    case LB_TYPE_I64:
        return NPY_INT64;
    default:
        return -1;
    }
}

/* The numpy type of the elements of a numeric or bool metadata array, or -1. */
static int lbpy_value_typenum(lb_value_type type) {
    switch (type) {
    case LB_VALUE_U8:
        return NPY_UINT8;
    case LB_VALUE_I8:
        return NPY_INT8;
    case LB_VALUE_U16:
        return NPY_UINT16;
    case LB_VALUE_I16:
        return NPY_INT16;
    case LB_VALUE_U32:
        return NPY_UINT32;
    case LB_VALUE_I32:
        return NPY_INT32;
    case LB_VALUE_F32:
        return NPY_FLOAT32;
    case LB_VALUE_BOOL:
        return NPY_BOOL;
    case LB_VALUE_U64:
        return NPY_UINT64;
    case LB_VALUE_I64:
        return NPY_INT64;
    case LB_VALUE_F64:
        return NPY_FLOAT64;
    default:
        return -1;
    }
}

/* The state of one lbpy_quantizer_run(): its Python callables and the first
 * exception one of them raised. */
typedef struct lbpy_run {
    lb_quantizer *quantizer;
    PyObject *progress; /* callable or Py_None, borrowed */
    PyObject *log;      /* callable or Py_None, borrowed */
    PyObject *error_type, *error_value, *error_traceback;
} lbpy_run;

/* Keeps the current Python exception for after the run (only the first one;
 * later ones are dropped). Needs the GIL. */
static void lbpy_run_keep_error(lbpy_run *run) {
    if (run->error_type == NULL)
        PyErr_Fetch(&run->error_type, &run->error_value, &run->error_traceback);
    else
        PyErr_Clear();
}

/* lb_progress_fn: runs on the thread of lb_quantizer_run(), which released
 * the GIL. Calls run->progress(done, total, tensor_index, tensor_count,
 * tensor_name); a true result cancels the run, and so do an exception (kept
 * for after the run) and a pending signal such as Ctrl-C (whose handler
 * runs here, on the main thread, even without a progress callable). */
static int lbpy_on_progress(const lb_progress *p, void *user) {
    lbpy_run *run = (lbpy_run *)user;
    PyGILState_STATE gil = PyGILState_Ensure();
    int stop = run->error_type != NULL;
    if (!stop && PyErr_CheckSignals() != 0) {
        lbpy_run_keep_error(run);
        stop = 1;
    }
    if (!stop && run->progress != Py_None) {
        PyObject *name = PyUnicode_DecodeUTF8(p->tensor_name, (Py_ssize_t)strlen(p->tensor_name), "replace");
        PyObject *result = NULL;
        if (name != NULL)
            result = PyObject_CallFunction(run->progress, "KKnnN", (unsigned long long)p->done_elements,
                                           (unsigned long long)p->total_elements, (Py_ssize_t)p->tensor_index,
                                           (Py_ssize_t)p->tensor_count, name);
        if (result == NULL) {
            lbpy_run_keep_error(run);
            stop = 1;
        } else {
            const int truth = PyObject_IsTrue(result);
            Py_DECREF(result);
            if (truth < 0) lbpy_run_keep_error(run);
            stop = truth != 0;
        }
    }
    PyGILState_Release(gil);
    return stop;
}

/* lb_log_fn: calls run->log(level, message). An exception is kept for after
 * the run and cancels it. */
static void lbpy_on_log(lb_log_level level, const char *message, void *user) {
    lbpy_run *run = (lbpy_run *)user;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (run->error_type == NULL && run->log != Py_None) {
        PyObject *text = PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message), "replace");
        PyObject *result = NULL;
        if (text != NULL) result = PyObject_CallFunction(run->log, "iN", (int)level, text);
        if (result == NULL) {
            lbpy_run_keep_error(run);
            lb_quantizer_cancel(run->quantizer);
        } else {
            Py_DECREF(result);
        }
    }
    PyGILState_Release(gil);
}

/* The state of one session call with Python callbacks: the callable and the
 * first exception it (or a signal handler) raised. */
typedef struct lbpy_call {
    lb_session *session;
    PyObject *callable; /* or Py_None, borrowed */
    PyObject *error_type, *error_value, *error_traceback;
    PyObject *tokens;   /* generate: the list of tokens so far */
} lbpy_call;

static void lbpy_call_keep_error(lbpy_call *call) {
    if (call->error_type == NULL)
        PyErr_Fetch(&call->error_type, &call->error_value, &call->error_traceback);
    else
        PyErr_Clear();
}

/* (status, message) of a failed or finished call, or NULL with the kept
 * exception raised again. */
static PyObject *lbpy_call_finish(lbpy_call *call, lb_status status, PyObject *extra) {
    const char *text = status != LB_OK ? lb_last_error() : "";
    PyObject *message = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
    if (call->error_type != NULL) {
        Py_XDECREF(message);
        Py_XDECREF(extra);
        PyErr_Restore(call->error_type, call->error_value, call->error_traceback);
        return NULL;
    }
    if (message == NULL) {
        Py_XDECREF(extra);
        return NULL;
    }
    if (extra == NULL) return Py_BuildValue("(iN)", (int)status, message);
    return Py_BuildValue("(iNN)", (int)status, message, extra);
}

/* The observer used while lbpy_session_eval() runs: only Ctrl-C. */
static int lbpy_on_matmul(const lb_matmul_input *input, void *user) {
    lbpy_call *call = (lbpy_call *)user;
    int stop = 0;
    (void)input;
    PyGILState_STATE gil = PyGILState_Ensure();
    if (PyErr_CheckSignals() != 0) {
        lbpy_call_keep_error(call);
        stop = 1;
    }
    PyGILState_Release(gil);
    return stop;
}

static int lbpy_on_chunk(const lb_perplexity *p, void *user) {
    lbpy_call *call = (lbpy_call *)user;
    PyGILState_STATE gil = PyGILState_Ensure();
    int stop = call->error_type != NULL;
    if (!stop && PyErr_CheckSignals() != 0) {
        lbpy_call_keep_error(call);
        stop = 1;
    }
    if (!stop && call->callable != Py_None) {
        PyObject *result = PyObject_CallFunction(call->callable, "ddKK", p->perplexity, p->uncertainty,
                                                 (unsigned long long)p->n_chunks_done,
                                                 (unsigned long long)p->n_chunks);
        if (result == NULL) {
            lbpy_call_keep_error(call);
            stop = 1;
        } else {
            const int truth = PyObject_IsTrue(result);
            Py_DECREF(result);
            if (truth < 0) lbpy_call_keep_error(call);
            stop = truth != 0;
        }
    }
    PyGILState_Release(gil);
    return stop;
}

/* Calls call->callable with args (a new reference, stolen); a true result,
 * an exception or Ctrl-C stops. Holds the GIL while it runs. */
static int lbpy_call_progress(lbpy_call *call, PyObject *(*make_args)(const void *), const void *what) {
    PyGILState_STATE gil = PyGILState_Ensure();
    int stop = call->error_type != NULL;
    if (!stop && PyErr_CheckSignals() != 0) {
        lbpy_call_keep_error(call);
        stop = 1;
    }
    if (!stop && call->callable != Py_None) {
        PyObject *args = make_args(what);
        PyObject *result = args != NULL ? PyObject_CallObject(call->callable, args) : NULL;
        Py_XDECREF(args);
        if (result == NULL) {
            lbpy_call_keep_error(call);
            stop = 1;
        } else {
            const int truth = PyObject_IsTrue(result);
            Py_DECREF(result);
            if (truth < 0) lbpy_call_keep_error(call);
            stop = truth != 0;
        }
    }
    PyGILState_Release(gil);
    return stop;
}

static PyObject *lbpy_kld_progress_args(const void *what) {
    const lb_kld_result *r = (const lb_kld_result *)what;
    return Py_BuildValue("(ddKK)", r->kld.value, r->kld.uncertainty, (unsigned long long)r->n_chunks,
                         (unsigned long long)r->n_chunks_total);
}

static int lbpy_on_kld(const lb_kld_result *r, void *user) {
    return lbpy_call_progress((lbpy_call *)user, lbpy_kld_progress_args, r);
}

typedef struct lbpy_chunks {
    uint64_t done, total;
} lbpy_chunks;

static PyObject *lbpy_chunks_args(const void *what) {
    const lbpy_chunks *c = (const lbpy_chunks *)what;
    return Py_BuildValue("(KK)", (unsigned long long)c->done, (unsigned long long)c->total);
}

static int lbpy_on_saved(uint64_t done, uint64_t total, void *user) {
    const lbpy_chunks c = {done, total};
    return lbpy_call_progress((lbpy_call *)user, lbpy_chunks_args, &c);
}

static PyObject *lbpy_imatrix_progress_args(const void *what) {
    const lb_imatrix_result *r = (const lb_imatrix_result *)what;
    return Py_BuildValue("(ddKK)", r->ppl.value, r->ppl.uncertainty, (unsigned long long)r->n_chunks,
                         (unsigned long long)r->n_chunks_total);
}

static int lbpy_on_imatrix(const lb_imatrix_result *r, void *user) {
    return lbpy_call_progress((lbpy_call *)user, lbpy_imatrix_progress_args, r);
}

static PyObject *lbpy_estimate(lb_estimate e) {
    return Py_BuildValue("{s:d,s:d}", "value", e.value, "uncertainty", e.uncertainty);
}

static PyObject *lbpy_quantiles(const lb_quantiles *q) {
    return Py_BuildValue("{s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d}", "min", q->min, "0.1%", q->p0_1,
                         "1%", q->p1, "5%", q->p5, "10%", q->p10, "25%", q->p25, "median", q->median, "75%", q->p75,
                         "90%", q->p90, "95%", q->p95, "99%", q->p99, "99.9%", q->p99_9, "max", q->max);
}

/* The result as a dict, with the keys lowbit kld --json prints. */
static PyObject *lbpy_kld_dict(const lb_kld_result *r) {
    return Py_BuildValue("{s:i,s:K,s:K,s:N,s:N,s:d,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:N,s:d}", "ctx", (int)r->n_ctx,
                         "chunks", (unsigned long long)r->n_chunks, "scored", (unsigned long long)r->n_scored, "ppl",
                         lbpy_estimate(r->ppl), "ppl_base", lbpy_estimate(r->ppl_base), "ln_ppl_correlation",
                         r->ln_ppl_correlation, "ln_ppl_ratio", lbpy_estimate(r->ln_ppl_ratio), "ppl_ratio",
                         lbpy_estimate(r->ppl_ratio), "ppl_difference", lbpy_estimate(r->ppl_difference), "kld",
                         lbpy_estimate(r->kld), "kld_quantiles", lbpy_quantiles(&r->kld_quantiles), "delta_p",
                         lbpy_estimate(r->delta_p), "delta_p_quantiles", lbpy_quantiles(&r->delta_p_quantiles),
                         "delta_p_rms", lbpy_estimate(r->delta_p_rms), "same_top", lbpy_estimate(r->same_top),
                         "seconds", r->seconds);
}

static int lbpy_on_token(int32_t token, const char *piece, size_t len, void *user) {
    lbpy_call *call = (lbpy_call *)user;
    PyGILState_STATE gil = PyGILState_Ensure();
    int stop = call->error_type != NULL;
    if (!stop && PyErr_CheckSignals() != 0) {
        lbpy_call_keep_error(call);
        stop = 1;
    }
    if (!stop) {
        PyObject *id = PyLong_FromLong((long)token);
        if (id == NULL || PyList_Append(call->tokens, id) != 0) {
            lbpy_call_keep_error(call);
            stop = 1;
        }
        Py_XDECREF(id);
    }
    if (!stop && call->callable != Py_None) {
        PyObject *result = PyObject_CallFunction(call->callable, "iy#", (int)token, piece, (Py_ssize_t)len);
        if (result == NULL) {
            lbpy_call_keep_error(call);
            stop = 1;
        } else {
            const int truth = PyObject_IsTrue(result);
            Py_DECREF(result);
            if (truth < 0) lbpy_call_keep_error(call);
            stop = truth != 0;
        }
    }
    PyGILState_Release(gil);
    return stop;
}
/* What a run writes: one file (n = 0: lb_quantizer_run() to path) or n
 * (lb_quantizer_run_many()). */
typedef struct lbpy_outputs {
    const char *path;
    const lb_ftype *ftypes;
    const char *const *paths;
    size_t n;
} lbpy_outputs;

/* lbpy_quantizer_run() and lbpy_quantizer_run_many(): the run without the
 * GIL, with the Python callables. */
static PyObject *lbpy_quantizer_run_outputs(lb_quantizer *quantizer, const lb_model *model,
                                            const lbpy_outputs *outputs, PyObject *progress, PyObject *log) {
    lbpy_run run = {quantizer, progress, log, NULL, NULL, NULL};
    if ((progress != Py_None && !PyCallable_Check(progress)) || (log != Py_None && !PyCallable_Check(log))) {
        PyErr_SetString(PyExc_TypeError, "progress and log must be callables or None");
        return NULL;
    }
    /* the progress callback is always set: it also handles Ctrl-C */
    lb_status status = lb_quantizer_set_progress(quantizer, lbpy_on_progress, &run);
    if (status == LB_OK) status = lb_quantizer_set_log(quantizer, log != Py_None ? lbpy_on_log : NULL, &run);
    if (status == LB_OK) {
        Py_BEGIN_ALLOW_THREADS
        status = outputs->n == 0 ? lb_quantizer_run(quantizer, model, outputs->path)
                                 : lb_quantizer_run_many(quantizer, model, outputs->ftypes, outputs->paths,
                                                         outputs->n);
        Py_END_ALLOW_THREADS
    }
    /* the message of this status, before the calls below */
    const char *text = status != LB_OK ? lb_last_error() : "";
    PyObject *message = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
    /* run is about to go out of scope */
    lb_quantizer_set_progress(quantizer, NULL, NULL);
    lb_quantizer_set_log(quantizer, NULL, NULL);
    if (run.error_type != NULL) {
        Py_XDECREF(message);
        PyErr_Restore(run.error_type, run.error_value, run.error_traceback);
        return NULL;
    }
    return lbpy_pair(status, message);
}

%}

%feature("docstring") lbpy_session_new
"lbpy_session_new(model) -> [status, session]: lb_session_new() without the
GIL. session is an lb_session pointer to release with lb_session_free().";

%feature("docstring") lbpy_session_tokenize
"lbpy_session_tokenize(session, text, flags) -> (status, int32 array or
None): the tokens of text (bytes).";

%feature("docstring") lbpy_session_detokenize
"lbpy_session_detokenize(session, tokens, special) -> (status, bytes or
None): the text of an int32 array of tokens.";

%feature("docstring") lbpy_session_eval
"lbpy_session_eval(session, tokens, outputs) -> (status, message): the
lb_session_eval() of an int32 array without the GIL; outputs is None or a
uint8 array as long as tokens (nonzero: keep those logits). Ctrl-C cancels
it (the handler's exception is raised).";

%feature("docstring") lbpy_session_logits
"lbpy_session_logits(session) -> float32 array (n_logits, vocab size): a
copy of the logits the last evaluation kept.";

%feature("docstring") lbpy_session_perplexity
"lbpy_session_perplexity(session, text, n_ctx, max_chunks, progress) ->
(status, message, result tuple or None): lb_session_perplexity() without the
GIL. progress(perplexity, uncertainty, chunks_done, chunks) is a callable or
None, called after each chunk; a true result cancels, as do an exception
(raised again) and Ctrl-C. The result tuple: (perplexity, uncertainty,
mean_nll, n_tokens, n_chunks, n_scored, seconds).";

%feature("docstring") lbpy_kld
"lbpy_kld(base, model, text, options, progress) -> (status, message, dict or
None): lb_kld() without the GIL; progress(kld, uncertainty, chunks_done,
chunks) is a callable or None; a true result, an exception or Ctrl-C
cancels. The dict has the keys of lowbit kld --json.";

%feature("docstring") lbpy_kld_save_base
"lbpy_kld_save_base(base, text, options, path, progress) -> (status, message,
chunks written): lb_kld_save_base() without the GIL; progress(chunks_done,
chunks).";

%feature("docstring") lbpy_kld_from_file
"lbpy_kld_from_file(model, path, progress) -> (status, message, dict or
None): lb_kld_from_file() without the GIL.";

%feature("docstring") lbpy_tensor_errors
"lbpy_tensor_errors(base, model, text, options, progress) -> (status,
message, list or None): lb_tensor_errors_measure() without the GIL; the
list holds a dict per weight tensor (name, layer, base_type, type, rows,
error, reference, relative), worst first; progress(chunks_done, chunks).";

%feature("docstring") lbpy_imatrix
"lbpy_imatrix(session, text, out_path, n_ctx, max_chunks, process_output,
with_in_sum, save_frequency, legacy, dataset, in_files, progress) ->
(status, message, dict or None): lb_imatrix_collect() without the GIL.
in_files is a list of str paths; dataset a str or None; progress(ppl,
uncertainty, chunks_done, chunks) a callable or None (a true result, an
exception or Ctrl-C cancels).";

%feature("docstring") lbpy_session_generate
"lbpy_session_generate(session, prompt, options, on_token) -> (status,
message, list of tokens): lb_session_generate() without the GIL;
on_token(token, piece bytes) is a callable or None; a true result stops.";

%feature("docstring") lbpy_library_path
"lbpy_library_path() -> str or None: the file of the liblowbit this module
is linked to, as the dynamic loader found it (None if it cannot be told).";

%feature("docstring") lbpy_model_open
"lbpy_model_open(path) -> [status, model]: lb_model_open() without the GIL.
model is an lb_model pointer to release with lb_model_close(), or None.";

%feature("docstring") lbpy_kv_string
"lbpy_kv_string(model, i) -> (status, bytes or None): string value i, with
any NUL bytes it holds.";

%feature("docstring") lbpy_kv_array_numeric
"lbpy_kv_array_numeric(model, i) -> (status, numpy array or None): a copy
of numeric or bool array value i, with the numpy dtype of its element type.";

%feature("docstring") lbpy_kv_array_strings
"lbpy_kv_array_strings(model, i) -> (status, list of bytes or None): the
elements of string array value i.";

%feature("docstring") lbpy_tensor_array
"lbpy_tensor_array(model, i, owner, raw) -> (status, numpy array or None):
a read-only view of tensor i's bytes in the mapped file, without a copy. Its
base is owner, which must keep the model open while the view lives. With
raw, the view is the tensor's bytes as a 1-D uint8 array. Otherwise types
stored element by element get their numpy dtype (BF16: uint16 holding the
raw bits) and the numpy shape is the GGUF dimensions reversed; block types
are uint8 with shape (reversed outer dimensions..., bytes per row).";

%feature("docstring") lbpy_quantize_rows
"lbpy_quantize_rows(type, src, imatrix, dst) -> status: lb_quantize_rows()
without the GIL. src: 2-D float32 (converted only if it is not a
C-contiguous float32 array); imatrix: None or 1-D float32 with one value
per column; dst: writeable C-contiguous 2-D uint8 array written in place.";

%feature("docstring") lbpy_dequantize_rows
"lbpy_dequantize_rows(type, src, dst) -> status: lb_dequantize_rows()
without the GIL. src: 2-D uint8 (converted only if it is not a C-contiguous
uint8 array); dst: writeable C-contiguous 2-D float32 array whose shape
(n_rows, n_per_row) says what to dequantize.";

%feature("docstring") lbpy_quantizer_set_prune_layers
"lbpy_quantizer_set_prune_layers(quantizer, layers) -> status: layers is a
1-D int32 array (empty clears the list).";

%feature("docstring") lbpy_quantizer_run
"lbpy_quantizer_run(quantizer, model, out_path, progress, log) ->
(status, lb_last_error() message): lb_quantizer_run() without the GIL.
progress(done, total, tensor_index, tensor_count, tensor_name) and
log(level, message) are callables or None, called with the GIL on the
calling thread; a true result of progress cancels the run. An exception
raised by either cancels the run and is raised again when it returns;
so is one raised by a signal handler (Ctrl-C) during the run.";

%feature("docstring") lbpy_quantizer_run_many
"lbpy_quantizer_run_many(quantizer, model, ftypes, out_paths, progress, log)
-> (status, message): lb_quantizer_run_many() without the GIL, with ftypes a
sequence of file type numbers and out_paths one of str of the same length;
progress and log as for lbpy_quantizer_run().";

%feature("docstring") lbpy_convert
"lbpy_convert(src, out_path, options, progress) -> (status, message):
lb_convert() without the GIL; progress(done, total, tensor_index,
tensor_count, tensor_name) is a callable or None (a true result, an
exception or Ctrl-C cancels).";

%feature("docstring") lbpy_imatrix_convert
"lbpy_imatrix_convert(in_path, out_path) -> status: lb_imatrix_convert()
without the GIL.";

%feature("docstring") lbpy_synth_write_model
"lbpy_synth_write_model(options, tokenizer_from, path) -> status:
lb_synth_write_model() without the GIL and without progress, with
options.tokenizer_from set to tokenizer_from (a path or None).";

%feature("docstring") lbpy_synth_write_checkpoint
"lbpy_synth_write_checkpoint(options, path) -> status:
lb_synth_write_checkpoint() without the GIL and without progress.";

%feature("docstring") lbpy_synth_write_imatrix
"lbpy_synth_write_imatrix(options, tokenizer_from, path) -> status:
lb_synth_write_imatrix() without the GIL, as lbpy_synth_write_model().";

%apply (int32_t *IN_ARRAY1, int64_t DIM1) { (int32_t *tokens, int64_t n_tokens) };
%apply (uint8_t *OPTIONAL_IN_ARRAY1, int64_t DIM1) { (uint8_t *outputs, int64_t n_outputs) };

%inline %{
lb_status lbpy_session_new(lb_session **out, const lb_model *model) {
    lb_status status;
    Py_BEGIN_ALLOW_THREADS
    status = lb_session_new(out, model);
    Py_END_ALLOW_THREADS
    return status;
}

PyObject *lbpy_session_tokenize(const lb_session *session, PyObject *text, unsigned flags) {
    char *bytes = NULL;
    Py_ssize_t length = 0;
    size_t n = 0;
    if (PyBytes_AsStringAndSize(text, &bytes, &length) != 0) return NULL;
    lb_status status = lb_session_tokenize(session, bytes, (size_t)length, flags, NULL, 0, &n);
    if (status != LB_OK && n == 0) return lbpy_failure(status);
    npy_intp dims[1];
    dims[0] = (npy_intp)n;
    PyObject *array = PyArray_SimpleNew(1, dims, NPY_INT32);
    if (array == NULL) return NULL;
    status = lb_session_tokenize(session, bytes, (size_t)length, flags, (int32_t *)PyArray_DATA((PyArrayObject *)array),
                                 n, &n);
    if (status != LB_OK) {
        Py_DECREF(array);
        return lbpy_failure(status);
    }
    return lbpy_pair(status, array);
}

PyObject *lbpy_session_detokenize(const lb_session *session, int32_t *tokens, int64_t n_tokens, int special) {
    size_t length = 0;
    lb_status status = lb_session_detokenize(session, tokens, (size_t)n_tokens, special, NULL, 0, &length);
    if (status != LB_OK && length == 0) return lbpy_failure(status);
    PyObject *text = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)length);
    if (text == NULL) return NULL;
    status = lb_session_detokenize(session, tokens, (size_t)n_tokens, special, PyBytes_AS_STRING(text), length, &length);
    if (status != LB_OK) {
        Py_DECREF(text);
        return lbpy_failure(status);
    }
    return lbpy_pair(status, text);
}

PyObject *lbpy_session_eval(lb_session *session, int32_t *tokens, int64_t n_tokens, uint8_t *outputs,
                            int64_t n_outputs) {
    lbpy_call call = {session, Py_None, NULL, NULL, NULL, NULL};
    lb_status status;
    if (outputs != NULL && n_outputs != n_tokens) {
        PyErr_Format(PyExc_ValueError, "outputs has %lld flags for %lld tokens", (long long)n_outputs,
                     (long long)n_tokens);
        return NULL;
    }
    status = lb_session_set_observer(session, lbpy_on_matmul, &call);
    if (status == LB_OK) {
        Py_BEGIN_ALLOW_THREADS
        status = lb_session_eval(session, tokens, (size_t)n_tokens, outputs);
        Py_END_ALLOW_THREADS
    }
    PyObject *result = lbpy_call_finish(&call, status, NULL);
    lb_session_set_observer(session, NULL, NULL);
    return result;
}

PyObject *lbpy_session_logits(const lb_session *session) {
    const size_t rows = lb_session_n_logits(session), vocab = lb_session_vocab_size(session);
    npy_intp dims[2];
    dims[0] = (npy_intp)rows;
    dims[1] = (npy_intp)vocab;
    PyObject *array = PyArray_SimpleNew(2, dims, NPY_FLOAT32);
    if (array == NULL) return NULL;
    for (size_t k = 0; k < rows; ++k)
        memcpy((float *)PyArray_DATA((PyArrayObject *)array) + k * vocab, lb_session_logits(session, k),
               vocab * sizeof(float));
    return array;
}

PyObject *lbpy_session_perplexity(lb_session *session, PyObject *text, int64_t n_ctx, int64_t max_chunks,
                                  PyObject *progress) {
    lbpy_call call = {session, progress, NULL, NULL, NULL, NULL};
    char *bytes = NULL;
    Py_ssize_t length = 0;
    lb_perplexity r;
    lb_status status;
    if (progress != Py_None && !PyCallable_Check(progress)) {
        PyErr_SetString(PyExc_TypeError, "progress must be a callable or None");
        return NULL;
    }
    if (PyBytes_AsStringAndSize(text, &bytes, &length) != 0) return NULL;
    memset(&r, 0, sizeof r);
    r.version = LB_PERPLEXITY_VERSION;
    status = lb_session_set_observer(session, lbpy_on_matmul, &call);
    if (status == LB_OK) {
        Py_BEGIN_ALLOW_THREADS
        status = lb_session_perplexity(session, bytes, (size_t)length, n_ctx, max_chunks, lbpy_on_chunk, &call, &r);
        Py_END_ALLOW_THREADS
    }
    PyObject *extra = status == LB_OK ? Py_BuildValue("(dddKKKd)", r.perplexity, r.uncertainty, r.mean_nll,
                                                      (unsigned long long)r.n_tokens, (unsigned long long)r.n_chunks,
                                                      (unsigned long long)r.n_scored, r.seconds)
                                      : (Py_INCREF(Py_None), Py_None);
    PyObject *result = lbpy_call_finish(&call, status, extra);
    lb_session_set_observer(session, NULL, NULL);
    return result;
}

PyObject *lbpy_kld(lb_session *base, lb_session *model, PyObject *text, const lb_kld_options *options,
                   PyObject *progress) {
    lbpy_call call = {model, progress, NULL, NULL, NULL, NULL};
    char *bytes = NULL;
    Py_ssize_t length = 0;
    lb_kld_result r;
    lb_status status;
    if (progress != Py_None && !PyCallable_Check(progress)) {
        PyErr_SetString(PyExc_TypeError, "progress must be a callable or None");
        return NULL;
    }
    if (PyBytes_AsStringAndSize(text, &bytes, &length) != 0) return NULL;
    memset(&r, 0, sizeof r);
    r.version = LB_KLD_RESULT_VERSION;
    status = lb_session_set_observer(base, lbpy_on_matmul, &call);
    if (status == LB_OK) status = lb_session_set_observer(model, lbpy_on_matmul, &call);
    if (status == LB_OK) {
        Py_BEGIN_ALLOW_THREADS
        status = lb_kld(base, model, bytes, (size_t)length, options, lbpy_on_kld, &call, &r);
        Py_END_ALLOW_THREADS
    }
    PyObject *result = lbpy_call_finish(&call, status, status == LB_OK ? lbpy_kld_dict(&r) : (Py_INCREF(Py_None), Py_None));
    lb_session_set_observer(base, NULL, NULL);
    lb_session_set_observer(model, NULL, NULL);
    return result;
}

PyObject *lbpy_kld_save_base(lb_session *base, PyObject *text, const lb_kld_options *options, const char *path,
                             PyObject *progress) {
    lbpy_call call = {base, progress, NULL, NULL, NULL, NULL};
    char *bytes = NULL;
    Py_ssize_t length = 0;
    uint64_t n_chunks = 0;
    lb_status status;
    if (progress != Py_None && !PyCallable_Check(progress)) {
        PyErr_SetString(PyExc_TypeError, "progress must be a callable or None");
        return NULL;
    }
    if (PyBytes_AsStringAndSize(text, &bytes, &length) != 0) return NULL;
    status = lb_session_set_observer(base, lbpy_on_matmul, &call);
    if (status == LB_OK) {
        Py_BEGIN_ALLOW_THREADS
        status = lb_kld_save_base(base, bytes, (size_t)length, options, path, lbpy_on_saved, &call, &n_chunks);
        Py_END_ALLOW_THREADS
    }
    PyObject *result = lbpy_call_finish(&call, status, PyLong_FromUnsignedLongLong((unsigned long long)n_chunks));
    lb_session_set_observer(base, NULL, NULL);
    return result;
}

PyObject *lbpy_kld_from_file(lb_session *model, const char *path, PyObject *progress) {
    lbpy_call call = {model, progress, NULL, NULL, NULL, NULL};
    lb_kld_result r;
    lb_status status;
    if (progress != Py_None && !PyCallable_Check(progress)) {
        PyErr_SetString(PyExc_TypeError, "progress must be a callable or None");
        return NULL;
    }
    memset(&r, 0, sizeof r);
    r.version = LB_KLD_RESULT_VERSION;
    status = lb_session_set_observer(model, lbpy_on_matmul, &call);
    if (status == LB_OK) {
        Py_BEGIN_ALLOW_THREADS
        status = lb_kld_from_file(model, path, lbpy_on_kld, &call, &r);
        Py_END_ALLOW_THREADS
    }
    PyObject *result = lbpy_call_finish(&call, status, status == LB_OK ? lbpy_kld_dict(&r) : (Py_INCREF(Py_None), Py_None));
    lb_session_set_observer(model, NULL, NULL);
    return result;
}

/* The entries of a tensor errors result as a list of dicts; NULL (a Python
 * error set) on failure. */
static PyObject *lbpy_tensor_error_list(const lb_tensor_errors *errors) {
    const size_t n = lb_tensor_errors_count(errors);
    PyObject *list = PyList_New((Py_ssize_t)n);
    size_t i;
    if (list == NULL) return NULL;
    for (i = 0; i < n; ++i) {
        lb_tensor_error e;
        PyObject *item;
        memset(&e, 0, sizeof e);
        e.version = LB_TENSOR_ERROR_VERSION;
        if (lb_tensor_errors_get(errors, i, &e) != LB_OK) {
            PyErr_SetString(PyExc_RuntimeError, lb_last_error());
            Py_DECREF(list);
            return NULL;
        }
        item = Py_BuildValue("{s:s,s:i,s:s,s:s,s:K,s:d,s:d,s:d}", "name", e.name, "layer", (int)e.layer, "base_type",
                             lb_type_name(e.base_type), "type", lb_type_name(e.type), "rows",
                             (unsigned long long)e.n_rows, "error", e.error, "reference", e.reference, "relative",
                             e.relative);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

PyObject *lbpy_tensor_errors(lb_session *base, const lb_model *model, PyObject *text, const lb_kld_options *options,
                             PyObject *progress) {
    lbpy_call call = {base, progress, NULL, NULL, NULL, NULL};
    char *bytes = NULL;
    Py_ssize_t length = 0;
    lb_tensor_errors *errors = NULL;
    PyObject *list = NULL, *result;
    lb_status status;
    if (progress != Py_None && !PyCallable_Check(progress)) {
        PyErr_SetString(PyExc_TypeError, "progress must be a callable or None");
        return NULL;
    }
    if (PyBytes_AsStringAndSize(text, &bytes, &length) != 0) return NULL;
    status = lb_session_set_observer(base, lbpy_on_matmul, &call);
    if (status == LB_OK) {
        Py_BEGIN_ALLOW_THREADS
        status = lb_tensor_errors_measure(&errors, base, model, bytes, (size_t)length, options, lbpy_on_saved, &call);
        Py_END_ALLOW_THREADS
    }
    lb_session_set_observer(base, NULL, NULL);
    if (status == LB_OK && call.error_type == NULL) {
        list = lbpy_tensor_error_list(errors);
        lb_tensor_errors_free(errors);
        if (list == NULL) return NULL;
    } else {
        lb_tensor_errors_free(errors);
        Py_INCREF(Py_None);
        list = Py_None;
    }
    result = lbpy_call_finish(&call, status, list);
    return result;
}

PyObject *lbpy_imatrix(lb_session *session, PyObject *text, const char *out_path, int64_t n_ctx, int64_t max_chunks,
                       int process_output, int with_in_sum, int64_t save_frequency, int legacy, const char *dataset,
                       PyObject *in_files, PyObject *progress) {
    lbpy_call call = {session, progress, NULL, NULL, NULL, NULL};
    char *bytes = NULL;
    Py_ssize_t length = 0, n_files = 0, i;
    const char **files = NULL;
    lb_imatrix_options o;
    lb_imatrix_result r;
    lb_status status;
    PyObject *result;
    if (progress != Py_None && !PyCallable_Check(progress)) {
        PyErr_SetString(PyExc_TypeError, "progress must be a callable or None");
        return NULL;
    }
    if (!PyList_Check(in_files)) {
        PyErr_SetString(PyExc_TypeError, "in_files must be a list of str");
        return NULL;
    }
    if (PyBytes_AsStringAndSize(text, &bytes, &length) != 0) return NULL;
    n_files = PyList_Size(in_files);
    files = (const char **)PyMem_Calloc((size_t)n_files + 1, sizeof(const char *));
    if (files == NULL) return PyErr_NoMemory();
    for (i = 0; i < n_files; ++i) {
        files[i] = PyUnicode_AsUTF8(PyList_GET_ITEM(in_files, i));
        if (files[i] == NULL) {
            PyMem_Free(files);
            return NULL;
        }
    }
    lb_imatrix_options_init(&o, LB_IMATRIX_OPTIONS_VERSION);
    o.n_ctx = (int32_t)n_ctx;
    o.max_chunks = (int32_t)max_chunks;
    o.process_output = process_output;
    o.with_in_sum = with_in_sum;
    o.save_frequency = (int32_t)save_frequency;
    o.legacy_format = legacy;
    o.dataset = dataset;
    o.in_files = files;
    o.n_in_files = (size_t)n_files;
    memset(&r, 0, sizeof r);
    r.version = LB_IMATRIX_RESULT_VERSION;
    status = lb_session_set_observer(session, lbpy_on_matmul, &call);
    if (status == LB_OK) {
        Py_BEGIN_ALLOW_THREADS
        status = lb_imatrix_collect(session, bytes, (size_t)length, &o, out_path, lbpy_on_imatrix, &call, &r);
        Py_END_ALLOW_THREADS
    }
    PyMem_Free(files);
    result = lbpy_call_finish(
        &call, status,
        status == LB_OK
            ? Py_BuildValue("{s:K,s:i,s:I,s:K,s:N,s:d}", "chunks", (unsigned long long)r.n_chunks, "ctx", r.n_ctx,
                            "chunk_count", r.chunk_count, "entries", (unsigned long long)r.n_entries, "ppl",
                            lbpy_estimate(r.ppl), "seconds", r.seconds)
            : (Py_INCREF(Py_None), Py_None));
    lb_session_set_observer(session, NULL, NULL);
    return result;
}

PyObject *lbpy_session_generate(lb_session *session, PyObject *prompt, const lb_generate_options *options,
                                PyObject *on_token) {
    lbpy_call call = {session, on_token, NULL, NULL, NULL, NULL};
    char *bytes = NULL;
    Py_ssize_t length = 0;
    lb_status status;
    if (on_token != Py_None && !PyCallable_Check(on_token)) {
        PyErr_SetString(PyExc_TypeError, "on_token must be a callable or None");
        return NULL;
    }
    if (PyBytes_AsStringAndSize(prompt, &bytes, &length) != 0) return NULL;
    call.tokens = PyList_New(0);
    if (call.tokens == NULL) return NULL;
    status = lb_session_set_observer(session, lbpy_on_matmul, &call);
    if (status == LB_OK) {
        Py_BEGIN_ALLOW_THREADS
        status = lb_session_generate(session, bytes, (size_t)length, options, lbpy_on_token, &call);
        Py_END_ALLOW_THREADS
    }
    PyObject *result = lbpy_call_finish(&call, status, call.tokens);
    lb_session_set_observer(session, NULL, NULL);
    return result;
}

PyObject *lbpy_library_path(void) {
    const char *(*function)(void) = lb_version;
    void *address;
    Dl_info info;
    /* ISO C has no cast from a function pointer to an object pointer */
    memcpy(&address, &function, sizeof address);
    if (dladdr(address, &info) == 0 || info.dli_fname == NULL) Py_RETURN_NONE;
    return PyUnicode_DecodeFSDefault(info.dli_fname);
}

lb_status lbpy_model_open(lb_model **out, const char *path) {
    lb_status status;
    Py_BEGIN_ALLOW_THREADS
    status = lb_model_open(out, path);
    Py_END_ALLOW_THREADS
    return status;
}

PyObject *lbpy_kv_string(const lb_model *model, size_t i) {
    const char *s = NULL;
    size_t length = 0;
    const lb_status status = lb_model_kv_get_string(&s, &length, model, i);
    if (status != LB_OK) return lbpy_failure(status);
    return lbpy_pair(status, PyBytes_FromStringAndSize(s, (Py_ssize_t)length));
}

PyObject *lbpy_kv_array_numeric(const lb_model *model, size_t i) {
    lb_value_type type = LB_VALUE_U8;
    uint64_t count = 0;
    const void *data = NULL;
    lb_status status = lb_model_kv_get_array_info(&type, &count, model, i);
    if (status == LB_OK) status = lb_model_kv_get_array_data(&data, model, i);
    if (status != LB_OK) return lbpy_failure(status);
    const int typenum = lbpy_value_typenum(type);
    if (typenum < 0) {
        PyErr_Format(PyExc_TypeError, "metadata value %zu is an array of value type %d, which is not numeric",
                     i, (int)type);
        return NULL;
    }
    npy_intp dims[1];
    dims[0] = (npy_intp)count;
    PyObject *array = PyArray_SimpleNew(1, dims, typenum);
    if (array == NULL) return NULL;
    if (count > 0)
        memcpy(PyArray_DATA((PyArrayObject *)array), data, (size_t)PyArray_NBYTES((PyArrayObject *)array));
    return lbpy_pair(status, array);
}

PyObject *lbpy_kv_array_strings(const lb_model *model, size_t i) {
    lb_value_type type = LB_VALUE_U8;
    uint64_t count = 0;
    const char *s = NULL;
    size_t length = 0;
    lb_status status = lb_model_kv_get_array_info(&type, &count, model, i);
    /* for any other array, reading element 0 fails with the library's message */
    if (status == LB_OK && type != LB_VALUE_STRING)
        status = lb_model_kv_get_array_string(&s, &length, model, i, 0);
    if (status != LB_OK) return lbpy_failure(status);
    PyObject *list = PyList_New((Py_ssize_t)count);
    if (list == NULL) return NULL;
    for (uint64_t j = 0; j < count; ++j) {
        status = lb_model_kv_get_array_string(&s, &length, model, i, j);
        if (status != LB_OK) {
            Py_DECREF(list);
            return lbpy_failure(status);
        }
        PyObject *item = PyBytes_FromStringAndSize(s, (Py_ssize_t)length);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)j, item);
    }
    return lbpy_pair(status, list);
}

PyObject *lbpy_tensor_array(const lb_model *model, size_t i, PyObject *owner, int raw) {
    static const uint8_t empty = 0; /* the address of a tensor without bytes */
    const void *data = NULL;
    uint64_t size = 0;
    lb_status status = lb_model_tensor_data(&data, &size, model, i);
    if (status != LB_OK) return lbpy_failure(status);
    const lb_type type = lb_model_tensor_type(model, i);
    const uint32_t n_dims = lb_model_tensor_n_dims(model, i);
    npy_intp dims[4];
    int nd = (int)n_dims;
    int typenum = lbpy_element_typenum(type);
    if (n_dims < 1 || n_dims > 4) { /* never for a model the library validated */
        PyErr_Format(PyExc_RuntimeError, "tensor %zu has %u dimensions", i, (unsigned)n_dims);
        return NULL;
    }
    if (raw) {
        nd = 1;
        dims[0] = (npy_intp)size;
        typenum = NPY_UINT8;
    } else {
        for (uint32_t d = 0; d < n_dims; ++d)
            dims[n_dims - 1 - d] = (npy_intp)lb_model_tensor_dim(model, i, d);
        if (typenum < 0) { /* blocks: the innermost numpy dimension is a row's bytes */
            size_t row_bytes = 0;
            status = lb_row_size(&row_bytes, type, lb_model_tensor_dim(model, i, 0));
            if (status != LB_OK) return lbpy_failure(status);
            dims[n_dims - 1] = (npy_intp)row_bytes;
            typenum = NPY_UINT8;
        }
    }
    /* C order; flags without NPY_ARRAY_WRITEABLE: read-only */
    PyObject *array = PyArray_New(&PyArray_Type, nd, dims, typenum, NULL,
                                  (void *)(size > 0 ? data : (const void *)&empty), 0, 0, NULL);
    if (array == NULL) return NULL;
    if ((uint64_t)PyArray_NBYTES((PyArrayObject *)array) != size) {
        /* never for a model the library validated: a view must not reach past the data */
        PyErr_Format(PyExc_RuntimeError, "tensor %zu: its shape covers %lld bytes, its data %llu", i,
                     (long long)PyArray_NBYTES((PyArrayObject *)array), (unsigned long long)size);
        Py_DECREF(array);
        return NULL;
    }
    PyArray_UpdateFlags((PyArrayObject *)array, NPY_ARRAY_UPDATE_ALL); /* contiguity and alignment */
    PyArray_CLEARFLAGS((PyArrayObject *)array, NPY_ARRAY_WRITEABLE);
    Py_INCREF(owner);
    if (PyArray_SetBaseObject((PyArrayObject *)array, owner) < 0) { /* which released owner */
        Py_DECREF(array);
        return NULL;
    }
    return lbpy_pair(status, array);
}

lb_status lbpy_quantize_rows(lb_type type, float *src, int64_t n_rows, int64_t n_per_row, float *imatrix,
                             int64_t imatrix_length, uint8_t *dst, int64_t dst_rows, int64_t dst_row_bytes) {
    lb_status status;
    if (imatrix != NULL && imatrix_length != n_per_row) {
        PyErr_Format(PyExc_ValueError, "the imatrix has %lld values, the rows %lld columns",
                     (long long)imatrix_length, (long long)n_per_row);
        return LB_E_INVALID_ARG;
    }
    Py_BEGIN_ALLOW_THREADS
    status = lb_quantize_rows(type, src, n_rows, n_per_row, imatrix, dst,
                              (size_t)dst_rows * (size_t)dst_row_bytes);
    Py_END_ALLOW_THREADS
    return status;
}

lb_status lbpy_dequantize_rows(lb_type type, uint8_t *src, int64_t src_rows, int64_t src_row_bytes,
                               float *dst, int64_t n_rows, int64_t n_per_row) {
    lb_status status;
    Py_BEGIN_ALLOW_THREADS
    status = lb_dequantize_rows(type, src, (size_t)src_rows * (size_t)src_row_bytes, n_rows, n_per_row, dst);
    Py_END_ALLOW_THREADS
    return status;
}

lb_status lbpy_quantizer_set_prune_layers(lb_quantizer *quantizer, int32_t *layers, int64_t n_layers) {
    return lb_quantizer_set_prune_layers(quantizer, layers, (size_t)n_layers);
}

PyObject *lbpy_quantizer_run(lb_quantizer *quantizer, const lb_model *model, const char *out_path,
                             PyObject *progress, PyObject *log) {
    const lbpy_outputs outputs = {out_path, NULL, NULL, 0};
    return lbpy_quantizer_run_outputs(quantizer, model, &outputs, progress, log);
}

PyObject *lbpy_quantizer_run_many(lb_quantizer *quantizer, const lb_model *model, PyObject *ftypes,
                                  PyObject *out_paths, PyObject *progress, PyObject *log) {
    PyObject *types = PySequence_Fast(ftypes, "ftypes must be a sequence of file type numbers");
    if (types == NULL) return NULL;
    PyObject *paths = PySequence_Fast(out_paths, "out_paths must be a sequence of str");
    if (paths == NULL) {
        Py_DECREF(types);
        return NULL;
    }
    PyObject *result = NULL;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(types);
    lb_ftype *f = (lb_ftype *)PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof *f);
    const char **p = (const char **)PyMem_Calloc(n > 0 ? (size_t)n : 1, sizeof *p);
    if (f == NULL || p == NULL) {
        PyErr_NoMemory();
    } else if (PySequence_Fast_GET_SIZE(paths) != n) {
        PyErr_SetString(PyExc_ValueError, "ftypes and out_paths must have the same length");
    } else {
        Py_ssize_t i = 0;
        for (; i < n; ++i) {
            const long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(types, i));
            if (v == -1 && PyErr_Occurred()) break;
            f[i] = (lb_ftype)v;
            /* borrowed from the str, which the list keeps alive */
            p[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(paths, i));
            if (p[i] == NULL) break;
        }
        if (i == n) {
            const lbpy_outputs outputs = {NULL, f, p, (size_t)n};
            result = lbpy_quantizer_run_outputs(quantizer, model, &outputs, progress, log);
        }
    }
    PyMem_Free(f);
    PyMem_Free(p);
    Py_DECREF(types);
    Py_DECREF(paths);
    return result;
}

PyObject *lbpy_convert(const char *src, const char *out_path, const lb_convert_options *options,
                       PyObject *progress) {
    lbpy_run run = {NULL, progress, Py_None, NULL, NULL, NULL};
    if (progress != Py_None && !PyCallable_Check(progress)) {
        PyErr_SetString(PyExc_TypeError, "progress must be a callable or None");
        return NULL;
    }
    lb_status status;
    Py_BEGIN_ALLOW_THREADS
    /* the progress callback is always set: it also handles Ctrl-C */
    status = lb_convert(src, out_path, options, lbpy_on_progress, &run);
    Py_END_ALLOW_THREADS
    const char *text = status != LB_OK ? lb_last_error() : "";
    PyObject *message = PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
    if (run.error_type != NULL) {
        Py_XDECREF(message);
        PyErr_Restore(run.error_type, run.error_value, run.error_traceback);
        return NULL;
    }
    return lbpy_pair(status, message);
}

lb_status lbpy_imatrix_convert(const char *in_path, const char *out_path) {
    lb_status status;
    Py_BEGIN_ALLOW_THREADS
    status = lb_imatrix_convert(in_path, out_path);
    Py_END_ALLOW_THREADS
    return status;
}

lb_status lbpy_synth_write_model(const lb_synth_options *options, const char *tokenizer_from,
                                 const char *path) {
    lb_synth_options o;
    lb_status status;
    if (options == NULL) return lb_synth_write_model(NULL, path, NULL, NULL); /* the library's error */
    o = *options;
    o.tokenizer_from = tokenizer_from;
    Py_BEGIN_ALLOW_THREADS
    status = lb_synth_write_model(&o, path, NULL, NULL);
    Py_END_ALLOW_THREADS
    return status;
}

lb_status lbpy_synth_write_checkpoint(const lb_synth_options *options, const char *path) {
    lb_status status;
    if (options == NULL) return lb_synth_write_checkpoint(NULL, path, NULL, NULL); /* the library's error */
    Py_BEGIN_ALLOW_THREADS
    status = lb_synth_write_checkpoint(options, path, NULL, NULL);
    Py_END_ALLOW_THREADS
    return status;
}

lb_status lbpy_synth_write_imatrix(const lb_synth_options *options, const char *tokenizer_from,
                                   const char *path) {
    lb_synth_options o;
    lb_status status;
    if (options == NULL) return lb_synth_write_imatrix(NULL, path); /* the library's error */
    o = *options;
    o.tokenizer_from = tokenizer_from;
    Py_BEGIN_ALLOW_THREADS
    status = lb_synth_write_imatrix(&o, path);
    Py_END_ALLOW_THREADS
    return status;
}
%}
