#pragma once
// What the indexer writes: index records, resumable checkpoints, logit effects and the
// finished statistics and examples of each feature. Typed writes; the SQL stays here.

#include "core/analysis/logit_effects.h"
#include "core/index/accumulator_state.h"
#include "core/store/database.h"

#include <optional>
#include <string>
#include <vector>

namespace fscope::core::store {

// Whether the logit effects of this model and SAE are stored (they depend on nothing else).
Result<bool> hasLogitEffects(Database &db, int64_t modelId, int64_t saeId);
Status writeLogitEffects(Database &db, int64_t modelId, int64_t saeId,
    const analysis::LogitEffects &raw, const analysis::LogitEffects &folded);

struct IndexRecord {
    int64_t id = 0;
    bool done = false;
};
// The index with this key, created as 'running' when new.
Result<IndexRecord> openIndexRecord(Database &db, const std::string &key, int64_t modelId,
    int64_t saeId, int64_t corpusId, const std::string &paramsJson);

struct IndexCheckpoint {
    int64_t indexId = 0;
    int64_t nextBatch = 0;
    std::string state; // AccumulatorState::serialize()
};
// Saves the checkpoints in one transaction (a crash leaves all or none).
Status saveIndexCheckpoints(Database &db, const std::vector<IndexCheckpoint> &checkpoints);
Result<std::optional<IndexCheckpoint>> loadIndexCheckpoint(Database &db, int64_t indexId);

// Writes every feature's statistics, histogram, quantile bands and examples, marks the index
// done with its token count and drops its checkpoint, in one transaction.
Status writeIndexResults(Database &db, int64_t indexId, const index::AccumulatorState &accumulator);

} // namespace fscope::core::store
