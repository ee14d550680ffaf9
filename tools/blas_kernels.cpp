#include "blas_kernels.h"

#include <dlfcn.h>

#include <cstdlib>

namespace dgc::tools {

const char* pinned_blas_core() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx")) return "Sandybridge";
    return "Prescott";
}

void pin_blas_kernels() {
    // OpenBLAS chose its kernels as it loaded (by CPU, or by OPENBLAS_CORETYPE); its own
    // entry points drop that choice and make it again from the variable. Where the BLAS
    // behind libtorch is not OpenBLAS (another alternative selected), there is nothing to pin.
    using Fn = void (*)();
    const auto quit = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
    const auto init = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
    if (!quit || !init) return;
    ::setenv("OPENBLAS_CORETYPE", pinned_blas_core(), 1);
    quit();
    init();
}

}  // namespace dgc::tools
