#include "core/util/device_memory.h"

#include <cstdio>

// Only a CUDA LibTorch ships these headers; Debian's CPU LibTorch does not.
#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<cuda_runtime_api.h>)
#define FSCOPE_HAVE_CUDA_MEMORY 1
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace fscope::core::util {

#ifdef FSCOPE_HAVE_CUDA_MEMORY
namespace {
c10::DeviceIndex indexOf(const c10::Device &device)
{
    return device.has_index() ? device.index() : c10::cuda::current_device();
}
} // namespace
#endif

std::optional<DeviceMemory> deviceMemory(const c10::Device &device)
{
#ifdef FSCOPE_HAVE_CUDA_MEMORY
    if (device.is_cuda()) {
        const c10::cuda::CUDAGuard guard(indexOf(device));
        size_t freeBytes = 0, totalBytes = 0;
        if (cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess)
            return DeviceMemory { static_cast<int64_t>(freeBytes),
                static_cast<int64_t>(totalBytes) };
    }
#endif
    (void)device;
    return std::nullopt;
}

std::string deviceName(const c10::Device &device)
{
    if (device.is_cpu())
        return "CPU";
#ifdef FSCOPE_HAVE_CUDA_MEMORY
    if (device.is_cuda()) {
        cudaDeviceProp props {};
        if (cudaGetDeviceProperties(&props, indexOf(device)) == cudaSuccess)
            return props.name;
    }
#endif
    return {};
}

std::string deviceLabel(const c10::Device &device, c10::ScalarType dtype)
{
    const char *name = dtype == c10::kBFloat16 ? "bf16"
        : dtype == c10::kHalf                  ? "f16"
        : dtype == c10::kFloat                 ? "f32"
        : dtype == c10::kDouble                ? "f64"
                                               : c10::toString(dtype);
    return device.str() + " " + name;
}

std::string formatBytes(int64_t bytes)
{
    char text[32];
    if (bytes >= (int64_t(1) << 30))
        std::snprintf(text, sizeof text, "%.1f GiB", double(bytes) / double(int64_t(1) << 30));
    else
        std::snprintf(text, sizeof text, "%.0f MiB", double(bytes) / double(int64_t(1) << 20));
    return text;
}

std::optional<int64_t> peakAllocatedBytes(const c10::Device &device)
{
#ifdef FSCOPE_HAVE_CUDA_MEMORY
    if (device.is_cuda())
        return static_cast<int64_t>(c10::cuda::CUDACachingAllocator::getDeviceStats(indexOf(device))
                                        .allocated_bytes[0]
                                        .peak);
#endif
    (void)device;
    return std::nullopt;
}

void resetPeakAllocated(const c10::Device &device)
{
#ifdef FSCOPE_HAVE_CUDA_MEMORY
    if (device.is_cuda())
        c10::cuda::CUDACachingAllocator::resetPeakStats(indexOf(device));
#endif
    (void)device;
}

void releaseCachedMemory(const c10::Device &device)
{
#ifdef FSCOPE_HAVE_CUDA_MEMORY
    if (device.is_cuda())
        c10::cuda::CUDACachingAllocator::emptyCache();
#endif
    (void)device;
}

} // namespace fscope::core::util
