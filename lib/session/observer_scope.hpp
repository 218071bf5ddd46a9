// An observer of a session's matrix products for one scope (an evaluation
// that watches the products: importance-matrix collection, per-tensor
// errors). The observer already on the session (the user's, through
// lb_session_set_observer) keeps seeing every product after this one, and may
// still stop the run; it is put back when the scope ends, whatever way it
// ends.
#pragma once

#include "session/session.hpp"

#include <utility>

namespace lb::session {

class ObserverScope {
  public:
    // watch(weight, rows, n_rows) sees each product first; false stops the run.
    ObserverScope(Session &s, MatmulObserver watch) : s_(s), saved_(s.observer()) {
        s.set_observer(
            [watch = std::move(watch), outer = saved_](const Matrix &m, const float *rows, int64_t n_rows) {
                return watch(m, rows, n_rows) && (!outer || outer(m, rows, n_rows));
            });
    }
    ~ObserverScope() { s_.set_observer(std::move(saved_)); }
    ObserverScope(const ObserverScope &) = delete;
    ObserverScope &operator=(const ObserverScope &) = delete;

  private:
    Session &s_;
    MatmulObserver saved_;
};

} // namespace lb::session
