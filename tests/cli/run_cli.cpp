#include "run_cli.hpp"

#include "test_data.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace clitest {

namespace {

using Clock = std::chrono::steady_clock;

// A pipe whose ends are closed on exec; the child gets the write end by dup2.
struct Pipe {
    int read_end = -1, write_end = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
        read_end = fds[0];
        write_end = fds[1];
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    Pipe(const Pipe &) = delete;
    Pipe &operator=(const Pipe &) = delete;
    void close_read() {
        if (read_end >= 0) ::close(read_end);
        read_end = -1;
    }
    void close_write() {
        if (write_end >= 0) ::close(write_end);
        write_end = -1;
    }
};

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

} // namespace

std::string cli_path() {
    const char *env = std::getenv("LOWBIT_CLI");
    return env != nullptr && *env != '\0' ? std::string(env) : testdata::cli_path();
}

std::string Outcome::describe() const {
    std::string how;
    if (timed_out)
        how = "timed out and was killed";
    else if (signaled)
        how = "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    else
        how = "exited with code " + std::to_string(exit_code);
    return how + "; stderr: [" + err + "]; stdout: [" + out.substr(0, 500) + "]";
}

Outcome run_cli(const std::vector<std::string> &args, int timeout_seconds) {
    return run_cli_during(args, nullptr, timeout_seconds);
}

bool wait_until_written_in(pid_t pid, const std::string &folder, uint64_t min_bytes, int timeout_ms) {
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
    while (Clock::now() < deadline) {
        DIR *dir = ::opendir(fds.c_str());
        if (dir == nullptr) return false;
        bool found = false;
        while (const dirent *e = ::readdir(dir)) {
            char target[4096];
            const ssize_t n = ::readlinkat(::dirfd(dir), e->d_name, target, sizeof target - 1);
            if (n <= 0) continue;
            target[n] = '\0';
            if (std::string(target).rfind(folder + "/", 0) != 0) continue;
            // the size of the open file itself (also of an unnamed one)
            struct stat st;
            found = found || (::fstatat(::dirfd(dir), e->d_name, &st, 0) == 0 &&
                              static_cast<uint64_t>(st.st_size) >= min_bytes);
        }
        ::closedir(dir);
        if (found) return true;
        // a zombie has no descriptors left: it will not open anything
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        std::getline(stat, line);
        const size_t paren = line.rfind(')');
        if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] == 'Z') return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return false;
}

bool wait_until_cpu_used(pid_t pid, int cpu_ms, int timeout_ms) {
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    const double ticks_per_ms = static_cast<double>(::sysconf(_SC_CLK_TCK)) / 1000.0;
    while (Clock::now() < deadline) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        std::getline(stat, line);
        const size_t paren = line.rfind(')');
        if (paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] == 'Z') return false;
        // after the name: state, then fields 4 ... 13; utime and stime are 14 and 15
        std::istringstream fields(line.substr(paren + 2));
        std::string skip;
        for (int f = 3; f <= 13; ++f) fields >> skip;
        unsigned long long utime = 0, stime = 0;
        fields >> utime >> stime;
        if (static_cast<double>(utime + stime) >= cpu_ms * ticks_per_ms) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

bool wait_until_open_in(pid_t pid, const std::string &folder, int timeout_ms) {
    return wait_until_written_in(pid, folder, 0, timeout_ms);
}

Outcome run_cli_during(const std::vector<std::string> &args, const std::function<void(pid_t)> &during,
                       int timeout_seconds) {
    std::vector<std::string> argv_strings{cli_path()};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char *> argv;
    for (std::string &s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    Pipe out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out.write_end, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err.write_end, STDERR_FILENO);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot run " + argv_strings[0] + ": " + std::strerror(rc));
    out.close_write();
    err.close_write();
    std::thread hook;
    if (during) hook = std::thread(during, pid);
    // joined before the child is reaped, so that its pid stays its own
    auto join_hook = [&] {
        if (hook.joinable()) hook.join();
    };

    Outcome result;
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
    // Read both pipes until the child closes them (normally: when it exits).
    while (out.read_end >= 0 || err.read_end >= 0) {
        pollfd fds[2] = {{out.read_end, POLLIN, 0}, {err.read_end, POLLIN, 0}};
        const int n = ::poll(fds, 2, remaining_ms(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            result.timed_out = true;
            break;
        }
        Pipe *pipes[2] = {&out, &err};
        std::string *sinks[2] = {&result.out, &result.err};
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buf[4096];
            const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got > 0)
                sinks[i]->append(buf, static_cast<size_t>(got));
            else if (got == 0 || errno != EINTR)
                pipes[i]->close_read();
        }
    }
    int status = 0;
    if (result.timed_out) {
        ::kill(pid, SIGKILL);
        join_hook();
        ::waitpid(pid, &status, 0);
        return result;
    }
    join_hook();
    // Reap the child; it should be gone right after closing its output.
    for (;;) {
        struct rusage usage = {};
        const pid_t w = ::wait4(pid, &status, WNOHANG, &usage);
        if (w == pid) {
            result.peak_rss_kib = usage.ru_maxrss;
            break;
        }
        if (w < 0 && errno != EINTR)
            throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
        if (remaining_ms(deadline) == 0) {
            result.timed_out = true;
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return result;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (WIFSIGNALED(status)) {
        result.signaled = true;
        result.signal = WTERMSIG(status);
    } else if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    }
    return result;
}

} // namespace clitest
