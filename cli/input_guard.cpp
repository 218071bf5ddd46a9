#include "input_guard.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <unistd.h>

namespace cli {

namespace {

// The message, built before any signal can arrive: the handler only writes it.
char g_message[4096];
size_t g_length = 0;

void on_sigbus(int) {
    // async-signal-safe: write(2) and _exit(2) only
    if (g_length > 0) {
        const ssize_t n = ::write(STDERR_FILENO, g_message, g_length);
        (void)n;
    }
    ::_exit(1);
}

} // namespace

void guard_input(const std::string &path) {
    // on a terminal, first clear the progress bar's line
    const char *head = ::isatty(STDERR_FILENO) ? "\r\033[Klowbit: error: " : "lowbit: error: ";
    static const char tail[] = ": the input file shrank or changed while it was being read (SIGBUS); "
                               "nothing was written\n";
    const size_t head_length = std::strlen(head);
    const size_t n = std::min(path.size(), sizeof g_message - head_length - sizeof tail);
    std::memcpy(g_message, head, head_length);
    std::memcpy(g_message + head_length, path.data(), n);
    std::memcpy(g_message + head_length + n, tail, sizeof tail - 1);
    g_length = head_length + n + sizeof tail - 1;
    struct sigaction sa = {};
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, nullptr);
}

} // namespace cli
