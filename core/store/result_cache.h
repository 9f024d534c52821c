#pragma once
// Analysis results (steering runs, sweeps, decompositions, matches) cached in the workspace as
// JSON under a key built from their full parameter set: an identical request is answered from
// here without running the model.

#include "core/store/database.h"

#include <optional>
#include <string>
#include <vector>

namespace fscope::core::store {

Result<std::optional<std::string>> cachedResult(store::Database &db, const std::string &key);
// `device` names where the result was computed ("cuda:0 bf16"); the key never includes it, so
// a result computed on one device answers the same request on another.
Status storeResult(store::Database &db, const std::string &key, const std::string &kind,
    const std::string &json, const std::string &device = {});

struct CachedResultInfo {
    std::string key, kind, device, createdAt;
};
// Every cached result, oldest first (without its JSON).
Result<std::vector<CachedResultInfo>> listCachedResults(store::Database &db);

} // namespace fscope::core::store
