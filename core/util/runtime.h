#pragma once
// Process-wide start-up of the compute runtime, called once from each main().

#include <string>

namespace fscope::core {

// OpenBLAS chooses its kernels from the CPU model when it loads. A model newer than the
// library (Debian 12's OpenBLAS 0.3.21 does not know recent Xeons, e.g. family 6 model 207)
// falls back to generic SSE3 kernels ("Prescott"): a float32 matmul ran at 53 GFLOPS instead
// of 313 with the AVX-512 ones on such a 2-core machine. When that happened and the CPU has
// AVX2 or AVX-512, this runs the program again (same arguments) with OPENBLAS_CORETYPE naming
// the matching kernels. Call it first thing in main(); it returns when nothing needed fixing,
// when OPENBLAS_CORETYPE is already set, or when the program cannot be run again.
void ensureBlasKernels(char **argv);

// "OpenBLAS <kernels>" as OpenBLAS reports the kernels it runs, or "" for another BLAS.
std::string blasKernels();

// The thread count the compute runtime uses: the hardware concurrency, at least 1.
int computeThreads();

// Sets LibTorch's intra-op thread count to computeThreads() (LibTorch's default can leave
// cores idle under some launchers) and returns it; keeps large freed blocks in the heap for
// reuse instead of returning them to the kernel.
int initComputeRuntime();

} // namespace fscope::core
