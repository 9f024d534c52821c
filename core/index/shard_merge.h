#pragma once
// Offline shards: `index --shard R/W --out part-R.fsdb` on machines that share nothing, then one
// merge into a new workspace. The parts must be every shard of one request, each complete; the
// merged workspace equals the single-process one table by table (shard 0's part, which holds
// the model, SAE and corpus records and the logit effects, is its base).

#include "core/util/result.h"

#include <string>
#include <vector>

namespace fscope::core::index {

struct ShardMergeOutcome {
    int64_t indexes = 0; // indexes written
    int64_t shards = 0; // parts merged
    double seconds = 0;
};

// Writes `out` (which must not exist) from `parts`; a partial output is never visible under
// `out`. Refuses, naming the part: a part of another request or split, a duplicate or missing
// shard, an incomplete shard, a file that holds no shard.
Result<ShardMergeOutcome> mergeShardParts(
    const std::vector<std::string> &parts, const std::string &out);

} // namespace fscope::core::index
