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

// Where each feature of a dictionary that writes several hooks (a CLT layer: one decoder block
// per later layer) writes: `norms` [features, blocks] of ||W_dec_block[feature]||, `hooks` in
// block order. Replaces what was stored for this SAE.
Status writeDecoderWrites(
    Database &db, int64_t saeId, const std::vector<std::string> &hooks, const at::Tensor &norms);

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
// Records where an index was computed ("cuda:0 bf16"; a merged index keeps shard 0's).
Status setIndexDevice(Database &db, int64_t indexId, const std::string &device);

// Shards (index_shards): one process's contiguous part of an index's batches.
struct ShardRecord {
    int64_t indexId = 0;
    std::string requestKey; // the key of the whole index
    int64_t shard = 0, shards = 1;
    int64_t batches = 0; // batches of the whole index
    bool complete = false;
};
// The shard's record (created when new; the record's own key is requestKey + the shard).
Result<ShardRecord> openShardRecord(Database &db, const std::string &requestKey, int64_t modelId,
    int64_t saeId, int64_t corpusId, const std::string &paramsJson, int64_t shard, int64_t shards,
    int64_t batches);
// Stores the shard's final state and marks it complete, in one transaction.
Status completeShard(Database &db, const IndexCheckpoint &finalState);
Result<std::vector<ShardRecord>> listShards(Database &db);
// Whether the index with this key exists and is done.
Result<bool> indexDone(Database &db, const std::string &key);
// The parameters (params_json) an index was computed with.
Result<std::string> indexParamsJson(Database &db, int64_t indexId);
// Writes a compact copy of the whole workspace to `path` (VACUUM INTO), which must not exist.
Status copyWorkspace(Database &db, const std::string &path);
// Turns a shard's record into the whole index's (the request key, no shard row, no checkpoint)
// holding the merged state's results, in one transaction.
Status finishShardedIndex(
    Database &db, const ShardRecord &shard, const index::AccumulatorState &merged);

} // namespace fscope::core::store
