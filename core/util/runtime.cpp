#include "core/util/runtime.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>
#include <thread>

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

namespace fscope::core {

namespace {

// OpenBLAS's name for its kernels ("SkylakeX", "Prescott", ...), or "" for another BLAS.
std::string openBlasCore()
{
    using CoreName = char *(*)();
    auto coreName = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    const char *name = coreName ? coreName() : nullptr;
    return name ? std::string(name) : std::string();
}

} // namespace

std::string blasKernels()
{
    const std::string core = openBlasCore();
    return core.empty() ? std::string() : "OpenBLAS " + core;
}

void ensureBlasKernels(char **argv)
{
    if (std::getenv("OPENBLAS_CORETYPE") || !argv || !argv[0])
        return;
    std::string core = openBlasCore();
    if (core.empty())
        return; // not OpenBLAS
    std::transform(core.begin(), core.end(), core.begin(),
        [](unsigned char c) { return char(std::tolower(c)); });
    // The cores OpenBLAS falls back to for a CPU it does not know; none of them uses AVX2.
    static const char *const kGeneric[]
        = { "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "unknown" };
    if (std::none_of(
            std::begin(kGeneric), std::end(kGeneric), [&](const char *g) { return core == g; }))
        return;
    const char *wanted = nullptr;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl"))
        wanted = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        wanted = "Haswell";
    if (!wanted)
        return; // the generic kernels are the right ones
    setenv("OPENBLAS_CORETYPE", wanted, 1);
    execv("/proc/self/exe", argv);
    // Not run again (no /proc?): carry on with the kernels there are.
}

int computeThreads()
{
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int initComputeRuntime()
{
    // glibc serves blocks above 32 MiB with a fresh mmap and unmaps them on free, so every
    // batch-sized tensor (a [tokens, features] SAE code is 100 MiB) page-faults all its memory
    // in again; under virtualisation a fault is expensive (the indexer's bookkeeping ran 3.7x
    // slower). Keeping large blocks in the heap lets each batch reuse the last one's pages.
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    const int threads = computeThreads();
    at::set_num_threads(threads);
    return threads;
}

} // namespace fscope::core
