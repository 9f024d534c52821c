#pragma once
// What the accelerator's memory holds, where the LibTorch in use has CUDA: free and total bytes,
// the peak allocated through LibTorch's caching allocator, and releasing its cached blocks after
// an out-of-memory. On a CPU build every query answers "unknown" (std::nullopt).

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <optional>
#include <string>

namespace fscope::core::util {

struct DeviceMemory {
    int64_t freeBytes = 0, totalBytes = 0;
};

std::optional<DeviceMemory> deviceMemory(const c10::Device &device);
// The GPU's marketing name ("NVIDIA H200"); "CPU" for the CPU, "" when unknown.
std::string deviceName(const c10::Device &device);
// "cuda:0 bf16", "cpu f32": how jobs and results name where they were computed.
std::string deviceLabel(const c10::Device &device, c10::ScalarType dtype);
// "1.2 GiB", "640 MiB".
std::string formatBytes(int64_t bytes);
std::optional<int64_t> peakAllocatedBytes(const c10::Device &device);
void resetPeakAllocated(const c10::Device &device);
// Returns the caching allocator's unused blocks to the driver (after an out-of-memory).
void releaseCachedMemory(const c10::Device &device);

} // namespace fscope::core::util
