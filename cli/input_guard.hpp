// What the CLI does when an input file shrinks under its memory mapping.
//
// lowbit reads models through read-only memory mappings. The library checks
// each file's size before it reads a tensor and reports a file that shrank as
// an error, but a file truncated while a tensor is being read makes the next
// access to the lost pages raise SIGBUS. The CLI turns that signal into the
// usual one-line error naming the file, and exit status 1; the output, being
// written to an unnamed temporary file, vanishes with the process.
#pragma once

#include <string>

namespace cli {

// Installs the SIGBUS handler (once) and records path as the input the
// message names. Call before reading from the model.
void guard_input(const std::string &path);

} // namespace cli
