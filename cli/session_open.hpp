// What the commands that run a model share: opening the model and a session
// on it, reading a text file, parsing numeric options.
#pragma once

#include "lowbit/lowbit.h"

#include <string>

namespace cli {

// A model and a session on it, released together.
class OpenSession {
  public:
    // Opens path (printing the reader's warnings) and a session on it; on
    // failure prints the error and ok() is false.
    explicit OpenSession(const std::string &path);
    ~OpenSession();
    OpenSession(const OpenSession &) = delete;
    OpenSession &operator=(const OpenSession &) = delete;
    bool ok() const { return session != nullptr; }

    lb_model *model = nullptr;
    lb_session *session = nullptr;
};

// Reads a whole file; on failure prints an error naming it and returns false.
bool read_text_file(const std::string &path, std::string *out);

// A decimal integer in [lo, hi]; false otherwise.
bool parse_int(const std::string &s, long long lo, long long hi, long long *out);
bool parse_float(const std::string &s, double *out);

} // namespace cli
