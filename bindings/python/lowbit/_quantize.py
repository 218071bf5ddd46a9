"""Quantization jobs: Quantizer, quantize() and what they report."""

import collections
import collections.abc
import dataclasses
import os
import threading

import numpy as np

from . import lowbit_c as _c
from ._errors import check, error_for, integer, invalid_argument
from ._model import Model
from ._rows import type_id, type_name

Progress = collections.namedtuple("Progress", "done total tensor_index tensor_count tensor_name")
Progress.__doc__ = """Progress of a running quantization, passed to a progress callback.

Attributes:
    done: weights processed so far, all tensors.
    total: weights in the whole model (done == total in the last call).
    tensor_index: the tensor being processed, 0-based, in file order.
    tensor_count: the number of tensors.
    tensor_name: the name of that tensor.
"""

PlanEntry = collections.namedtuple("PlanEntry", "name input_type type bytes")
PlanEntry.__doc__ = """One output tensor of a quantization plan.

Attributes:
    name: the output tensor's name.
    input_type: its type in the input, e.g. "F32".
    type: its type in the output, e.g. "Q4_K".
    bytes: the size of its data in the output.
"""

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


@dataclasses.dataclass(frozen=True)
class QuantizeResult:
    """What a quantization (or a dry run) did.

    Attributes:
        output: the output path (with keep_split, the name the shards'
            names are made from).
        dry_run: True if nothing was written.
        tensors: tensors written (or planned).
        quantized: tensors whose type was changed.
        fallbacks: tensors that fell back to another type because of their
            shape (each was also reported to the log callback).
        elements: weights in all tensors.
        input_bytes: tensor data bytes read.
        output_bytes: tensor data bytes written, without padding.
        output_file_bytes: the size of the output file(s); 0 for a dry run.
        elapsed_us: wall time of the run in microseconds.
        output_files: files written (several with keep_split; 0 for a dry run).
        plan: one PlanEntry per output tensor, in output order.
    """

    output: str
    dry_run: bool
    tensors: int
    quantized: int
    fallbacks: int
    elements: int
    input_bytes: int
    output_bytes: int
    output_file_bytes: int
    elapsed_us: int
    output_files: int
    plan: list


def _strings(value, what):
    """A list of str from a sequence of str (a single str is one item)."""
    items = [value] if isinstance(value, str) else list(value)
    for item in items:
        if not isinstance(item, str):
            raise invalid_argument(f"{what} must be strings, not {item!r}")
    return items


def _pairs(value):
    """tensor_types as a list of (pattern, type name) pairs."""
    items = list(value.items()) if isinstance(value, collections.abc.Mapping) else list(value)
    pairs = []
    for item in items:
        if isinstance(item, str) or len(item) != 2 or not all(isinstance(part, str) for part in item):
            raise invalid_argument(f"tensor_types must be (regex, type) pairs of strings, not {item!r}")
        pairs.append((item[0], item[1]))
    return pairs


def _ftype_number(ftype):
    """A file type's number from its name ("Q4_K_M", "15") or number."""
    if isinstance(ftype, str):
        status, value = _c.lb_ftype_from_name(ftype)
        check(status)
        return value
    if isinstance(ftype, bool):
        raise invalid_argument(f"ftype must be a name or a number, not {ftype!r}")
    return integer(ftype, "ftype", INT32_MIN, INT32_MAX)


def _callable_or_none(value, what):
    """value if it is None or callable, else InvalidArgumentError."""
    if value is not None and not callable(value):
        raise invalid_argument(f"{what} must be a callable or None, not {value!r}")
    return value


def _progress_adapter(callback):
    """The raw progress callable for lbpy_quantizer_run: calls callback with a
    Progress and cancels (returns True) when it returns exactly False."""

    def on_progress(done, total, tensor_index, tensor_count, tensor_name):
        return callback(Progress(done, total, tensor_index, tensor_count, tensor_name)) is False

    return on_progress


def _log_adapter(callback):
    """The raw log callable for lbpy_quantizer_run: calls callback with the
    level as "info" or "warn" and the message."""

    def on_log(level, message):
        callback("warn" if level == _c.LB_LOG_WARN else "info", message)

    return on_log


