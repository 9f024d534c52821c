#pragma once
// Finds a model the way Hugging Face tools do: a directory path as given, or a hub id
// ("gpt2", "google/gemma-2-2b") looked up in the local hub cache
// (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub;
// models--ORG--NAME/snapshots/REV, REV from refs/main when present). Never downloads.

#include "core/util/result.h"

#include <string>
#include <vector>

namespace fscope::core::model {

struct CachedModel {
    std::string repoId; // "google/gemma-2-2b"
    std::string snapshot; // directory holding config.json
};

std::string huggingFaceHubCache();
std::vector<CachedModel> listCachedModels(const std::string &hubCache = huggingFaceHubCache());
Result<std::string> resolveModelPath(
    const std::string &spec, const std::string &hubCache = huggingFaceHubCache());

} // namespace fscope::core::model
