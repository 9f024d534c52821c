#pragma once
// The CLI's subcommands; main() only dispatches.

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

void printUsage();

} // namespace fscope::cli
