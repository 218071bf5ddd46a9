// Ctrl-C and SIGTERM during a long job: they cancel the running sessions or
// quantizer (lb_session_cancel and lb_quantizer_cancel are atomic stores,
// safe from a signal handler), so the command ends cleanly, writing no
// partial output, with status 130. Commands whose work reports progress
// also stop it from the progress callback when interrupted() says so (a
// cancel that came just before a call began would be forgotten by it).
#pragma once

#include "lowbit/lowbit.h"

#include <csignal>
#include <initializer_list>

namespace cli {

// Installs the handlers for the life of the object, and restores the old
// ones after.
class Interrupts {
  public:
    // Cancels these sessions (up to four; nullptr entries are ignored) and
    // this quantizer (or none) on a signal.
    explicit Interrupts(std::initializer_list<lb_session *> sessions = {}, lb_quantizer *quantizer = nullptr);
    ~Interrupts();
    Interrupts(const Interrupts &) = delete;
    Interrupts &operator=(const Interrupts &) = delete;

    // From now on a signal cancels s alone (nullptr: no session): for
    // commands that run sessions one after another.
    void running(lb_session *s);
    // Whether a signal came (then a LB_E_CANCELLED is the user's doing).
    static bool interrupted();

  private:
    struct sigaction old_int_, old_term_;
};

} // namespace cli
