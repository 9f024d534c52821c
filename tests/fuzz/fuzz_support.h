#pragma once
// What the fuzz targets share: a private scratch folder for loaders that read files, and a
// check that aborts (so libFuzzer keeps the input) when a parser accepts something that breaks
// the promise its header makes.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace fscope::fuzz {

// A folder of this process (RAM-backed where /dev/shm exists), created once.
inline const std::filesystem::path &scratch()
{
    static const std::filesystem::path dir = [] {
        const std::filesystem::path base = std::filesystem::exists("/dev/shm")
            ? "/dev/shm"
            : std::filesystem::temp_directory_path();
        auto d = base / ("featurescope-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

inline std::string writeFile(const std::string &name, std::string_view bytes)
{
    const auto path = scratch() / name;
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path.string();
}

#define FUZZ_EXPECT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "broken promise: %s (%s:%d)\n", #cond, __FILE__, __LINE__);       \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

} // namespace fscope::fuzz