class Quantizer:
    """A quantization job with its options: llama-quantize's, as
    ``lowbit quantize`` takes them. Options are fixed when it is made;
    ``run()`` may be called several times, one run at a time.

    Args:
        ftype: the file type to produce: a name as llama-quantize spells it
            ("Q4_K_M", case-insensitive; "Q4_K" means Q4_K_M), llama.cpp's
            file type number (15 or "15"), or "COPY" to copy every tensor as
            it is.
        threads: worker threads; 0 (the default) means one per hardware thread.
        imatrix: path of an importance matrix (llama.cpp's GGUF imatrix or its
            legacy .dat), or None.
        include_weights: use the imatrix only for tensors whose name contains
            one of these strings (--include-weights).
        exclude_weights: do not use it for these (--exclude-weights); cannot
            be combined with include_weights.
        output_tensor_type: the type of output.weight, e.g. "Q8_0", or None
            for the file type's choice.
        token_embedding_type: the type of token_embd.weight, or None.
        tensor_types: (regex, type) pairs, or a dict regex -> type: tensors
            whose name matches regex (searched anywhere in the name; the first
            matching pair wins) get that type. Like llama-quantize and
            ``lowbit quantize --tensor-type``, the regex is lowercased.
        pure: no per-tensor mixture: every quantized tensor gets the file
            type's default type.
        leave_output_tensor: keep output.weight as it is.
        allow_requantize: accept input tensors that are already quantized
            (they are dequantized and quantized again).
        keep_split: one output file per input shard, named as llama.cpp names
            shards (output without ".gguf", then "-00001-of-0000N.gguf").
        override_kv: metadata to set, as "KEY=TYPE:VALUE" strings with TYPE
            int, float, bool or str.
        prune_layers: indices of the layers (blk.N) to remove; the others are
            renumbered.
        dry_run: decide every tensor's type and the output size; write nothing.
        progress: None, or progress(p) called with a Progress at least once per
            tensor and about every 16 MiB of weights, on the thread that runs
            the job. Returning False (exactly False) cancels the run.
        log: None, or log(level, message) called for notices during a run,
            level "info" or "warn" (e.g. a tensor whose shape forces a
            fallback type), on the thread that runs the job.

    An exception raised by progress or log cancels the run; run() then raises
    it. Ctrl-C (a signal handled by Python) during a run cancels it the same
    way. Invalid options raise InvalidArgumentError (an unknown type name, a
    regex that does not compile, a malformed override), UnsupportedError (a
    file type or tensor type this build cannot produce) or, for the imatrix,
    FileError and FormatError, all when the Quantizer is made.
    """

    def __init__(
        self,
        ftype="Q8_0",
        *,
        threads=0,
        imatrix=None,
        include_weights=(),
        exclude_weights=(),
        output_tensor_type=None,
        token_embedding_type=None,
        tensor_types=(),
        pure=False,
        leave_output_tensor=False,
        allow_requantize=False,
        keep_split=False,
        override_kv=(),
        prune_layers=(),
        dry_run=False,
        progress=None,
        log=None,
    ):
        """Makes the job and sets its options (see the class documentation)."""
        self._pointer = None
        self._lock = threading.Lock()
        self._dry_run = bool(dry_run)
        progress = _callable_or_none(progress, "progress")
        log = _callable_or_none(log, "log")
        self._on_progress = None if progress is None else _progress_adapter(progress)
        self._on_log = None if log is None else _log_adapter(log)
        status, pointer = _c.lb_quantizer_new()
        check(status)
        self._pointer = pointer
        self._ftype = self._set_ftype(ftype)
        p = pointer
        # in the order lowbit quantize applies them
        check(_c.lb_quantizer_set_threads(p, integer(threads, "threads", INT32_MIN, INT32_MAX)))
        check(_c.lb_quantizer_set_allow_requantize(p, 1 if allow_requantize else 0))
        check(_c.lb_quantizer_set_quantize_output(p, 0 if leave_output_tensor else 1))
        check(_c.lb_quantizer_set_pure(p, 1 if pure else 0))
        check(_c.lb_quantizer_set_keep_split(p, 1 if keep_split else 0))
        check(_c.lb_quantizer_set_dry_run(p, 1 if self._dry_run else 0))
        if output_tensor_type is not None:
            check(_c.lb_quantizer_set_output_tensor_type(p, type_id(output_tensor_type)))
        if token_embedding_type is not None:
            check(_c.lb_quantizer_set_token_embedding_type(p, type_id(token_embedding_type)))
        for pattern, name in _pairs(tensor_types):
            check(_c.lb_quantizer_add_tensor_type(p, pattern.lower(), type_id(name)))
        for spec in _strings(override_kv, "override_kv"):
            check(_c.lb_quantizer_add_kv_override(p, spec))
        layers = [integer(layer, "a layer to prune", INT32_MIN, INT32_MAX) for layer in prune_layers]
        if layers:
            check(_c.lbpy_quantizer_set_prune_layers(p, np.array(layers, dtype=np.int32)))
        if imatrix is not None:
            check(_c.lb_quantizer_set_imatrix(p, os.fsdecode(os.fspath(imatrix))))
        for name in _strings(include_weights, "include_weights"):
            check(_c.lb_quantizer_add_imatrix_filter(p, 1, name))
        for name in _strings(exclude_weights, "exclude_weights"):
            check(_c.lb_quantizer_add_imatrix_filter(p, 0, name))

    def __del__(self, _free=_c.lb_quantizer_free):
        """Releases the job (never while it runs: run() holds a reference)."""
        if self._pointer is not None:
            _free(self._pointer)

    def _set_ftype(self, ftype):
        """Sets the file type; returns its canonical name, or "COPY"."""
        if isinstance(ftype, str) and ftype.upper() == "COPY":
            check(_c.lb_quantizer_set_only_copy(self._pointer, 1))
            return "COPY"
        value = _ftype_number(ftype)
        check(_c.lb_quantizer_set_ftype(self._pointer, value))
        return _c.lb_ftype_name(value)

    @property
    def ftype(self):
        """The file type produced: its canonical name ("Q4_K_M") or "COPY"."""
        return self._ftype

    def default_output(self, input_path):
        """The output path used when run() gets none, as ``lowbit quantize``
        chooses it: ggml-model-<FTYPE>.gguf in the input's folder."""
        folder = os.path.dirname(os.fsdecode(os.fspath(input_path)))
        return os.path.join(folder, f"ggml-model-{self._ftype}.gguf")

    def run(self, model, output=None):
        """Quantizes ``model`` (a Model, or the path of a GGUF file, opened and
        closed here) and writes ``output`` (default: ``default_output``).

        The output is written to a temporary file in the output's folder and
        renamed into place only when complete: after an error or a
        cancellation, no file is left and an existing output is untouched.
        The GIL is released during the run, so other Python threads run and
        may call ``cancel()``. The model is kept open until the run ends,
        even if it is closed meanwhile.

        Returns a QuantizeResult. Raises InvalidArgumentError (output naming
        the input, a closed model, a run already in progress on this
        Quantizer), UnsupportedError (an already quantized tensor without
        allow_requantize: the message names it; a type that needs an
        imatrix), FormatError (NaN or infinity in a tensor), FileError (cannot
        write the output), CancelledError, or the exception a callback raised.
        """
        if isinstance(model, Model):
            return self._run(model, output)
        with Model(model) as opened:
            return self._run(opened, output)

    def _run(self, model, output):
        """run() on an open Model."""
        model._pointer()  # raises if closed
        handle = model._handle  # the lb_model stays open while this runs
        output = self.default_output(model.path) if output is None else os.fsdecode(os.fspath(output))
        if not self._lock.acquire(blocking=False):
            raise invalid_argument("this Quantizer is already running a job; it runs one at a time")
        try:
            status, message = _c.lbpy_quantizer_run(
                self._pointer, handle.pointer, output, self._on_progress, self._on_log
            )
            if status != _c.LB_OK:
                raise error_for(status, message)
            return self._result(output)
        finally:
            self._lock.release()

    def run_many(self, model, ftypes, outputs=None):
        """Quantizes ``model`` (a Model or a path) to several file types in
        one pass: each input tensor is read and converted to floats once,
        then quantized to every type. ``ftypes`` is a sequence of file types
        (names or numbers, not "COPY"; this Quantizer's own ftype is not
        used); ``outputs`` the paths to write, one per file type (default:
        ggml-model-<FTYPE>.gguf in the input's folder for each). Each file is
        byte for byte what ``run()`` writes with that file type and this
        Quantizer's other options. All files are renamed into place only
        when all are complete: after an error or a cancellation none is
        written.

        Returns one QuantizeResult per output, in order (elapsed_us: the wall
        time of the whole pass). Raises what ``run()`` raises, and
        InvalidArgumentError for an empty list, "COPY", a type given twice,
        a number of outputs that does not match, or two equal outputs.
        """
        if isinstance(ftypes, (str, bytes)):
            raise invalid_argument(f"ftypes must be a sequence of file types, not {ftypes!r}")
        ftypes = list(ftypes)
        if not ftypes:
            raise invalid_argument("ftypes is empty: give at least one file type")
        for f in ftypes:
            if isinstance(f, str) and f.upper() == "COPY":
                raise invalid_argument("COPY cannot be combined with other file types; use run()")
        numbers = [_ftype_number(f) for f in ftypes]
        names = [_c.lb_ftype_name(n) or str(n) for n in numbers]
        for i, n in enumerate(numbers):
            if n in numbers[:i]:
                raise invalid_argument(f"file type {names[i]} is given twice")
        if outputs is not None:
            outputs = [os.fsdecode(os.fspath(o)) for o in outputs]
            if len(outputs) != len(numbers):
                raise invalid_argument(f"{len(outputs)} outputs for {len(numbers)} file types")
        if isinstance(model, Model):
            return self._run_many(model, numbers, names, outputs)
        with Model(model) as opened:
            return self._run_many(opened, numbers, names, outputs)

    def _run_many(self, model, numbers, names, outputs):
        """run_many() on an open Model."""
        model._pointer()  # raises if closed
        handle = model._handle
        if outputs is None:
            folder = os.path.dirname(model.path)
            outputs = [os.path.join(folder, f"ggml-model-{name}.gguf") for name in names]
        if not self._lock.acquire(blocking=False):
            raise invalid_argument("this Quantizer is already running a job; it runs one at a time")
        try:
            status, message = _c.lbpy_quantizer_run_many(
                self._pointer, handle.pointer, numbers, outputs, self._on_progress, self._on_log
            )
            if status != _c.LB_OK:
                raise error_for(status, message)
            return [self._result(output, k) for k, output in enumerate(outputs)]
        finally:
            self._lock.release()

    def _result(self, output, k=0):
        """The QuantizeResult of output k of the last run."""
        p = self._pointer

        def stat(which):
            return _c.lb_quantizer_output_stat(p, k, which)

        plan = [
            PlanEntry(
                _c.lb_quantizer_plan_name(p, i),
                type_name(_c.lb_quantizer_plan_input_type(p, i)),
                type_name(_c.lb_quantizer_plan_type(p, i)),
                _c.lb_quantizer_plan_bytes(p, i),
            )
            for i in range(_c.lb_quantizer_plan_count(p))
            if _c.lb_quantizer_plan_output(p, i) == k
        ]
        return QuantizeResult(
            output=output,
            dry_run=self._dry_run,
            tensors=stat(_c.LB_STAT_TENSORS),
            quantized=stat(_c.LB_STAT_QUANTIZED),
            fallbacks=stat(_c.LB_STAT_FALLBACKS),
            elements=stat(_c.LB_STAT_ELEMENTS),
            input_bytes=stat(_c.LB_STAT_INPUT_BYTES),
            output_bytes=stat(_c.LB_STAT_OUTPUT_BYTES),
            output_file_bytes=stat(_c.LB_STAT_OUTPUT_FILE_BYTES),
            elapsed_us=stat(_c.LB_STAT_ELAPSED_US),
            output_files=stat(_c.LB_STAT_OUTPUT_FILES),
            plan=plan,
        )

    def cancel(self):
        """Asks a running run() to stop as soon as possible; it then raises
        CancelledError and leaves no output. Safe from any thread while run()
        executes in another. A cancel() made while no run is in progress is
        forgotten: each run starts uncancelled."""
        _c.lb_quantizer_cancel(self._pointer)

    def __repr__(self):
        """<lowbit.Quantizer FTYPE>"""
        return f"<lowbit.Quantizer {self._ftype}{' (dry run)' if self._dry_run else ''}>"


