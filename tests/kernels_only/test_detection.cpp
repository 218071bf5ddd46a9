// What the dispatcher detected, against what the emulated CPU has:
// scripts/arm-check.sh runs these tests under qemu-aarch64 with
// LOWBIT_EXPECT_SET (the set the CPU model must get) and, for SVE CPUs,
// LOWBIT_EXPECT_SVE_BYTES (the vector length qemu was given).
#include "kernels/kernels.hpp"

#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <string>

namespace {

const char *expected(const char *variable) {
    const char *v = std::getenv(variable);
    EXPECT_NE(v, nullptr) << variable << " is not set: run these tests through scripts/arm-check.sh";
    return v == nullptr ? "" : v;
}

bool has_feature(const std::string &name) {
    const std::string features = std::string(" ") + lb::kernels::cpu_features() + " ";
    return features.find(" " + name + " ") != std::string::npos;
}

TEST(Detection, TheCpuGetsItsSet) {
    ASSERT_EQ(std::getenv("LOWBIT_KERNELS"), nullptr);
    EXPECT_STREQ(lb::kernels::active().name, expected("LOWBIT_EXPECT_SET"));
}

TEST(Detection, FeaturesAgreeWithTheSets) {
    EXPECT_TRUE(has_feature("neon")) << lb::kernels::cpu_features();
    EXPECT_EQ(lb::kernels::find("neon") != nullptr, has_feature("dotprod")) << lb::kernels::cpu_features();
    EXPECT_EQ(lb::kernels::find("sve") != nullptr, has_feature("sve") && has_feature("dotprod"))
        << lb::kernels::cpu_features();
}

#if defined(__aarch64__)
TEST(Detection, SveRunsAtTheGivenVectorLength) {
    const std::string bytes = expected("LOWBIT_EXPECT_SVE_BYTES");
    if (bytes == "none") {
        EXPECT_EQ(lb::kernels::find("sve"), nullptr);
        return;
    }
    ASSERT_NE(lb::kernels::find("sve"), nullptr);
    EXPECT_EQ(lb::kernels::sve::vector_bytes(), std::atoi(bytes.c_str()));
}
#endif

} // namespace
