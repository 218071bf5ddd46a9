// Errors inside the library: thrown as lb::Error, turned into an lb_status
// and a thread-local message at the C boundary (lib/capi/guard.hpp).
#pragma once

#include "lowbit/lowbit.h"

#include <stdexcept>
#include <string>

namespace lb {

class Error : public std::runtime_error {
  public:
    Error(lb_status status, const std::string &message) : std::runtime_error(message), status_(status) {}
    lb_status status() const { return status_; }

  private:
    lb_status status_;
};

// printf-style formatting into a std::string.
std::string strformat(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// Throws lb::Error with a printf-style message.
[[noreturn]] void fail(lb_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

} // namespace lb
