#include "interrupts.hpp"

#include <atomic>

namespace cli {

namespace {

constexpr int kMaxSessions = 4;
lb_session *g_sessions[kMaxSessions] = {};
std::atomic<bool> g_interrupted{false};

void on_signal(int) {
    g_interrupted.store(true);
    for (lb_session *s : g_sessions) lb_session_cancel(s);
}

} // namespace

Interrupts::Interrupts(std::initializer_list<lb_session *> sessions) {
    int i = 0;
    for (lb_session *s : sessions)
        if (i < kMaxSessions) g_sessions[i++] = s;
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
}

Interrupts::~Interrupts() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    for (lb_session *&s : g_sessions) s = nullptr;
}

bool Interrupts::interrupted() {
    return g_interrupted.load();
}

} // namespace cli
