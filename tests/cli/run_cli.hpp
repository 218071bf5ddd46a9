// Runs the lowbit CLI as a child process and captures what it did.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace clitest {

// The CLI under test: $LOWBIT_CLI if set (e.g. a sanitizer build), else the
// one built with the tests.
std::string cli_path();

struct Outcome {
    bool timed_out = false; // killed after the time limit
    bool signaled = false;  // ended by a signal (crash, abort)
    int signal = 0;
    int exit_code = -1;    // when it exited normally
    long peak_rss_kib = 0; // the child's ru_maxrss
    std::string out, err;

    // One line for failure messages: how it ended and what it said.
    std::string describe() const;
};

// Runs `cli_path() args...` with stdin from /dev/null, capturing stdout and
// stderr. A child still running after timeout_seconds is killed (SIGKILL)
// and reported as timed_out. Throws std::runtime_error if it cannot start.
Outcome run_cli(const std::vector<std::string> &args, int timeout_seconds = 10);

// The same, calling during(pid) on another thread while the child runs (to
// kill it, truncate its input ...). The child is not reaped before during()
// returns, so pid names it (or its zombie) for all of during()'s life.
Outcome run_cli_during(const std::vector<std::string> &args, const std::function<void(pid_t)> &during,
                       int timeout_seconds = 60);

// Waits until process pid has a file open in folder (an unnamed O_TMPFILE
// file reads "FOLDER/#INODE (deleted)" in /proc/PID/fd). False if the process
// ended first or timeout_ms passed.
bool wait_until_open_in(pid_t pid, const std::string &folder, int timeout_ms = 30000);

// Waits until process pid has a file open in folder holding at least
// min_bytes. False if the process ended first or timeout_ms passed.
bool wait_until_written_in(pid_t pid, const std::string &folder, uint64_t min_bytes, int timeout_ms = 30000);

// Waits until process pid has run for at least cpu_ms of CPU time (user and
// system, /proc/PID/stat): work done, whatever the machine's speed. False if
// the process ended first or timeout_ms passed.
bool wait_until_cpu_used(pid_t pid, int cpu_ms, int timeout_ms = 30000);

} // namespace clitest
