#include "core/util/out_of_memory.h"

#include "core/util/device_memory.h"

#include <cstdio>

namespace fscope::core::util {

namespace {
std::string gib(int64_t bytes)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.1f GiB", double(bytes) / double(int64_t(1) << 30));
    return text;
}
} // namespace

std::string outOfMemoryMessage(
    const std::string &what, const c10::Device &device, const std::string &advice)
{
    // Free first: the numbers then say what the device has once this job's blocks are gone.
    releaseCachedMemory(device);
    std::string where = device.is_cpu() ? std::string("the CPU") : device.str();
    const std::string name = device.is_cpu() ? std::string() : deviceName(device);
    std::string detail = name;
    if (const auto memory = deviceMemory(device))
        detail += (detail.empty() ? "" : ", ") + gib(memory->freeBytes) + " free of "
            + gib(memory->totalBytes);
    if (!detail.empty())
        where += " (" + detail + ")";
    std::string text = "Out of memory on " + where + " while " + what + ".";
    if (!advice.empty())
        text += " " + advice;
    return text;
}

} // namespace fscope::core::util
