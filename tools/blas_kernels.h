// Which OpenBLAS kernels a dgcfs or dgcctl process computes with.
#pragma once

namespace dgc::tools {

// OpenBLAS picks its kernels by CPU as it loads, and its Haswell/Zen kernels round some
// small matrix products differently from all its others (Prescott, Nehalem, Sandybridge,
// SkylakeX...). Regeneration must give the same bytes on every machine: on an AVX-512
// EPYC, whose environment had OpenBLAS choose Haswell, the fixtures of formats 35 to 44 expanded to
// other bytes (a UDP flow's server port is moved by exact ratios of the model's
// probabilities, which those last bits change). So the kernels are pinned: SkylakeX where
// the CPU has AVX-512, Sandybridge where it has AVX, else Prescott, which all give the
// fixtures' bytes. OpenBLAS makes its choice as it loads, from OPENBLAS_CORETYPE or the
// CPU; this makes it again with the variable set to the pinned set (whatever the
// environment said). Call first in main(), before any matrix product.
void pin_blas_kernels();

// The kernel set pin_blas_kernels chooses on this CPU.
const char* pinned_blas_core();

}  // namespace dgc::tools
