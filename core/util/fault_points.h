#pragma once
// Named points where a test (or FEATURESCOPE_FAULTS in the environment) makes a job fail as
// though the machine did: "oom" throws LibTorch's c10::OutOfMemoryError, exactly what a CUDA
// allocation that does not fit throws, so the real recovery path runs on any machine.
// Unarmed, a point costs one relaxed atomic load.

#include <string>

namespace fscope::core::util {

// Arms `point` (e.g. "inspect", "steer") to fail the next `times` times it is reached.
// FEATURESCOPE_FAULTS="inspect:oom,steer:oom" arms points for a whole process.
void armFault(const std::string &point, int times = 1);
void disarmFaults();
// Throws c10::OutOfMemoryError when `point` is armed.
void faultPoint(const char *point);

} // namespace fscope::core::util
