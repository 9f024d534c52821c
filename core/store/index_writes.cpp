#include "core/store/index_writes.h"

#include "core/store/fingerprint.h"
#include "core/store/statement.h"

#include <c10/util/Half.h>
#include <nlohmann/json.hpp>

namespace fscope::core::store {

Result<bool> hasLogitEffects(Database &db, int64_t modelId, int64_t saeId)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(
            db, "SELECT count(*) FROM logit_effects WHERE model_id = ?1 AND sae_id = ?2"));
    st.bind(0, modelId).bind(1, saeId);
    bool row = false;
    FS_TRY(row, st.step());
    return row && st.integer(0) > 0;
}

Status writeDecoderWrites(
    Database &db, int64_t saeId, const std::vector<std::string> &hooks, const at::Tensor &norms)
{
    const at::Tensor host = norms.to(at::kCPU, at::kFloat).contiguous();
    if (host.dim() != 2 || host.size(1) != static_cast<int64_t>(hooks.size()))
        return Error { "decoder writes: one norm per feature and output hook expected" };
    return db.transaction([&]() -> Status {
        Statement st;
        FS_TRY(st,
            Statement::prepare(
                db, "INSERT OR REPLACE INTO decoder_write_hooks(sae_id, hooks) VALUES(?1, ?2)"));
        st.bind(0, saeId).bind(1, nlohmann::json(hooks).dump());
        if (auto s = st.run(); !s)
            return s;
        FS_TRY(st, Statement::prepare(db, "DELETE FROM decoder_writes WHERE sae_id = ?1"));
        st.bind(0, saeId);
        if (auto s = st.run(); !s)
            return s;
        FS_TRY(st,
            Statement::prepare(
                db, "INSERT INTO decoder_writes(sae_id, feature, norms) VALUES(?1, ?2, ?3)"));
        const float *p = host.data_ptr<float>();
        const int64_t blocks = host.size(1);
        for (int64_t f = 0; f < host.size(0); ++f) {
            st.bind(0, saeId).bind(1, f).bindBlob(
                2, p + f * blocks, static_cast<size_t>(blocks) * sizeof(float));
            if (auto s = st.run(); !s)
                return s;
        }
        return {};
    });
}

Status writeLogitEffects(Database &db, int64_t modelId, int64_t saeId,
    const analysis::LogitEffects &raw, const analysis::LogitEffects &folded)
{
    return db.transaction([&]() -> Status {
        Statement ins;
        FS_TRY(ins,
            Statement::prepare(db,
                "INSERT INTO logit_effects(model_id, sae_id, folded, feature, top, bottom) "
                "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
        for (int folding = 0; folding < 2; ++folding) {
            const analysis::LogitEffects &e = folding ? folded : raw;
            for (size_t f = 0; f < e.top.size(); ++f) {
                ins.bind(0, modelId)
                    .bind(1, saeId)
                    .bind(2, folding)
                    .bind(3, static_cast<int64_t>(f));
                ins.bindBlob(4, e.top[f].data(), e.top[f].size() * 8)
                    .bindBlob(5, e.bottom[f].data(), e.bottom[f].size() * 8);
                if (auto s = ins.run(); !s)
                    return s;
            }
        }
        return {};
    });
}

Result<IndexRecord> openIndexRecord(Database &db, const std::string &key, int64_t modelId,
    int64_t saeId, int64_t corpusId, const std::string &paramsJson)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "INSERT INTO feature_indexes(key, model_id, sae_id, corpus_id, params_json, status) "
            "VALUES(?1, ?2, ?3, ?4, ?5, 'running') ON CONFLICT(key) DO UPDATE SET key = key "
            "RETURNING id, status"));
    st.bind(0, key).bind(1, modelId).bind(2, saeId).bind(3, corpusId).bind(4, paramsJson);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return fileError(db.path(), "cannot create the index record");
    IndexRecord r { st.integer(0), st.text(1) == "done" };
    st.reset();
    return r;
}

Status saveIndexCheckpoints(Database &db, const std::vector<IndexCheckpoint> &checkpoints)
{
    return db.transaction([&]() -> Status {
        Statement st;
        FS_TRY(st,
            Statement::prepare(db,
                "INSERT INTO index_checkpoints(index_id, next_batch, state) VALUES(?1, ?2, ?3) "
                "ON CONFLICT(index_id) DO UPDATE SET next_batch = excluded.next_batch, state = "
                "excluded.state"));
        for (const IndexCheckpoint &c : checkpoints) {
            st.bind(0, c.indexId).bind(1, c.nextBatch).bindBlob(2, c.state.data(), c.state.size());
            if (auto s = st.run(); !s)
                return s;
        }
        return {};
    });
}

