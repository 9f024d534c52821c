#include "core/demo/demo_paths.h"

#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace fscope::core::demo {

namespace fs = std::filesystem;

namespace {

fs::path executableDir()
{
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe.parent_path();
}

std::vector<fs::path> candidates()
{
    std::vector<fs::path> c;
    if (const char *env = std::getenv("FEATURESCOPE_DEMO_DIR"); env && *env)
        c.emplace_back(env);
    if (const fs::path exe = executableDir(); !exe.empty())
        c.push_back(exe.parent_path() / "share" / "featurescope" / "demo");
#ifdef FEATURESCOPE_SOURCE_DIR
    c.push_back(fs::path(FEATURESCOPE_SOURCE_DIR) / "resources" / "demo");
#endif
    return c;
}

} // namespace

Result<DemoAssets> locateDemo()
{
    std::string tried;
    for (const fs::path &dir : candidates()) {
        std::error_code ec;
        const fs::path manifest = dir / "demo.json";
        if (!fs::is_regular_file(manifest, ec)) {
            tried += (tried.empty() ? "" : ", ") + dir.string();
            continue;
        }
        auto doc = readJsonFile(manifest.string());
        if (!doc)
            return doc.error();
        const nlohmann::json &j = *doc;
        DemoAssets a;
        a.root = dir.string();
        a.manifest = manifest.string();
        try {
            a.model = (dir / j.at("model").get<std::string>()).string();
            a.corpus = (dir / j.at("corpus").get<std::string>()).string();
            a.contextLength = j.value("context_length", 128);
            for (const auto &s : j.at("saes"))
                a.saes.push_back({ s.at("name").get<std::string>(),
                    (dir / "saes" / s.at("name").get<std::string>()).string(),
                    s.at("hook").get<std::string>(), s.at("layer").get<int>() });
            for (const auto &l : j.value("labels", nlohmann::json::array()))
                a.labels.push_back({ l.at("sae").get<std::string>(), l.at("feature").get<int64_t>(),
                    l.at("label").get<std::string>() });
            if (j.contains("vector"))
                a.vector = (dir / j.at("vector").get<std::string>()).string();
            a.steeringPrompt = j.value("steering_prompt", std::string());
        } catch (const nlohmann::json::exception &e) {
            return fileError(manifest.string(), std::string("not a demo manifest: ") + e.what());
        }
        if (a.saes.empty())
            return fileError(manifest.string(), "lists no SAEs");
        return a;
    }
    return Error { "the demo assets were not found (looked in " + tried
        + "); set FEATURESCOPE_DEMO_DIR to the resources/demo folder" };
}

std::string demoWorkspacePath()
{
    fs::path base;
    if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
        base = x;
    else if (const char *h = std::getenv("HOME"); h && *h)
        base = fs::path(h) / ".cache";
    else
        base = fs::temp_directory_path();
    return (base / "featurescope" / "demo.fsdb").string();
}

bool isDemoName(const std::string &spec)
{
    return spec == "demo" || spec.rfind("demo:", 0) == 0;
}

Result<std::string> resolveDemoSae(const std::string &spec)
{
    auto a = locateDemo();
    if (!a)
        return a.error();
    if (spec == "demo")
        return a->saes.front().path;
    const std::string key = spec.substr(5);
    for (const auto &s : a->saes)
        if (s.name == key || std::to_string(s.layer) == key)
            return s.path;
    std::string names;
    for (const auto &s : a->saes)
        names += " demo:" + s.name;
    return Error { "'" + spec + "' names no demo SAE (demo:LAYER or one of" + names + ")" };
}

Result<std::string> resolveDemoName(NameKind kind, const std::string &spec)
{
    std::error_code ec;
    if (!isDemoName(spec) || std::filesystem::exists(spec, ec))
        return spec;
    if (kind == NameKind::Sae)
        return resolveDemoSae(spec);
    if (spec != "demo")
        return spec;
    DemoAssets assets;
    FS_TRY(assets, locateDemo());
    return kind == NameKind::Model ? assets.model : assets.corpus;
}

} // namespace fscope::core::demo
