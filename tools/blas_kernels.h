// Which OpenBLAS kernels a dgcfs or dgcctl process computes with.
#pragma once

namespace dgc::tools {

// OpenBLAS picks its kernels by CPU as it loads, and its Haswell/Zen kernels round some
// small matrix products differently from all its others (Prescott, Nehalem, Sandybridge,
// SkylakeX...). Regeneration must give the same bytes on every machine: on an AVX-512
// EPYC, where OpenBLAS chose Zen, the golden fixtures of formats 35 to 44 expanded to
// other bytes (a UDP flow's server port is moved by exact ratios of the model's
// probabilities, which those last bits change). So the kernels are pinned: SkylakeX where
// the CPU has AVX-512, Sandybridge where it has AVX, else Prescott, which all give the
// fixtures' bytes. OpenBLAS reads the choice (OPENBLAS_CORETYPE) only as it loads, so the
// process runs itself again with it set, once, before anything else. A different
// OPENBLAS_CORETYPE in the environment is replaced: that EPYC's own environment set
// Haswell. Call first in main().
void pin_blas_kernels(char** argv);

// The kernel set pin_blas_kernels chooses on this CPU.
const char* pinned_blas_core();

}  // namespace dgc::tools
