#pragma once
// The devices a researcher can pick, described the way a status bar shows them: the GPU's name
// and memory, and how much of it is in use now. On a CPU LibTorch the list is the CPU alone.

#include <cstdint>
#include <string>
#include <vector>

namespace fscope::core::model {

struct ComputeDeviceInfo {
    std::string id; // "cpu", "cuda:0"
    std::string name; // "CPU", "NVIDIA H200"
    int64_t totalBytes = -1; // -1: not known (the CPU)
};
std::vector<ComputeDeviceInfo> listComputeDevices();

// "auto" as jobs resolve it: the first GPU, else the CPU ("cpu" when `id` is not valid).
std::string resolvedDeviceId(const std::string &id);

struct DeviceUse {
    int64_t usedBytes = -1, totalBytes = -1; // -1: not known
};
// What the device holds now (the whole GPU's use, every process; unknown for the CPU).
DeviceUse deviceUse(const std::string &id);

} // namespace fscope::core::model
