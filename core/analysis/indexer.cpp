#include "core/analysis/indexer.h"

#include "core/analysis/index_store.h"
#include "core/analysis/logit_effects.h"
#include "core/store/fingerprint.h"
#include "core/store/statement.h"

#include <c10/util/Half.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>

namespace fscope::core::analysis {

using store::Database;
using store::Statement;

namespace {

// What, besides the inputs, decides an index's numbers (and so belongs in its key).
nlohmann::json indexParams(const sae::Sae &sae, const IndexOptions &o, at::ScalarType dtype)
{
    const AccumulatorOptions &a = o.accumulator;
    return {{"version", 1},
            {"hook", sae.config().hookName},
            {"dtype", std::string(c10::toString(dtype))},
            {"batch_contexts", o.batchContexts},
            {"special_tokens", std::vector<int64_t>(o.specialTokens.begin(), o.specialTokens.end())},
            {"top_examples", a.topExamples},
            {"quantile_bands", a.quantileBands},
            {"per_band", a.perBand},
            {"reservoir", a.reservoir},
            {"window_radius", a.windowRadius},
            {"histogram_bins", a.histogramBins},
            {"seed", a.seed},
            {"magnitude", a.useMagnitude}};
}

struct Target {
    const sae::Sae *sae;
    int64_t saeId = 0, indexId = 0, nextBatch = 0;
    bool done = false;
    std::unique_ptr<FeatureAccumulator> acc;
};

Status writeLogitEffects(Database &db, const model::Decoder &decoder, const sae::Sae &sae, int64_t modelId,
                         int64_t saeId, int64_t k)
{
    Statement st;
    FS_TRY(st, Statement::prepare(db, "SELECT count(*) FROM logit_effects WHERE model_id = ?1 AND sae_id = ?2"));
    st.bind(0, modelId).bind(1, saeId);
    bool row = false;
    FS_TRY(row, st.step());
    if (row && st.integer(0) > 0)
        return {}; // cached: they depend on the model and SAE only
    const LogitEffects raw = computeLogitEffects(decoder, sae, false, k);
    const LogitEffects folded = computeLogitEffects(decoder, sae, true, k);
    return db.transaction([&]() -> Status {
        Statement ins;
        FS_TRY(ins, Statement::prepare(db, "INSERT INTO logit_effects(model_id, sae_id, folded, feature, top, bottom) "
                                           "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
        for (int folding = 0; folding < 2; ++folding) {
            const LogitEffects &e = folding ? folded : raw;
            for (size_t f = 0; f < e.top.size(); ++f) {
                ins.bind(0, modelId).bind(1, saeId).bind(2, folding).bind(3, static_cast<int64_t>(f));
                ins.bindBlob(4, e.top[f].data(), e.top[f].size() * 8).bindBlob(5, e.bottom[f].data(), e.bottom[f].size() * 8);
                if (auto s = ins.run(); !s)
                    return s;
            }
        }
        return {};
    });
}

Status saveCheckpoints(Database &db, const std::vector<Target> &targets, int64_t nextBatch)
{
    return db.transaction([&]() -> Status {
        Statement st;
        FS_TRY(st, Statement::prepare(db, "INSERT INTO index_checkpoints(index_id, next_batch, state) VALUES(?1, ?2, ?3) "
                                          "ON CONFLICT(index_id) DO UPDATE SET next_batch = excluded.next_batch, state = excluded.state"));
        for (const Target &t : targets) {
            if (t.done || t.nextBatch > nextBatch)
                continue;
            const std::string state = t.acc->serialize();
            st.bind(0, t.indexId).bind(1, nextBatch).bindBlob(2, state.data(), state.size());
            if (auto s = st.run(); !s)
                return s;
        }
        return {};
    });
}

Status writeResults(Database &db, const Target &t)
{
    return db.transaction([&]() -> Status {
        Statement stats, hist, bands, examples;
        FS_TRY(stats, Statement::prepare(db, "INSERT OR REPLACE INTO feature_stats(index_id, feature, count, density, max, mean) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
        FS_TRY(hist, Statement::prepare(db, "INSERT OR REPLACE INTO histograms(index_id, feature, lo, hi, counts) VALUES(?1, ?2, ?3, ?4, ?5)"));
        FS_TRY(bands, Statement::prepare(db, "INSERT OR REPLACE INTO quantile_bands(index_id, feature, band, lo, hi, count) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
        FS_TRY(examples, Statement::prepare(db, "INSERT OR REPLACE INTO examples(index_id, feature, kind, rank, band, value, context, max_pos, start, acts) "
                                                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
        std::vector<uint16_t> halves;
        for (int64_t j = 0; j < t.acc->features(); ++j) {
            const FeatureSummary s = t.acc->summary(j);
            stats.bind(0, t.indexId).bind(1, j).bind(2, s.count).bind(3, s.density).bind(4, static_cast<double>(s.max)).bind(5, s.mean);
            if (auto r = stats.run(); !r)
                return r;
            hist.bind(0, t.indexId).bind(1, j).bind(2, static_cast<double>(s.histLo)).bind(3, static_cast<double>(s.histHi));
            hist.bindBlob(4, s.histogram.data(), s.histogram.size() * 4);
            if (auto r = hist.run(); !r)
                return r;
            for (size_t b = 0; b < s.bands.size(); ++b) {
                bands.bind(0, t.indexId).bind(1, j).bind(2, static_cast<int64_t>(b)).bind(3, static_cast<double>(s.bands[b].lo))
                    .bind(4, static_cast<double>(s.bands[b].hi)).bind(5, s.bands[b].count);
                if (auto r = bands.run(); !r)
                    return r;
            }
            for (int kind = 0; kind < 2; ++kind) {
                const auto &list = kind == 0 ? s.top : s.quantileExamples;
                for (size_t rank = 0; rank < list.size(); ++rank) {
                    const Example &e = list[rank];
                    halves.clear();
                    for (float v : e.activations)
                        halves.push_back(c10::Half(v).x);
                    examples.bind(0, t.indexId).bind(1, j).bind(2, kind).bind(3, static_cast<int64_t>(rank)).bind(4, e.band)
                        .bind(5, static_cast<double>(e.value)).bind(6, e.context).bind(7, e.maxPos).bind(8, e.start);
                    examples.bindBlob(9, halves.data(), halves.size() * 2);
                    if (auto r = examples.run(); !r)
                        return r;
                }
            }
        }
        Statement fin;
        FS_TRY(fin, Statement::prepare(db, "UPDATE feature_indexes SET status = 'done', tokens = ?2, "
                                           "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?1"));
        fin.bind(0, t.indexId).bind(1, t.acc->tokens());
        if (auto r = fin.run(); !r)
            return r;
        FS_TRY(fin, Statement::prepare(db, "DELETE FROM index_checkpoints WHERE index_id = ?1"));
        fin.bind(0, t.indexId);
        return fin.run();
    });
}

} // namespace

Result<IndexOutcome> indexCorpus(Database &db, const IndexInputs &in, const IndexOptions &options, jobs::Progress *progress)
{
    const auto started = std::chrono::steady_clock::now();
    if (!in.decoder || !in.corpus || in.saes.empty())
        return Error{"indexing needs a model, a corpus and at least one SAE"};
    const model::Decoder &decoder = *in.decoder;
    const corpus::Corpus &corpus = *in.corpus;
    if (options.batchContexts < 1)
        return Error{"batch size must be at least one context"};

    const int64_t vocab = decoder.config().vocabSize;
    for (int32_t id : corpus.ids)
        if (id < 0 || id >= vocab)
            return Error{"the corpus holds token id " + std::to_string(id) + ", outside the model's vocabulary of "
                         + std::to_string(vocab) + " (was it tokenized for another model?)"};
    for (const IndexSae &s : in.saes)
        if (s.sae->config().dIn <= 0)
            return Error{"SAE " + s.sae->config().sourcePath + " has no input width"};

    int64_t modelId = 0, corpusId = 0;
    FS_TRY(modelId, registerModel(db, decoder.path(), decoder.config(), in.modelFingerprint));
    if (progress)
        progress->begin(0, "storing the corpus contexts");
    FS_TRY(corpusId, storeCorpus(db, corpus, in.corpusLabel, in.corpusSpecJson));

    IndexOutcome outcome;
    std::vector<Target> targets;
    for (const IndexSae &s : in.saes) {
        Target t;
        t.sae = s.sae;
        const std::string saeFp = fingerprintSae(*s.sae);
        FS_TRY(t.saeId, registerSae(db, *s.sae, saeFp, s.label.empty() ? s.sae->config().sourcePath : s.label));
        const nlohmann::json params = indexParams(*s.sae, options, s.sae->dtype());
        const std::string key = store::combineFingerprints({"index-v1", in.modelFingerprint, saeFp, corpus.fingerprint, params.dump()});
        Statement st;
        FS_TRY(st, Statement::prepare(db, "INSERT INTO feature_indexes(key, model_id, sae_id, corpus_id, params_json, status) "
                                          "VALUES(?1, ?2, ?3, ?4, ?5, 'running') ON CONFLICT(key) DO UPDATE SET key = key "
                                          "RETURNING id, status"));
        st.bind(0, key).bind(1, modelId).bind(2, t.saeId).bind(3, corpusId).bind(4, params.dump());
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            return fileError(db.path(), "cannot create the index record");
        t.indexId = st.integer(0);
        t.done = st.text(1) == "done";
        st.reset();
        outcome.indexIds.push_back(t.indexId);
        outcome.computed.push_back(!t.done);
        if (!t.done) {
            t.acc = std::make_unique<FeatureAccumulator>(s.sae->config().dSae, corpus.contextLength, [&] {
                AccumulatorOptions a = options.accumulator;
                a.useMagnitude = s.sae->config().architecture == sae::Architecture::AbsTopK;
                return a;
            }());
            Statement cp;
            FS_TRY(cp, Statement::prepare(db, "SELECT next_batch, state FROM index_checkpoints WHERE index_id = ?1"));
            cp.bind(0, t.indexId);
            FS_TRY(row, cp.step());
            if (row) {
                t.nextBatch = cp.integer(0);
                if (auto r = t.acc->restore(std::string(cp.blob(1))); !r)
                    return fileError(db.path(), r.errorMessage());
            }
        }
        targets.push_back(std::move(t));
    }

    const int64_t T = corpus.contextLength, B = options.batchContexts;
    const int64_t batches = (corpus.contexts() + B - 1) / B;
    outcome.tokens = corpus.tokens();
    int64_t first = batches;
    std::set<std::string> hooks;
    for (Target &t : targets) {
        if (t.done)
            continue;
        const auto t0 = std::chrono::steady_clock::now();
        if (auto s = writeLogitEffects(db, decoder, *t.sae, modelId, t.saeId, options.logitK); !s)
            return s.error();
        outcome.logitSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        first = std::min(first, t.nextBatch);
        hooks.insert(t.sae->config().hookName);
    }

    if (progress)
        progress->begin(corpus.tokens(), "indexing " + std::to_string(hooks.size()) + " hook(s)");
    if (progress)
        progress->setDone(first * B * T);
    auto lastCommit = std::chrono::steady_clock::now();
    int64_t sinceCommit = 0;
    for (int64_t b = first; b < batches; ++b) {
        const int64_t c0 = b * B, n = std::min(B, corpus.contexts() - c0);
        at::Tensor ids = at::empty({n, T}, at::kLong);
        std::vector<uint8_t> counted(static_cast<size_t>(n * T));
        int64_t *idp = ids.data_ptr<int64_t>();
        for (int64_t i = 0; i < n * T; ++i) {
            idp[i] = corpus.context(c0)[i];
            counted[static_cast<size_t>(i)] = options.specialTokens.count(idp[i]) ? 0 : 1;
        }
        model::ForwardOptions fo;
        fo.capture = hooks;
        fo.computeLogits = false;
        auto r = decoder.forward({ids.to(decoder.device())}, fo);
        if (!r)
            return r.error();
        for (Target &t : targets) {
            if (t.done || t.nextBatch > b)
                continue;
            const at::Tensor h = r->activations.at(t.sae->config().hookName);
            const at::Tensor f = t.sae->encode(h.reshape({n * T, -1}).to(t.sae->device()));
            t.acc->add(f, c0, counted);
        }
        ++outcome.batchesRun;
        ++sinceCommit;
        if (progress)
            progress->advance(n * T);
        const bool cancelled = progress && progress->cancelled();
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - lastCommit).count();
        const bool due = options.commitEveryBatches > 0 ? sinceCommit >= options.commitEveryBatches
                                                        : elapsed >= options.commitSeconds;
        if ((due || cancelled) && b + 1 < batches) {
            if (auto s = saveCheckpoints(db, targets, b + 1); !s)
                return s.error();
            lastCommit = std::chrono::steady_clock::now();
            sinceCommit = 0;
        }
        if (cancelled)
            return Error{"cancelled (resumes from batch " + std::to_string(b + 1) + " of " + std::to_string(batches) + ")"};
    }
    const auto writeStart = std::chrono::steady_clock::now();
    for (Target &t : targets) {
        if (t.done)
            continue;
        if (progress)
            progress->setMessage("writing the index of " + t.sae->config().hookName);
        if (auto s = writeResults(db, t); !s)
            return s.error();
    }
    const auto end = std::chrono::steady_clock::now();
    outcome.writeSeconds = std::chrono::duration<double>(end - writeStart).count();
    outcome.seconds = std::chrono::duration<double>(end - started).count();
    return outcome;
}

} // namespace fscope::core::analysis
