#include "core/util/fault_points.h"

#include <c10/util/Exception.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>

namespace fscope::core::util {

namespace {

struct Armed {
    std::mutex mutex;
    std::map<std::string, int> remaining;
    std::atomic<bool> any { false };
};

Armed &armed()
{
    static Armed *a = [] {
        auto *state = new Armed; // never destroyed: points may be reached during exit
        if (const char *env = std::getenv("FEATURESCOPE_FAULTS")) {
            std::stringstream list(env);
            std::string item;
            while (std::getline(list, item, ',')) {
                const auto colon = item.find(':');
                if (colon != std::string::npos && item.substr(colon + 1) == "oom")
                    state->remaining[item.substr(0, colon)] = 1 << 30;
            }
            state->any = !state->remaining.empty();
        }
        return state;
    }();
    return *a;
}

} // namespace

void armFault(const std::string &point, int times)
{
    Armed &a = armed();
    std::lock_guard lock(a.mutex);
    a.remaining[point] = times;
    a.any = true;
}

void disarmFaults()
{
    Armed &a = armed();
    std::lock_guard lock(a.mutex);
    a.remaining.clear();
    a.any = false;
}

void faultPoint(const char *point)
{
    Armed &a = armed();
    if (!a.any.load(std::memory_order_relaxed))
        return;
    {
        std::lock_guard lock(a.mutex);
        const auto it = a.remaining.find(point);
        if (it == a.remaining.end() || it->second <= 0)
            return;
        --it->second;
    }
    TORCH_CHECK_WITH(OutOfMemoryError, false, "CUDA out of memory (injected at '", point,
        "'). Tried to allocate 2.00 GiB");
}

} // namespace fscope::core::util
