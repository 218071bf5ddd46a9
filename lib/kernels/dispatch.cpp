// Choosing the kernel set at run time. On x86-64: what the CPU reports
// through cpuid, and what the operating system saves on a context switch
// (xgetbv), since a CPU with AVX-512 under a kernel that does not save the ZMM
// registers cannot use them. On AArch64: the hardware capabilities Linux
// reports (getauxval), which already account for the kernel's support.
#include "kernels/kernels.hpp"
#if defined(__x86_64__)
#include "kernels/x86_avx512/bf16_avx512.hpp"
#endif

#include <cstdlib>
#include <cstring>
#include <string>
#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

namespace lb::kernels {

namespace {

struct Features {
    bool sse2 = false, avx2 = false, fma = false, f16c = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512vnni = false,
         avx512bf16 = false;
    bool neon = false, dotprod = false, fp16 = false, i8mm = false, sve = false, sve2 = false;
};

#if defined(__x86_64__)
bool bit(unsigned reg, int n) {
    return (reg >> n & 1u) != 0;
}

// XCR0: the register state the operating system saves
uint64_t xcr0() {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<uint64_t>(hi) << 32) | lo;
}

Features detect() {
    Features f;
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) return f;
    f.sse2 = bit(d, 26);
    const bool osxsave = bit(c, 27), avx = bit(c, 28);
    const uint64_t state = osxsave ? xcr0() : 0;
    const bool ymm = avx && (state & 0x6) == 0x6;   // SSE and AVX state
    const bool zmm = ymm && (state & 0xe0) == 0xe0; // opmask, ZMM0-15 upper halves, ZMM16-31
    f.fma = ymm && bit(c, 12);
    f.f16c = ymm && bit(c, 29);
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return f;
    f.avx2 = ymm && bit(b, 5);
    f.avx512f = zmm && bit(b, 16);
    f.avx512dq = f.avx512f && bit(b, 17);
    f.avx512bw = f.avx512f && bit(b, 30);
    f.avx512vl = f.avx512f && bit(b, 31);
    f.avx512vnni = f.avx512f && bit(c, 11);
    const unsigned max_sub = a;
    if (max_sub >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d) != 0) f.avx512bf16 = f.avx512f && bit(a, 5);
    return f;
}
#elif defined(__aarch64__)
// AT_HWCAP / AT_HWCAP2 bits (Linux's arch/arm64/include/uapi/asm/hwcap.h)
constexpr unsigned long kHwcapAsimd = 1ul << 1, kHwcapAsimdHp = 1ul << 10, kHwcapAsimdDp = 1ul << 20,
                        kHwcapSve = 1ul << 22;
constexpr unsigned long kHwcap2Sve2 = 1ul << 1, kHwcap2I8mm = 1ul << 13;

Features detect() {
    Features f;
    const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    f.neon = (hw & kHwcapAsimd) != 0;
    f.fp16 = (hw & kHwcapAsimdHp) != 0;
    f.dotprod = (hw & kHwcapAsimdDp) != 0;
    f.sve = (hw & kHwcapSve) != 0;
    f.sve2 = (hw2 & kHwcap2Sve2) != 0;
    f.i8mm = (hw2 & kHwcap2I8mm) != 0;
    return f;
}
#else
Features detect() {
    return {};
}
#endif

const Features &features() {
    static const Features f = detect();
    return f;
}

#if defined(__x86_64__)
// the AVX2 set's dot kernels also use FMA and F16C (every AVX2 CPU has them)
bool runs_avx2() {
    const Features &f = features();
    return f.avx2 && f.fma && f.f16c;
}

// the AVX-512 set calls the AVX2 set's kernels for some types
bool runs_avx512() {
    const Features &f = features();
    return runs_avx2() && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni;
}

#elif defined(__aarch64__)
// the NEON set's dot kernels use the dot-product instructions (ARMv8.2)
bool runs_neon() {
    const Features &f = features();
    return f.neon && f.dotprod;
}

// the SVE set calls the NEON set's kernels for some types
bool runs_sve() {
    return runs_neon() && features().sve;
}
#endif

bool always() {
    return true;
}

// The sets of this build, slowest first, and whether this CPU runs each.
struct Entry {
    const KernelSet *set;
    bool (*runs)();
};
const Entry kSets[] = {
    {&kScalarKernels, always},
    {&kGenericKernels, always},
#if defined(__x86_64__)
    {&kAvx2Kernels, runs_avx2},
    {&kAvx512Kernels, runs_avx512},
#elif defined(__aarch64__)
    {&kNeonKernels, runs_neon},
    {&kSveKernels, runs_sve},
#endif
};
constexpr int kCount = static_cast<int>(sizeof kSets / sizeof kSets[0]);

} // namespace

int set_count() {
    return kCount;
}

const char *set_name(int i) {
    return kSets[i].set->name;
}

const KernelSet *find(const char *name) {
    if (name == nullptr) return nullptr;
    for (const Entry &e : kSets)
        if (std::strcmp(e.set->name, name) == 0) return e.runs() ? e.set : nullptr;
    return nullptr;
}

formats::DequantizeRowFn dequantizer(const KernelSet &set, uint32_t type) {
    if (set.dequantize != nullptr && type < formats::kTypeCount && set.dequantize->by_type[type] != nullptr)
        return set.dequantize->by_type[type];
    return formats::traits(type).dequantize;
}

const KernelSet kScalarKernels = {
    .name = "scalar", .search = formats::kReferenceSearch, .dot = reference_dot};

const KernelSet &active() {
    static const KernelSet *const set = [] {
        if (const KernelSet *forced = find(std::getenv("LOWBIT_KERNELS"))) return forced;
        for (int i = kCount - 1; i > 0; --i)
            if (kSets[i].runs()) return kSets[i].set;
        return &kGenericKernels;
    }();
    return *set;
}

const char *cpu_features() {
    static const std::string text = [] {
        const Features &f = features();
        const std::pair<bool, const char *> named[] = {
            {f.sse2, "sse2"},
            {f.avx2, "avx2"},
            {f.fma, "fma"},
            {f.f16c, "f16c"},
            {f.avx512f, "avx512f"},
            {f.avx512bw, "avx512bw"},
            {f.avx512vl, "avx512vl"},
            {f.avx512dq, "avx512dq"},
            {f.avx512vnni, "avx512vnni"},
            {f.avx512bf16, "avx512bf16"},
            {f.neon, "neon"},
            {f.dotprod, "dotprod"},
            {f.fp16, "fp16"},
            {f.i8mm, "i8mm"},
            {f.sve, "sve"},
            {f.sve2, "sve2"},
        };
        std::string s;
        for (const auto &[has, name] : named)
            if (has) s += s.empty() ? name : std::string(" ") + name;
        return s;
    }();
    return text.c_str();
}

#if defined(__x86_64__)
bool avx512::has_bf16() {
    return features().avx512bf16;
}
#endif

} // namespace lb::kernels
