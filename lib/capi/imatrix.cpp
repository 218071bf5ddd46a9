// Importance matrices: the C function over lb::imatrix (conversion to the
// GGUF form llama.cpp's tools read).
#include "imatrix/imatrix.hpp"
#include "capi/guard.hpp"

#include <sys/stat.h>

using lb::fail;
using lb::capi::guard;
using lb::capi::require;

extern "C" {

lb_status lb_imatrix_convert(const char *in_path, const char *out_path) {
    return guard([&] {
        require(in_path, "lb_imatrix_convert", "in_path");
        require(out_path, "lb_imatrix_convert", "out_path");
        struct stat in_st, out_st;
        if (::stat(out_path, &out_st) == 0) {
            if (S_ISDIR(out_st.st_mode))
                fail(LB_E_INVALID_ARG, "%s: the output path is a folder; give a file name", out_path);
            if (::stat(in_path, &in_st) == 0 && in_st.st_dev == out_st.st_dev &&
                in_st.st_ino == out_st.st_ino)
                fail(LB_E_INVALID_ARG, "%s: the output path names the input file; choose another output",
                     out_path);
        }
        const lb::imatrix::Imatrix m = lb::imatrix::read(in_path);
        lb::imatrix::write_gguf(m, out_path);
    });
}

} // extern "C"
