// The lowbit command-line tool. Commands use only the public C API.
#pragma once

#include "lowbit/lowbit.h"

#include <string>
#include <vector>

namespace cli {

using Args = std::vector<std::string>;

int cmd_info(const Args &args);
int cmd_quantize(const Args &args);
int cmd_synth(const Args &args);
int cmd_tokenize(const Args &args);
int cmd_perplexity(const Args &args);
int cmd_kld(const Args &args);
int cmd_compare(const Args &args);
int cmd_imatrix(const Args &args);
int cmd_convert(const Args &args);
int cmd_generate(const Args &args);
int cmd_repack(const Args &args);

// Prints "lowbit: error: <message>" to stderr; returns the exit status 1.
int error(const std::string &message);
// Prints "lowbit: error: <what>: <lb_last_error()>"; returns 1.
int api_error(const char *what);

// Opens a model, prints the reader's warnings ("lowbit: warning: ...") and
// guards against the file shrinking under the mapping (input_guard.hpp).
// On failure prints the error and returns nullptr.
lb_model *open_model(const std::string &path);

} // namespace cli
