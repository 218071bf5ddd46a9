// Runs the lowbit CLI as a child process and captures what it did.
#pragma once

#include <string>
#include <vector>

namespace clitest {

// The CLI under test: $LOWBIT_CLI if set (e.g. a sanitizer build), else the
// one built with the tests.
std::string cli_path();

struct Outcome {
    bool timed_out = false; // killed after the time limit
    bool signaled = false;  // ended by a signal (crash, abort)
    int signal = 0;
    int exit_code = -1; // when it exited normally
    std::string out, err;

    // One line for failure messages: how it ended and what it said.
    std::string describe() const;
};

// Runs `cli_path() args...` with stdin from /dev/null, capturing stdout and
// stderr. A child still running after timeout_seconds is killed (SIGKILL)
// and reported as timed_out. Throws std::runtime_error if it cannot start.
Outcome run_cli(const std::vector<std::string> &args, int timeout_seconds = 10);

} // namespace clitest
