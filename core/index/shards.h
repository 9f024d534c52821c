#pragma once
// Sharded indexing: one index request split into contiguous parts of its batches, computed by
// separate processes (torchrun ranks, SLURM tasks, or machines that share nothing) and merged
// exactly (AccumulatorState::merge). Every shard runs the same request over the same corpus; the
// batch boundaries are those of the single-process run, so each batch's activations, and with
// the order-free accumulators the merged index, are the single-process ones.

#include "core/util/result.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fscope::core::index {

struct ShardSpec {
    int64_t rank = 0, count = 1;
    bool sharded() const { return count > 1; }
};

// "R/W" with 0 <= R < W.
Result<ShardSpec> parseShard(const std::string &text);
// The batches [first, end) of shard `spec` out of `batches`: contiguous, sizes differing by at
// most one, in rank order.
std::pair<int64_t, int64_t> shardBatches(int64_t batches, const ShardSpec &spec);

// The ranks of one distributed run as the indexer sees them. Every rank calls the methods in the
// same order; an implementation fails (never hangs) when a rank is lost.
class ShardExchange {
public:
    virtual ~ShardExchange() = default;
    virtual int64_t rank() const = 0;
    virtual int64_t size() const = 0;
    // Rank 0's bytes, on every rank.
    virtual Result<std::string> broadcastFromRoot(const std::string &bytes) = 0;
    // On rank 0: every rank's bytes, in rank order. On the others: empty.
    virtual Result<std::vector<std::string>> gatherToRoot(const std::string &bytes) = 0;
};

} // namespace fscope::core::index
