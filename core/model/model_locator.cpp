#include "core/model/model_locator.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace fscope::core::model {

namespace {

std::string env(const char *name)
{
    const char *v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// The snapshot refs/main points at, else the newest snapshot with a config.json.
std::string pickSnapshot(const fs::path &repo)
{
    std::error_code ec;
    std::ifstream ref(repo / "refs" / "main");
    std::string revision;
    if (ref && std::getline(ref, revision)
        && fs::exists(repo / "snapshots" / revision / "config.json", ec))
        return (repo / "snapshots" / revision).string();
    fs::path newest;
    fs::file_time_type newestTime {};
    for (const auto &entry : fs::directory_iterator(repo / "snapshots", ec)) {
        if (!fs::exists(entry.path() / "config.json", ec))
            continue;
        const auto t = fs::last_write_time(entry.path(), ec);
        if (newest.empty() || t > newestTime) {
            newest = entry.path();
            newestTime = t;
        }
    }
    return newest.string();
}

} // namespace

std::string huggingFaceHubCache()
{
    if (const std::string hub = env("HF_HUB_CACHE"); !hub.empty())
        return hub;
    if (const std::string hub = env("HUGGINGFACE_HUB_CACHE"); !hub.empty())
        return hub;
    if (const std::string home = env("HF_HOME"); !home.empty())
        return home + "/hub";
    const std::string xdg = env("XDG_CACHE_HOME");
    return (xdg.empty() ? env("HOME") + "/.cache" : xdg) + "/huggingface/hub";
}

std::vector<CachedModel> listCachedModels(const std::string &hubCache)
{
    std::vector<CachedModel> models;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(hubCache, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("models--", 0) != 0)
            continue;
        const std::string snapshot = pickSnapshot(entry.path());
        if (snapshot.empty())
            continue;
        // models--ORG--NAME -> ORG/NAME ("--" never occurs inside hub names).
        std::string id = name.substr(8);
        if (const size_t sep = id.find("--"); sep != std::string::npos)
            id.replace(sep, 2, "/");
        models.push_back({ id, snapshot });
    }
    std::sort(models.begin(), models.end(),
        [](const auto &a, const auto &b) { return a.repoId < b.repoId; });
    return models;
}

Result<std::string> resolveModelPath(const std::string &spec, const std::string &hubCache)
{
    std::error_code ec;
    if (fs::is_directory(spec, ec)) {
        if (!fs::exists(fs::path(spec) / "config.json", ec))
            return fileError(spec, "not a Hugging Face model directory (no config.json)");
        return spec;
    }
    std::string folder = "models--" + spec;
    if (const size_t slash = folder.find('/'); slash != std::string::npos)
        folder.replace(slash, 1, "--");
    const fs::path repo = fs::path(hubCache) / folder;
    if (fs::is_directory(repo, ec)) {
        const std::string snapshot = pickSnapshot(repo);
        if (!snapshot.empty())
            return snapshot;
        return fileError(repo.string(), "no snapshot with a config.json (incomplete download?)");
    }
    return Error { "model '" + spec + "' is neither a directory nor in the Hugging Face cache at "
        + hubCache
        + " (Featurescope never downloads; fetch it with huggingface-cli or set HF_HOME)" };
}

} // namespace fscope::core::model
