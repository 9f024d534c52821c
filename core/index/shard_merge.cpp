#include "core/index/shard_merge.h"

#include "core/index/accumulator_state.h"
#include "core/store/database.h"
#include "core/store/index_writes.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

namespace fscope::core::index {

namespace {

namespace fs = std::filesystem;

struct Part {
    std::string path;
    std::unique_ptr<store::Database> db;
    std::map<std::string, store::ShardRecord> byRequest;
    int64_t shard = 0, shards = 1;
};

// What the state blob does not record, from the index's parameters (indexer.cpp indexParams).
Result<AccumulatorOptions> summaryOptions(store::Database &db, int64_t indexId)
{
    std::string json;
    FS_TRY(json, store::indexParamsJson(db, indexId));
    const auto params = nlohmann::json::parse(json, nullptr, false);
    if (!params.is_object())
        return fileError(
            db.path(), "index " + std::to_string(indexId) + " has unreadable parameters");
    AccumulatorOptions o;
    o.quantileBands = params.value("quantile_bands", o.quantileBands);
    o.perBand = params.value("per_band", o.perBand);
    o.useMagnitude = params.value("magnitude", false);
    return o;
}

Result<AccumulatorState> shardState(Part &part, const store::ShardRecord &record)
{
    std::optional<store::IndexCheckpoint> checkpoint;
    FS_TRY(checkpoint, store::loadIndexCheckpoint(*part.db, record.indexId));
    if (!checkpoint)
        return fileError(part.path, "shard " + std::to_string(part.shard) + " has no stored state");
    AccumulatorOptions options;
    FS_TRY(options, summaryOptions(*part.db, record.indexId));
    auto state = AccumulatorState::deserialize(checkpoint->state, options);
    if (!state)
        return fileError(part.path, state.errorMessage());
    return state;
}

std::string shardName(int64_t shard, int64_t shards)
{
    return "shard " + std::to_string(shard) + " of " + std::to_string(shards);
}

} // namespace

Result<ShardMergeOutcome> mergeShardParts(
    const std::vector<std::string> &paths, const std::string &out)
{
    const auto started = std::chrono::steady_clock::now();
    if (paths.empty())
        return Error { "merge needs the parts written by index --shard R/W" };
    std::error_code ec;
    if (fs::exists(out, ec))
        return fileError(out,
            "exists already: merge writes a new workspace (remove it or choose another --out)");

    std::vector<Part> parts;
    for (const auto &path : paths) {
        Part part;
        part.path = path;
        if (!fs::is_regular_file(path, ec))
            return fileError(path, "no such file");
        FS_TRY(part.db, store::Database::open(path));
        std::vector<store::ShardRecord> records;
        FS_TRY(records, store::listShards(*part.db));
        if (records.empty())
            return fileError(
                path, "holds no shard of an index (is it a part written by index --shard R/W?)");
        part.shard = records.front().shard;
        part.shards = records.front().shards;
        for (const auto &r : records) {
            if (r.shard != part.shard || r.shards != part.shards)
                return fileError(path,
                    "holds shards of different splits (" + shardName(part.shard, part.shards)
                        + " and " + shardName(r.shard, r.shards) + ")");
            part.byRequest[r.requestKey] = r;
        }
        parts.push_back(std::move(part));
    }

    // One request, every shard once, each complete.
    const Part &reference = parts.front();
    const int64_t W = reference.shards;
    std::map<int64_t, Part *> byShard; // the parts are read again below (their databases)
    for (Part &p : parts) {
        if (p.shards != W)
            return fileError(p.path,
                "is " + shardName(p.shard, p.shards) + " but " + reference.path + " is "
                    + shardName(reference.shard, W) + ": the parts come from different splits");
        std::set<std::string> mine, theirs;
        for (const auto &[key, r] : p.byRequest)
            mine.insert(key);
        for (const auto &[key, r] : reference.byRequest)
            theirs.insert(key);
        if (mine != theirs)
            return fileError(p.path,
                "belongs to another request than " + reference.path
                    + " (its model, SAEs, corpus or index parameters differ)");
        if (const auto [it, fresh] = byShard.emplace(p.shard, &p); !fresh)
            return fileError(p.path,
                "is " + shardName(p.shard, W) + ", like " + it->second->path
                    + " (a duplicate part)");
        for (const auto &[key, r] : p.byRequest)
            if (!r.complete)
                return fileError(p.path,
                    shardName(p.shard, W)
                        + " is not complete: rerun its index command to finish it");
    }
    for (int64_t r = 0; r < W; ++r)
        if (!byShard.count(r)) {
            std::string have;
            for (const auto &[s, p] : byShard)
                have += (have.empty() ? "" : ", ") + p->path + " (" + std::to_string(s) + ")";
            return Error { shardName(r, W) + " is missing (the parts given: " + have + ")" };
        }

    // The output starts as a copy of shard 0's part (its model, SAE, corpus and logit effects),
    // written under a temporary name and renamed when complete.
    Part &base = *byShard.at(0);
    const std::string partial = out + ".partial";
    fs::remove(partial, ec);
    if (auto s = store::copyWorkspace(*base.db, partial); !s)
        return fileError(out, "cannot write the merged workspace: " + s.errorMessage());
    ShardMergeOutcome outcome;
    outcome.shards = W;
    {
        std::unique_ptr<store::Database> merged;
        FS_TRY(merged, store::Database::open(partial));
        std::vector<store::ShardRecord> records;
        FS_TRY(records, store::listShards(*merged));
        for (const auto &record : records) {
            AccumulatorState state;
            FS_TRY(state, shardState(base, base.byRequest.at(record.requestKey)));
            for (int64_t r = 1; r < W; ++r) {
                Part &p = *byShard.at(r);
                AccumulatorState other;
                FS_TRY(other, shardState(p, p.byRequest.at(record.requestKey)));
                if (auto s = state.merge(other); !s)
                    return fileError(p.path, s.errorMessage());
            }
            if (auto s = store::finishShardedIndex(*merged, record, state); !s)
                return fileError(out, s.errorMessage());
            ++outcome.indexes;
        }
    }
    fs::rename(partial, out, ec);
    if (ec)
        return fileError(out, "cannot move the merged workspace into place: " + ec.message());
    outcome.seconds
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return outcome;
}

} // namespace fscope::core::index
