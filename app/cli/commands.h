#pragma once
// The CLI's subcommands; main() only dispatches.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace fscope::cli {

using Args = std::vector<std::string>;

int runInspect(const Args &args);
int runBench(const Args &args);
int runRun(const Args &args);
int runTokenize(const Args &args);
int runGenerate(const Args &args);
int runSae(const Args &args);
int runIndex(const Args &args);
int runMerge(const Args &args);
int runFeature(const Args &args);
int runSteer(const Args &args);
int runSweep(const Args &args);
int runAblation(const Args &args);
int runMatch(const Args &args);
int runDecompose(const Args &args);
int runDemo(const Args &args);
int runCaa(const Args &args);
int runReport(const Args &args);
int runFetch(const Args &args);
int runExplain(const Args &args);
int runItda(const Args &args);

void printUsage();

// Prints "error: MESSAGE" on stderr and returns the CLI's failure status.
inline int fail(const std::string &message)
{
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return 1;
}

// Best wall-clock seconds of `repeats` runs of `fn` (benchmarks warm up by themselves).
inline double bestSeconds(int repeats, const std::function<void()> &fn)
{
    double best = 1e300;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        fn();
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

} // namespace fscope::cli
