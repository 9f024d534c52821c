#pragma once
// An out-of-memory is an answer, not a crash: a job that runs out of device (or host) memory
// returns an Error that names what did not fit, the device and its free memory, and what to
// change, after giving the caching allocator's blocks back so the next job starts clean.

#include "core/util/result.h"

#include <c10/core/Device.h>
#include <c10/util/Exception.h>

#include <new>
#include <string>

namespace fscope::core::util {

// "Out of memory on cuda:0 (NVIDIA H200, 1.2 GiB free of 139.8 GiB) while <what>. <advice>"
std::string outOfMemoryMessage(
    const std::string &what, const c10::Device &device, const std::string &advice);

// Runs `work` (returning a Result); an out-of-memory inside becomes that Result's Error.
template <class Work>
auto catchOutOfMemory(const std::string &what, const c10::Device &device, const std::string &advice,
    Work &&work) -> decltype(work())
{
    try {
        return work();
    } catch (const c10::OutOfMemoryError &) {
        return Error { outOfMemoryMessage(what, device, advice) };
    } catch (const std::bad_alloc &) {
        return Error { outOfMemoryMessage(what, c10::Device(c10::kCPU), advice) };
    }
}

} // namespace fscope::core::util
