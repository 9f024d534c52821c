#pragma once
// Analysis results (steering runs, sweeps, decompositions, matches) cached in the workspace as
// JSON under a key built from their full parameter set: an identical request is answered from
// here without running the model.

#include "core/store/database.h"

#include <optional>
#include <string>

namespace fscope::core::store {

Result<std::optional<std::string>> cachedResult(store::Database &db, const std::string &key);
Status storeResult(
    store::Database &db, const std::string &key, const std::string &kind, const std::string &json);

} // namespace fscope::core::store
