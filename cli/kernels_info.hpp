// The kernel sets, as the CLI shows them: `lowbit info --cpu`, and a warning
// when LOWBIT_KERNELS names a set that cannot be used.
#pragma once

namespace cli {

// Prints the CPU's features, the kernel sets of the library and the one in
// use, as text or JSON. Returns the exit status.
int print_cpu_info(bool json);

// If LOWBIT_KERNELS is set to a set this CPU does not run (or a name that is
// not a set), says so on stderr, with the set used instead.
void warn_unusable_forced_kernels();

} // namespace cli