Result<std::optional<IndexCheckpoint>> loadIndexCheckpoint(Database &db, int64_t indexId)
{
    Statement cp;
    FS_TRY(cp,
        Statement::prepare(
            db, "SELECT next_batch, state FROM index_checkpoints WHERE index_id = ?1"));
    cp.bind(0, indexId);
    bool row = false;
    FS_TRY(row, cp.step());
    if (!row)
        return std::optional<IndexCheckpoint>();
    return std::optional<IndexCheckpoint>(
        IndexCheckpoint { indexId, cp.integer(0), std::string(cp.blob(1)) });
}

namespace {

// The body of writeIndexResults, inside the caller's transaction.
Status writeResults(Database &db, int64_t indexId, const index::AccumulatorState &accumulator)
{
    {
        Statement stats, hist, bands, examples;
        FS_TRY(stats,
            Statement::prepare(db,
                "INSERT OR REPLACE INTO feature_stats(index_id, feature, count, density, max, "
                "mean) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
        FS_TRY(hist,
            Statement::prepare(db,
                "INSERT OR REPLACE INTO histograms(index_id, feature, lo, hi, counts) VALUES(?1, "
                "?2, ?3, ?4, ?5)"));
        FS_TRY(bands,
            Statement::prepare(db,
                "INSERT OR REPLACE INTO quantile_bands(index_id, feature, band, lo, hi, count) "
                "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
        FS_TRY(examples,
            Statement::prepare(db,
                "INSERT OR REPLACE INTO examples(index_id, feature, kind, rank, band, value, "
                "context, max_pos, start, acts) "
                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
        std::vector<uint16_t> halves;
        for (int64_t j = 0; j < accumulator.features; ++j) {
            const index::FeatureSummary s = accumulator.summary(j);
            stats.bind(0, indexId)
                .bind(1, j)
                .bind(2, s.count)
                .bind(3, s.density)
                .bind(4, static_cast<double>(s.max))
                .bind(5, s.mean);
            if (auto r = stats.run(); !r)
                return r;
            hist.bind(0, indexId)
                .bind(1, j)
                .bind(2, static_cast<double>(s.histLo))
                .bind(3, static_cast<double>(s.histHi));
            hist.bindBlob(4, s.histogram.data(), s.histogram.size() * 4);
            if (auto r = hist.run(); !r)
                return r;
            for (size_t b = 0; b < s.bands.size(); ++b) {
                bands.bind(0, indexId)
                    .bind(1, j)
                    .bind(2, static_cast<int64_t>(b))
                    .bind(3, static_cast<double>(s.bands[b].lo))
                    .bind(4, static_cast<double>(s.bands[b].hi))
                    .bind(5, s.bands[b].count);
                if (auto r = bands.run(); !r)
                    return r;
            }
            for (int kind = 0; kind < 2; ++kind) {
                const auto &list = kind == 0 ? s.top : s.quantileExamples;
                for (size_t rank = 0; rank < list.size(); ++rank) {
                    const index::Example &e = list[rank];
                    halves.clear();
                    for (float v : e.activations)
                        halves.push_back(c10::Half(v).x);
                    examples.bind(0, indexId)
                        .bind(1, j)
                        .bind(2, kind)
                        .bind(3, static_cast<int64_t>(rank))
                        .bind(4, e.band)
                        .bind(5, static_cast<double>(e.value))
                        .bind(6, e.context)
                        .bind(7, e.maxPos)
                        .bind(8, e.start);
                    examples.bindBlob(9, halves.data(), halves.size() * 2);
                    if (auto r = examples.run(); !r)
                        return r;
                }
            }
        }
        Statement fin;
        FS_TRY(fin,
            Statement::prepare(db,
                "UPDATE feature_indexes SET status = 'done', tokens = ?2, "
                "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1"));
        fin.bind(0, indexId).bind(1, accumulator.tokens);
        if (auto r = fin.run(); !r)
            return r;
        FS_TRY(fin, Statement::prepare(db, "DELETE FROM index_checkpoints WHERE index_id = ?1"));
        fin.bind(0, indexId);
        return fin.run();
    }
}

} // namespace

Status writeIndexResults(Database &db, int64_t indexId, const index::AccumulatorState &accumulator)
{
    return db.transaction([&] { return writeResults(db, indexId, accumulator); });
}

Status setIndexDevice(Database &db, int64_t indexId, const std::string &device)
{
    Statement st;
    FS_TRY(st, Statement::prepare(db, "UPDATE feature_indexes SET device = ?2 WHERE id = ?1"));
    st.bind(0, indexId).bind(1, device);
    return st.run();
}

Result<ShardRecord> openShardRecord(Database &db, const std::string &requestKey, int64_t modelId,
    int64_t saeId, int64_t corpusId, const std::string &paramsJson, int64_t shard, int64_t shards,
    int64_t batches)
{
    ShardRecord r { 0, requestKey, shard, shards, batches, false };
    if (auto s = db.transaction([&]() -> Status {
            IndexRecord record;
            FS_TRY(record,
                openIndexRecord(db,
                    combineFingerprints(
                        { requestKey, "shard", std::to_string(shard), std::to_string(shards) }),
                    modelId, saeId, corpusId, paramsJson));
            r.indexId = record.id;
            Statement st;
            FS_TRY(st,
                Statement::prepare(db,
                    "INSERT INTO index_shards(index_id, request_key, shard, shards, batches) "
                    "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(index_id) DO UPDATE SET "
                    "index_id = index_id RETURNING complete"));
            st.bind(0, r.indexId)
                .bind(1, requestKey)
                .bind(2, shard)
                .bind(3, shards)
                .bind(4, batches);
            bool row = false;
            FS_TRY(row, st.step());
            r.complete = row && st.integer(0) != 0;
            st.reset();
            return {};
        });
        !s)
        return s.error();
    return r;
}

Status completeShard(Database &db, const IndexCheckpoint &finalState)
{
    return db.transaction([&]() -> Status {
        if (auto s = saveIndexCheckpoints(db, { finalState }); !s)
            return s;
        Statement st;
        FS_TRY(
            st, Statement::prepare(db, "UPDATE index_shards SET complete = 1 WHERE index_id = ?1"));
        st.bind(0, finalState.indexId);
        return st.run();
    });
}

Result<std::vector<ShardRecord>> listShards(Database &db)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT index_id, request_key, shard, shards, batches, complete FROM index_shards "
            "ORDER BY index_id"));
    std::vector<ShardRecord> out;
    while (true) {
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            break;
        out.push_back({ st.integer(0), st.text(1), st.integer(2), st.integer(3), st.integer(4),
            st.integer(5) != 0 });
    }
    return out;
}

Result<bool> indexDone(Database &db, const std::string &key)
{
    Statement st;
    FS_TRY(st, Statement::prepare(db, "SELECT status FROM feature_indexes WHERE key = ?1"));
    st.bind(0, key);
    bool row = false;
    FS_TRY(row, st.step());
    return row && st.text(0) == "done";
}

Result<std::string> indexParamsJson(Database &db, int64_t indexId)
{
    Statement st;
    FS_TRY(st, Statement::prepare(db, "SELECT params_json FROM feature_indexes WHERE id = ?1"));
    st.bind(0, indexId);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return fileError(db.path(), "index " + std::to_string(indexId) + " is missing");
    return st.text(0);
}

Status copyWorkspace(Database &db, const std::string &path)
{
    Statement st;
    FS_TRY(st, Statement::prepare(db, "VACUUM INTO ?1"));
    st.bind(0, path);
    return st.run();
}

Status finishShardedIndex(
    Database &db, const ShardRecord &shard, const index::AccumulatorState &merged)
{
    return db.transaction([&]() -> Status {
        Statement st;
        FS_TRY(st, Statement::prepare(db, "DELETE FROM index_shards WHERE index_id = ?1"));
        st.bind(0, shard.indexId);
        if (auto s = st.run(); !s)
            return s;
        // An unfinished record of the whole request (an earlier single-process run) gives way.
        FS_TRY(st,
            Statement::prepare(db,
                "DELETE FROM feature_indexes WHERE key = ?1 AND status != 'done' AND id != ?2"));
        st.bind(0, shard.requestKey).bind(1, shard.indexId);
        if (auto s = st.run(); !s)
            return s;
        FS_TRY(st, Statement::prepare(db, "UPDATE feature_indexes SET key = ?2 WHERE id = ?1"));
        st.bind(0, shard.indexId).bind(1, shard.requestKey);
        if (auto s = st.run(); !s)
            return s;
        return writeResults(db, shard.indexId, merged);
    });
}

} // namespace fscope::core::store
