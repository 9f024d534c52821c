#pragma once
// "SAE release" shortcuts: the dictionaries a Hub repository holds, read from its own file
// listing (no copied registry), so a researcher picks a site, layer, width and L0 instead of
// typing a path. The layouts of the releases researchers name:
//   Gemma Scope     layer_{L}/width_{W}/average_l0_{N}/params.npz
//   Gemma Scope 2   {site}/layer_{L}_width_{W}_l0_{small|medium|big}[_affine]/params.safetensors
//                   (+ config.json); clt/…/params_layer_{i}.safetensors
//   SAELens         {hook name, e.g. blocks.8.hook_resid_pre}/cfg.json + sae_weights.safetensors
//   sparsify        layers.{L}[.mlp]/cfg.json + sae.safetensors
//   circuit-tracer  layer_{i}.safetensors beside config.yaml (one transcoder per layer)
// Each entry is one folder (or file) that the SAE loaders open, named as hf://repo/path[@rev].

#include "core/hub/hub_client.h"

#include <string>
#include <vector>

namespace fscope::core::hub {

struct ReleaseEntry {
    std::string path; // inside the repository: the folder (or file) an SAE loader opens
    std::string site; // "resid_post", "hook_resid_pre", "mlp", ... ("" when the path has none)
    int layer = -1; // -1: no layer in the path
    std::string width; // "16k", "65k", ... as the release names it ("" when unnamed)
    std::string l0; // "82", "medium", ... ("" when unnamed)
    std::string variant; // "affine" (Gemma Scope 2 transcoders with a skip), else ""
};

struct SaeRelease {
    std::string repo, revision, commit;
    std::vector<ReleaseEntry> entries; // sorted by site, layer, width, L0
    bool fromCache = false; // offline: only the folders already downloaded
};

// The entries of a listing (pure: no network). Folders holding no dictionary are left out.
SaeRelease releaseFromListing(const RepoListing &listing);
// Lists the repository (the cache when offline) and reads its entries; a repository with none
// is an error that says what was found.
Result<SaeRelease> listRelease(
    const std::string &repoAndRevision, const HubSettings &settings = settingsFromEnvironment());

// hf://repo/path[@rev] (the revision only when it is not main).
std::string releaseEntryName(const SaeRelease &release, const ReleaseEntry &entry);

// The entries matching every given field (empty/-1: any).
std::vector<ReleaseEntry> filterRelease(const SaeRelease &release, const std::string &site,
    int layer, const std::string &width, const std::string &l0);

} // namespace fscope::core::hub