def quantize(
    input,
    output=None,
    ftype="Q8_0",
    *,
    threads=0,
    imatrix=None,
    include_weights=(),
    exclude_weights=(),
    output_tensor_type=None,
    token_embedding_type=None,
    tensor_types=(),
    pure=False,
    leave_output_tensor=False,
    allow_requantize=False,
    keep_split=False,
    override_kv=(),
    prune_layers=(),
    dry_run=False,
    progress=None,
    log=None,
):
    """Quantizes a GGUF model: ``lowbit quantize`` (llama-quantize) as a
    function.

    ``input`` is a path or an open Model; ``output`` defaults to
    ggml-model-<FTYPE>.gguf next to the input. The other arguments are the
    options of Quantizer, which documents them. Equivalent to
    ``Quantizer(ftype, **options).run(input, output)``; use a Quantizer to be
    able to cancel a run from another thread.

    Returns a QuantizeResult; raises as Quantizer() and Quantizer.run() do.
    """
    quantizer = Quantizer(
        ftype,
        threads=threads,
        imatrix=imatrix,
        include_weights=include_weights,
        exclude_weights=exclude_weights,
        output_tensor_type=output_tensor_type,
        token_embedding_type=token_embedding_type,
        tensor_types=tensor_types,
        pure=pure,
        leave_output_tensor=leave_output_tensor,
        allow_requantize=allow_requantize,
        keep_split=keep_split,
        override_kv=override_kv,
        prune_layers=prune_layers,
        dry_run=dry_run,
        progress=progress,
        log=log,
    )
    return quantizer.run(input, output)
