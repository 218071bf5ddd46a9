// Ctrl-C and SIGTERM during a long evaluation: they cancel the running
// sessions (lb_session_cancel is safe from a signal handler's thread), so
// the command ends cleanly, writing no partial output, with status 130.
#pragma once

#include "lowbit/lowbit.h"

#include <csignal>
#include <initializer_list>

namespace cli {

// Cancels the given sessions on SIGINT/SIGTERM for the life of the object
// (up to four; nullptr entries are ignored).
class Interrupts {
  public:
    Interrupts(std::initializer_list<lb_session *> sessions);
    ~Interrupts();
    Interrupts(const Interrupts &) = delete;
    Interrupts &operator=(const Interrupts &) = delete;

    // Whether a signal came (then a LB_E_CANCELLED is the user's doing).
    static bool interrupted();

  private:
    struct sigaction old_int_, old_term_;
};

} // namespace cli
