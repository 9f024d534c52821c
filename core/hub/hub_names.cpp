#include "core/hub/hub_names.h"

#include "core/model/model_locator.h"

namespace fscope::core::hub {
namespace {

Result<std::string> fetched(
    const std::string &name, jobs::Progress *progress, const HubSettings &settings)
{
    RepoRef ref;
    FS_TRY(ref, parseRepoRef(name));
    Snapshot snapshot;
    FS_TRY(snapshot, HubClient(settings).fetch(ref, progress));
    return snapshot.path;
}

} // namespace

Result<std::string> resolveModelName(
    const std::string &name, jobs::Progress *progress, const HubSettings &settings)
{
    if (!looksLikeRepoName(name))
        return name;
    if (name.find('@') == std::string::npos && name.rfind("hf://", 0) != 0
        && model::resolveModelPath(name, settings.cacheDir).ok())
        return name; // in the cache already: no network
    return fetched(name, progress, settings);
}

Result<std::string> resolveSaeName(
    const std::string &name, jobs::Progress *progress, const HubSettings &settings)
{
    if (name.rfind("hf://", 0) != 0)
        return name;
    return fetched(name, progress, settings);
}

} // namespace fscope::core::hub
