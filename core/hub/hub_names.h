#pragma once
// The Hub's names as local folders, for the entry points (the CLI's argument resolver, the
// workbench's index job): `org/name[@rev]` for a model, `hf://org/repo/path[@rev]` for an SAE.
// A model already in the cache under its plain name is used without the network; anything
// else is fetched into the cache first. Other text (paths) comes back unchanged.

#include "core/hub/hub_client.h"

#include <string>

namespace fscope::core::hub {

Result<std::string> resolveModelName(const std::string &name, jobs::Progress *progress = nullptr,
    const HubSettings &settings = settingsFromEnvironment());
// SAEs are named hf://org/repo/path: a bare org/name could be a mistyped local folder.
Result<std::string> resolveSaeName(const std::string &name, jobs::Progress *progress = nullptr,
    const HubSettings &settings = settingsFromEnvironment());

} // namespace fscope::core::hub
