// featurescope-cli: the headless front end (GPU servers, scripts, benchmarks).

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "core/model/model_cache.h"
#include "core/util/runtime.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>

int main(int argc, char **argv)
{
    fscope::core::ensureBlasKernels(argv);
    using namespace fscope::cli;
    Args args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        printUsage();
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version" || args[0] == "-V") {
        std::printf("featurescope-cli %s\n", FEATURESCOPE_VERSION);
        const std::string blas = fscope::core::blasKernels();
        // The devices LibTorch sees: what --device and the workbench's device choice offer.
        std::string devices;
        for (const std::string &d : fscope::core::model::computeDevices())
            devices += (devices.empty() ? "" : ", ") + d;
        std::printf("compute: %d threads, %s; devices: %s\n", fscope::core::initComputeRuntime(),
            blas.empty() ? "BLAS other than OpenBLAS" : (blas + " kernels").c_str(),
            devices.c_str());
        return 0;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    // The demo's and the Hub's names become paths here, once; every command and loader sees
    // real paths (or names of models already in the Hugging Face cache).
    if (auto resolved = resolveNames(args); !resolved)
        return fail(resolved.errorMessage());
    else
        args = std::move(resolved).value();
    fscope::core::initComputeRuntime();
    try {
        if (command == "inspect")
            return runInspect(args);
        if (command == "bench")
            return runBench(args);
        if (command == "run")
            return runRun(args);
        if (command == "tokenize")
            return runTokenize(args);
        if (command == "generate")
            return runGenerate(args);
        if (command == "sae")
            return runSae(args);
        if (command == "index")
            return runIndex(args);
        if (command == "merge")
            return runMerge(args);
        if (command == "feature")
            return runFeature(args);
        if (command == "steer")
            return runSteer(args);
        if (command == "sweep")
            return runSweep(args);
        if (command == "ablation")
            return runAblation(args);
        if (command == "match")
            return runMatch(args);
        if (command == "decompose")
            return runDecompose(args);
        if (command == "caa")
            return runCaa(args);
        if (command == "report")
            return runReport(args);
        if (command == "fetch")
            return runFetch(args);
        if (command == "explain")
            return runExplain(args);
        if (command == "itda")
            return runItda(args);
        if (command == "demo")
            return runDemo(args);
    } catch (const std::invalid_argument &) {
        std::fprintf(stderr, "featurescope-cli: an option expects a number\n");
        return 2;
    } catch (const std::out_of_range &) {
        std::fprintf(stderr, "featurescope-cli: a number is out of range\n");
        return 2;
    }
    std::fprintf(stderr, "featurescope-cli: unknown command '%s' (see --help)\n", command.c_str());
    return 2;
}
