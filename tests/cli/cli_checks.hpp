// Checks the CLI tests share: a clean failure with one error line naming
// what is wrong.
#pragma once

#include "run_cli.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clitest {

inline bool contains(const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
}

// Exit status 1, nothing on stdout (no partial result), and a last
// "lowbit: error:" line that mentions every fragment.
inline ::testing::AssertionResult failed_naming(const Outcome &r, const std::vector<std::string> &fragments) {
    if (r.timed_out || r.signaled || r.exit_code != 1)
        return ::testing::AssertionFailure() << "not a clean failure: " << r.describe();
    if (!r.out.empty()) return ::testing::AssertionFailure() << "partial output: " << r.out;
    const size_t at = r.err.rfind("lowbit: error:");
    if (at == std::string::npos) return ::testing::AssertionFailure() << "no error line: " << r.describe();
    const std::string line = r.err.substr(at);
    for (const std::string &f : fragments)
        if (!contains(line, f))
            return ::testing::AssertionFailure() << "does not mention '" << f << "': " << line;
    return ::testing::AssertionSuccess();
}

} // namespace clitest
