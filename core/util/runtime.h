#pragma once
// Process-wide start-up of the compute runtime, called once from each main().

namespace fscope::core {

// Sets LibTorch's intra-op thread count from the hardware concurrency (LibTorch's default
// can leave cores idle under some launchers) and returns it.
int initComputeRuntime();

} // namespace fscope::core
