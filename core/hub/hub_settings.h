#pragma once
// Where the Hugging Face Hub is and how to talk to it, read from the same environment the
// Python tools read (huggingface_hub constants): HF_ENDPOINT, HF_HOME / HF_HUB_CACHE, HF_TOKEN /
// HF_TOKEN_PATH, HF_HUB_OFFLINE. Also the names researchers type: `org/name[@rev]` for a
// repository and `hf://org/repo/path[@rev]` for a folder inside one.

#include "core/util/result.h"

#include <string>

namespace fscope::core::hub {

struct HubSettings {
    std::string endpoint = "https://huggingface.co"; // no trailing slash
    std::string cacheDir; // the hub cache: models--org--name/{blobs,refs,snapshots}
    std::string token; // empty: anonymous. Never logged, never written anywhere.
    bool offline = false; // no HTTP at all: the cache or an error
};

// From the environment (truthy: 1/ON/YES/TRUE, as huggingface_hub).
HubSettings settingsFromEnvironment();

// "org/name", "org/name@rev" (a branch, tag or commit); the name part of "hf://org/repo/path@rev".
struct RepoRef {
    std::string repo; // "org/name"
    std::string revision = "main";
    std::string path; // a folder or file inside the repository (hf:// names)
};

// True for text that names a repository rather than a local path: "org/name" (exactly one
// slash, no leading ./ or /, not an existing path) or "hf://...".
bool looksLikeRepoName(const std::string &text);
Result<RepoRef> parseRepoRef(const std::string &text);

// models--org--name, the repository's folder in the cache.
std::string repoFolderName(const std::string &repo);

} // namespace fscope::core::hub
