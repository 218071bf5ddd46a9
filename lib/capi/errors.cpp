// lb_last_error, lb_status_name, versions.
#include "capi/guard.hpp"

namespace lb::capi {

namespace {
thread_local std::string t_last_error;
}

void set_error(const std::string &message) {
    t_last_error = message;
}
void clear_error() {
    t_last_error.clear();
}

} // namespace lb::capi

extern "C" {

const char *lb_last_error(void) {
    return lb::capi::t_last_error.c_str();
}

const char *lb_status_name(lb_status status) {
    switch (status) {
    case LB_OK: return "LB_OK";
    case LB_E_IO: return "LB_E_IO";
    case LB_E_FORMAT: return "LB_E_FORMAT";
    case LB_E_UNSUPPORTED: return "LB_E_UNSUPPORTED";
    case LB_E_INVALID_ARG: return "LB_E_INVALID_ARG";
    case LB_E_NOMEM: return "LB_E_NOMEM";
    case LB_E_CANCELLED: return "LB_E_CANCELLED";
    case LB_E_NOT_FOUND: return "LB_E_NOT_FOUND";
    case LB_E_TYPE: return "LB_E_TYPE";
    case LB_E_INTERNAL: return "LB_E_INTERNAL";
    case LB_STATUS_FORCE_INT32: break;
    }
    return "LB_E_UNKNOWN";
}

const char *lb_version(void) {
    return LB_VERSION_STRING;
}

uint32_t lb_version_number(void) {
    return LB_VERSION_NUMBER;
}

} // extern "C"
