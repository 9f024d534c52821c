#include "core/model/compute_devices.h"

#include "core/model/decoder.h"
#include "core/model/model_cache.h"
#include "core/util/device_memory.h"

namespace fscope::core::model {

std::vector<ComputeDeviceInfo> listComputeDevices()
{
    std::vector<ComputeDeviceInfo> out;
    for (const std::string &id : computeDevices()) {
        const c10::Device device(id);
        ComputeDeviceInfo info { id, util::deviceName(device), -1 };
        if (const auto memory = util::deviceMemory(device))
            info.totalBytes = memory->totalBytes;
        out.push_back(std::move(info));
    }
    return out;
}

std::string resolvedDeviceId(const std::string &id)
{
    const auto device = resolveDevice(id);
    return device.ok() ? device->str() : std::string("cpu");
}

DeviceUse deviceUse(const std::string &id)
{
    DeviceUse use;
    if (const auto memory = util::deviceMemory(c10::Device(resolvedDeviceId(id)))) {
        use.totalBytes = memory->totalBytes;
        use.usedBytes = memory->totalBytes - memory->freeBytes;
    }
    return use;
}

} // namespace fscope::core::model
