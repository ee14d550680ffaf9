#include "blas_kernels.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace dgc::tools {

const char* pinned_blas_core() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx")) return "Sandybridge";
    return "Prescott";
}

void pin_blas_kernels(char** argv) {
    const char* want = pinned_blas_core();
    if (const char* have = std::getenv("OPENBLAS_CORETYPE"); have && std::strcmp(have, want) == 0) return;
    ::setenv("OPENBLAS_CORETYPE", want, 1);
    ::execv("/proc/self/exe", argv);
    // Only where the process cannot run itself again (no /proc): it goes on with the
    // kernels OpenBLAS chose, as before.
}

}  // namespace dgc::tools
