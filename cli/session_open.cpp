#include "session_open.hpp"

#include "commands.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cli {

OpenSession::OpenSession(const std::string &path) {
    model = open_model(path);
    if (model == nullptr) return;
    if (lb_session_new(&session, model) != LB_OK) {
        api_error("cannot run model");
        session = nullptr;
    }
}

OpenSession::~OpenSession() {
    lb_session_free(session);
    lb_model_close(model);
}

bool read_text_file(const std::string &path, std::string *out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        error(path + ": cannot read: " + std::strerror(errno));
        return false;
    }
    std::stringstream s;
    s << f.rdbuf();
    if (f.bad()) {
        error(path + ": cannot read: " + std::strerror(errno));
        return false;
    }
    *out = s.str();
    return true;
}

bool parse_int(const std::string &s, long long lo, long long hi, long long *out) {
    if (s.empty() || s.size() > 18) return false;
    char *end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool parse_float(const std::string &s, double *out) {
    if (s.empty()) return false;
    char *end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (errno != 0 || *end != '\0' || v != v) return false;
    *out = v;
    return true;
}

} // namespace cli
