#include "core/util/out_of_memory.h"

#include "core/util/device_memory.h"

namespace fscope::core::util {

std::string outOfMemoryMessage(
    const std::string &what, const c10::Device &device, const std::string &advice)
{
    // Free first: the numbers then say what the device has once this job's blocks are gone.
    releaseCachedMemory(device);
    std::string where = device.is_cpu() ? std::string("the CPU") : device.str();
    const std::string name = device.is_cpu() ? std::string() : deviceName(device);
    std::string detail = name;
    if (const auto memory = deviceMemory(device))
        detail += (detail.empty() ? "" : ", ") + formatBytes(memory->freeBytes) + " free of "
            + formatBytes(memory->totalBytes);
    if (!detail.empty())
        where += " (" + detail + ")";
    std::string text = "Out of memory on " + where + " while " + what + ".";
    if (!advice.empty())
        text += " " + advice;
    return text;
}

} // namespace fscope::core::util
