// The instruction-set namespace. Inline functions and templates that a
// translation unit compiled for an instruction set (-mavx2 ...) compiles as
// well as the generic code are declared inside `inline namespace LOWBIT_ISA`:
// each set's copies then have their own mangled names (lb::formats::isa_avx2::
// ..., lb::formats::isa_generic::...), so the linker can never hand the generic
// path a copy built with another set's instructions (as Highway's
// HWY_NAMESPACE does). Callers name them as before: the namespace is inline.
// Types stay outside it, shared by every set. A translation unit built with
// ISA flags gets LOWBIT_ISA from CMake (lib/CMakeLists.txt); every other one
// is generic. tests/abi/isa_check.sh checks the shipped library: no function
// outside an ISA namespace holds VEX or EVEX instructions.
#pragma once

#ifndef LOWBIT_ISA
#define LOWBIT_ISA isa_generic
#endif
