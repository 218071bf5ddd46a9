"""The lowbit module itself: versions, the library it loads, its public names
and their documentation."""

import ctypes
import inspect
import json
import os
import platform
import subprocess
import sys

import pytest

import lowbit
from lowbit import lowbit_c


def test_version_is_the_loaded_librarys(lib):
    lib.lb_version.restype = ctypes.c_char_p
    assert lowbit.__version__ == lowbit.version() == lib.lb_version().decode()
    # the header the module was built with is the library's version
    assert lowbit.__version__ == lowbit_c.LB_VERSION_STRING
    major, minor, patch = (int(part) for part in lowbit.__version__.split("."))
    assert lowbit_c.lb_version_number() == major * 10000 + minor * 100 + patch


def test_library_path_is_the_loaded_liblowbit(lib):
    path = lowbit.library_path()
    assert os.path.basename(path) == "liblowbit.so.0"
    assert os.path.isfile(path)
    # its soname resolves to the same, already loaded library
    assert ctypes.CDLL("liblowbit.so.0")._handle == lib._handle


def test_ftypes_are_those_the_library_supports():
    names = lowbit.ftypes()
    for name in ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M", "Q2_K", "Q2_K_S", "Q3_K_L", "Q6_K"]:
        assert name in names
    assert "IQ2_M" in names and "IQ1_M" in names
    assert "NVFP4" not in names  # a tensor type only, as in llama.cpp
    for name in names:
        assert lowbit.Quantizer(name).ftype == name


def test_the_raw_module_hides_what_the_helpers_replace():
    for name in [
        "lb_model_open",
        "lb_quantize_rows",
        "lb_quantizer_run",
        "lb_model_tensor_data",
        "lb_progress",
    ]:
        assert not hasattr(lowbit_c, name), name
    assert not hasattr(lowbit_c, "LB_STATUS_FORCE_INT32")
    assert lowbit_c.lb_status_name(lowbit_c.LB_E_FORMAT) == "LB_E_FORMAT"


def test_every_public_name_is_documented():
    assert lowbit.__doc__
    missing = []
    for name in lowbit.__all__:
        value = getattr(lowbit, name)
        if not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value):
            for member, attribute in vars(value).items():
                if member.startswith("_") and member not in ("__init__", "__str__"):
                    continue
                if callable(attribute) or isinstance(attribute, property):
                    if not inspect.getdoc(attribute):
                        missing.append(f"{name}.{member}")
    assert missing == []


# The extensions lowbit reports, as Linux's /proc/cpuinfo names them (Linux
# lists a feature only when the CPU has it and the kernel saves its state).
CPUINFO_NAMES = {
    "sse2": "sse2",
    "avx2": "avx2",
    "fma": "fma",
    "f16c": "f16c",
    "avx512f": "avx512f",
    "avx512bw": "avx512bw",
    "avx512vl": "avx512vl",
    "avx512dq": "avx512dq",
    "avx512vnni": "avx512_vnni",
    "avx512bf16": "avx512_bf16",
}


def cpuinfo_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def kernels_in_child(forced):
    env = dict(os.environ)
    env.pop("LOWBIT_KERNELS", None)
    if forced is not None:
        env["LOWBIT_KERNELS"] = forced
    code = "import json, lowbit; print(json.dumps(lowbit.kernels()))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_kernels_report_the_cpus_features_and_choose_the_fastest_set():
    if platform.machine() != "x86_64":
        pytest.skip("the feature names checked here are x86-64's")
    k = kernels_in_child(None)
    flags = cpuinfo_flags()
    assert set(k["cpu_features"]) == {ours for ours, linux in CPUINFO_NAMES.items() if linux in flags}
    features = set(k["cpu_features"])
    avx2 = {"avx2", "fma", "f16c"} <= features
    avx512 = avx2 and {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni"} <= features
    expected = ["scalar", "generic"] + (["avx2"] if avx2 else []) + (["avx512"] if avx512 else [])
    assert k["available"] == expected
    assert k["active"] == expected[-1]


def test_lowbit_kernels_forces_a_set_that_runs_and_ignores_others():
    for name in kernels_in_child(None)["available"]:
        assert kernels_in_child(name)["active"] == name
    fastest = kernels_in_child(None)["active"]
    assert kernels_in_child("no-such-set")["active"] == fastest
    assert kernels_in_child("")["active"] == fastest
