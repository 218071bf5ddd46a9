// lowbit repack: a GGUF file's matrices into a tiled layout of lowbit's
// (docs/formats.md) or back to the standard one, losslessly.
#include "commands.hpp"

#include <cstdio>
#include <string>

namespace cli {

namespace {

const char *kUsage =
    "usage: lowbit repack IN OUT --to standard|q4_k_4|q8r16\n"
    "\n"
    "Writes IN again as OUT (atomically; OUT may be IN) with its matrices in another layout:\n"
    "  q8r16      Q8_0 matrices with a multiple of 16 rows as Q8R16 (16 rows interleaved)\n"
    "  q4_k_4     Q4_K matrices with a multiple of 4 rows as Q4_K_4 (4 rows interleaved)\n"
    "  standard   every tensor in its standard GGUF type again\n"
    "token_embd.weight and every other tensor stay as they are; the file says its layout in\n"
    "the key lowbit.layout. Only lowbit reads Q8R16 and Q4_K_4: repack to standard before\n"
    "giving a file to llama.cpp. lowbit's own evaluation repacks standard files in memory\n"
    "when the CPU has the kernels, so a tiled file only saves that step.\n"
    "\n"
    "  --to L      the layout to write (required)\n"
    "  -h, --help  show this help\n";

} // namespace

int cmd_repack(const Args &args) {
    std::string in, out, layout;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (a == "-h" || a == "--help") {
            std::printf("%s", kUsage);
            return 0;
        } else if (a == "--to") {
            if (i + 1 >= args.size()) return error("repack: --to needs standard, q4_k_4 or q8r16");
            layout = args[++i];
        } else if (!a.empty() && a[0] == '-') {
            return error("repack: unknown option '" + a + "'");
        } else if (in.empty()) {
            in = a;
        } else if (out.empty()) {
            out = a;
        } else {
            return error("repack: unexpected argument '" + a + "'");
        }
    }
    if (in.empty() || out.empty() || layout.empty())
        return error("repack: IN, OUT and --to are needed\n" + std::string(kUsage));
    if (layout != "standard" && layout != "q4_k_4" && layout != "q8r16")
        return error("repack: --to must be standard, q4_k_4 or q8r16, not '" + layout + "'");
    lb_model *m = open_model(in);
    if (m == nullptr) return 1;
    uint64_t tiled = 0;
    const lb_status st = lb_model_repack(m, out.c_str(), layout.c_str(), &tiled);
    lb_model_close(m);
    if (st != LB_OK) return api_error("repack");
    std::printf("wrote %s (%s layout, %llu tiled tensors)\n", out.c_str(), layout.c_str(),
                static_cast<unsigned long long>(tiled));
    return 0;
}

} // namespace cli
