#pragma once
// Named lists of features (bookmarks are the list "Bookmarks"), per workspace. An item names
// an SAE and a feature, so one list can gather features of several SAEs.

#include "core/store/database.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fscope::core::store {

struct FeatureList {
    int64_t id = 0;
    std::string name;
    int64_t items = 0;
};

Result<std::vector<FeatureList>> featureLists(store::Database &db);
// Creates the list (or returns the existing one of that name).
Result<int64_t> createFeatureList(store::Database &db, const std::string &name);
Status addToFeatureList(store::Database &db, int64_t listId, int64_t saeId, int64_t feature);
Status removeFromFeatureList(store::Database &db, int64_t listId, int64_t saeId, int64_t feature);
// Features of `saeId` in the list, in the order they were added.
Result<std::vector<int64_t>> featureListItems(store::Database &db, int64_t listId, int64_t saeId);
// Ids of the lists holding (saeId, feature).
Result<std::vector<int64_t>> listsContaining(store::Database &db, int64_t saeId, int64_t feature);

} // namespace fscope::core::store
