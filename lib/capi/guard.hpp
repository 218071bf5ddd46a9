// The C boundary: every exported function runs its body through guard(),
// which turns exceptions into an lb_status and the thread's error message.
#pragma once

#include "common/error.hpp"
#include "lowbit/lowbit.h"

#include <new>
#include <string>

namespace lb::capi {

void set_error(const std::string &message);
void clear_error();

template <typename F> lb_status guard(F &&body) noexcept {
    try {
        body();
        return LB_OK;
    } catch (const Error &e) {
        set_error(e.what());
        return e.status();
    } catch (const std::bad_alloc &) {
        set_error("out of memory");
        return LB_E_NOMEM;
    } catch (const std::exception &e) {
        set_error(std::string("internal error: ") + e.what());
        return LB_E_INTERNAL;
    } catch (...) {
        set_error("internal error: unknown exception");
        return LB_E_INTERNAL;
    }
}

// Throws LB_E_INVALID_ARG naming the argument if p is NULL.
inline void require(const void *p, const char *function, const char *argument) {
    if (p == nullptr) fail(LB_E_INVALID_ARG, "%s: %s is NULL", function, argument);
}

} // namespace lb::capi
