#include "app/cli/commands.h"

#include "core/io/dtype.h"
#include "core/io/inspect.h"

#include <algorithm>
#include <cstdio>

namespace fscope::cli {

namespace {

std::string humanBytes(uint64_t b)
{
    const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

} // namespace

int runInspect(const Args &args)
{
    if (args.size() != 1) {
        std::fprintf(stderr, "usage: featurescope-cli inspect FILE|DIR\n");
        return 2;
    }
    auto report = core::io::inspectFile(args[0]);
    if (!report) {
        std::fprintf(stderr, "error: %s\n", report.errorMessage().c_str());
        return 1;
    }
    std::vector<std::vector<std::string>> rows = { { "name", "dtype", "shape", "bytes" } };
    const bool sharded = report->format == "sharded safetensors";
    if (sharded)
        rows[0].push_back("file");
    for (const auto &t : report->tensors) {
        rows.push_back(
            { t.name, t.dtype, core::io::formatShape(t.shape), std::to_string(t.bytes) });
        if (sharded)
            rows.back().push_back(t.file);
    }
    std::vector<size_t> width(rows[0].size(), 0);
    for (const auto &r : rows)
        for (size_t i = 0; i < r.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    for (const auto &r : rows) {
        for (size_t i = 0; i < r.size(); ++i) {
            const bool number = i == 3;
            std::printf(number ? "%*s" : "%-*s", static_cast<int>(width[i]), r[i].c_str());
            std::printf(i + 1 < r.size() ? "  " : "\n");
        }
    }
    std::printf("\n%s: %zu tensors, %s (%s)\n", report->format.c_str(), report->tensors.size(),
        humanBytes(report->totalBytes()).c_str(), std::to_string(report->totalBytes()).c_str());
    for (const auto &[k, v] : report->metadata)
        std::printf("metadata %s = %s\n", k.c_str(), v.c_str());
    return 0;
}

} // namespace fscope::cli
