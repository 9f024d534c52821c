#include "app/cli/commands.h"

#include "core/io/npz_tensor.h"
#include "core/io/torch_tensor.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>
#include <vector>

namespace fscope::cli {

namespace {

double readWholeFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::vector<char> buffer(std::filesystem::file_size(path));
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    double sum = 0;
    for (size_t i = 0; i < buffer.size(); i += 4096)
        sum += buffer[i];
    return sum;
}

} // namespace

int benchForward(const Args &args);
int benchIo(const Args &args);
int benchSae(const Args &args);
int benchIndex(const Args &args);
int benchMatch(const Args &args);
int benchInspect(const Args &args);
int benchItda(const Args &args);

int runBench(const Args &args)
{
    if (!args.empty() && args[0] == "forward")
        return benchForward(Args(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "sae")
        return benchSae(Args(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "index")
        return benchIndex(Args(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "match")
        return benchMatch(Args(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "inspect")
        return benchInspect(Args(args.begin() + 1, args.end()));
    if (!args.empty() && args[0] == "itda")
        return benchItda(Args(args.begin() + 1, args.end()));
    if (args.empty() || args[0] != "io") {
        std::fprintf(
            stderr, "usage: featurescope-cli bench io|forward|sae|index|match|inspect|itda ...\n");
        return 2;
    }
    return benchIo(args);
}

// bench io: reading tensors from our containers against a plain read of the same file
// (baseline = 1.0), all in this process, so the ratios hold across machines.
int benchIo(const Args &args)
{
    int mb = 256;
    for (size_t i = 1; i + 1 < args.size(); ++i)
        if (args[i] == "--mb")
            mb = std::max(1, std::stoi(args[i + 1]));

    namespace fs = std::filesystem;
    const fs::path dir
        = fs::temp_directory_path() / ("featurescope-bench-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string st = (dir / "bench.safetensors").string();
    const std::string npz = (dir / "bench.npz").string();
    const at::Tensor data = at::randn({ static_cast<int64_t>(mb) * 256 * 1024 / 4096, 4096 });
    if (!core::io::writeSafetensors(st, { { "w", data } })
        || !core::io::writeNpz(npz, { { "w", data } }, false)) {
        std::fprintf(stderr, "error: cannot write benchmark files in %s\n", dir.c_str());
        return 1;
    }
    const int repeats = 5;
    volatile double sink = 0;
    const double baseline = bestSeconds(repeats, [&] { sink = sink + readWholeFile(st); });
    const double openOnly
        = bestSeconds(repeats, [&] { sink = sink + core::io::Checkpoint::open(st).ok(); });
    const double stFull = bestSeconds(repeats, [&] {
        auto c = core::io::Checkpoint::open(st);
        sink = sink + core::io::loadTensor(*c, "w")->sum().item<double>();
    });
    const double npzFull = bestSeconds(repeats,
        [&] { sink = sink + core::io::loadNpz(npz).value()[0].second.sum().item<double>(); });
    std::printf("bench io: %d MiB float32, best of %d\n", mb, repeats);
    std::printf("  %-40s %9.4f s  1.00x\n", "baseline: read file into memory", baseline);
    std::printf("  %-40s %9.4f s  %.4fx\n", "safetensors open (header only)", openOnly,
        openOnly / baseline);
    std::printf("  %-40s %9.4f s  %.2fx\n", "safetensors open + mmap tensor + sum", stFull,
        stFull / baseline);
    std::printf("  %-40s %9.4f s  %.2fx\n", "npz (stored) load + sum", npzFull, npzFull / baseline);
    fs::remove_all(dir);
    return 0;
}

} // namespace fscope::cli
