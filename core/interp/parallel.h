#pragma once
// Runs fn(0) .. fn(n-1) on up to `threads` threads (the calling thread among them) and returns
// when all are done. For backend requests, which wait on the network or on a batched
// generation, not for compute.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace fscope::core::interp {

inline void parallelFor(int64_t n, int threads, const std::function<void(int64_t)> &fn)
{
    std::atomic<int64_t> next { 0 };
    auto work = [&] {
        for (int64_t i = next++; i < n; i = next++)
            fn(i);
    };
    const int64_t helpers = std::min<int64_t>(std::max(threads, 1), n) - 1;
    std::vector<std::thread> pool;
    for (int64_t t = 0; t < helpers; ++t)
        pool.emplace_back(work);
    work();
    for (auto &t : pool)
        t.join();
}

} // namespace fscope::core::interp
