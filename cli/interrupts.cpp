#include "interrupts.hpp"

#include <atomic>

namespace cli {

namespace {

constexpr int kMaxSessions = 4;
// lock-free atomics: read from the signal handler
std::atomic<lb_session *> g_sessions[kMaxSessions] = {};
std::atomic<lb_quantizer *> g_quantizer{nullptr};
std::atomic<bool> g_interrupted{false};

void on_signal(int) {
    g_interrupted.store(true);
    for (const std::atomic<lb_session *> &s : g_sessions) lb_session_cancel(s.load());
    lb_quantizer_cancel(g_quantizer.load());
}

} // namespace

Interrupts::Interrupts(std::initializer_list<lb_session *> sessions, lb_quantizer *quantizer) {
    int i = 0;
    for (lb_session *s : sessions)
        if (i < kMaxSessions) g_sessions[i++].store(s);
    g_quantizer.store(quantizer);
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
}

Interrupts::~Interrupts() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    for (std::atomic<lb_session *> &s : g_sessions) s.store(nullptr);
    g_quantizer.store(nullptr);
}

void Interrupts::running(lb_session *s) {
    for (std::atomic<lb_session *> &slot : g_sessions) slot.store(nullptr);
    g_sessions[0].store(s);
}

bool Interrupts::interrupted() {
    return g_interrupted.load();
}

} // namespace cli
