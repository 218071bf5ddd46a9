// <immintrin.h> for the x86 kernel files. GCC 12's AVX-512 headers start some
// intrinsics from a self-initialised "undefined" vector, which
// -Wuninitialized reports at every use (a GCC 12 header issue, not a use of
// uninitialised data); the warning's location is the header, so it is
// silenced for the header only.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
