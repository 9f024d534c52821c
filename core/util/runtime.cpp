#include "core/util/runtime.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <thread>

namespace fscope::core {

int initComputeRuntime()
{
    const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(threads);
    return threads;
}

} // namespace fscope::core
