#include "core/index/indexer.h"

#include "core/analysis/logit_effects.h"
#include "core/store/fingerprint.h"
#include "core/store/index_store.h"
#include "core/store/index_writes.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>

namespace fscope::core::index {

using store::Database;

namespace {

// What, besides the inputs, decides an index's numbers (and so belongs in its key).
nlohmann::json indexParams(const sae::Sae &sae, const IndexOptions &o, at::ScalarType dtype)
{
    const AccumulatorOptions &a = o.accumulator;
    return { { "version", 1 }, { "hook", sae.config().hookName },
        { "dtype", std::string(c10::toString(dtype)) }, { "batch_contexts", o.batchContexts },
        { "special_tokens", std::vector<int64_t>(o.specialTokens.begin(), o.specialTokens.end()) },
        { "top_examples", a.topExamples }, { "quantile_bands", a.quantileBands },
        { "per_band", a.perBand }, { "reservoir", a.reservoir },
        { "window_radius", a.windowRadius }, { "histogram_bins", a.histogramBins },
        { "seed", a.seed }, { "magnitude", a.useMagnitude } };
}

struct Target {
    const sae::Sae *sae;
    int64_t saeId = 0, indexId = 0, nextBatch = 0;
    bool done = false;
    std::unique_ptr<FeatureAccumulator> acc;
};

Status writeLogitEffects(Database &db, const model::Decoder &decoder, const sae::Sae &sae,
    int64_t modelId, int64_t saeId, int64_t k)
{
    bool stored = false;
    FS_TRY(stored, store::hasLogitEffects(db, modelId, saeId));
    if (stored)
        return {}; // cached: they depend on the model and SAE only
    return store::writeLogitEffects(db, modelId, saeId,
        analysis::computeLogitEffects(decoder, sae, false, k),
        analysis::computeLogitEffects(decoder, sae, true, k));
}

Status saveCheckpoints(Database &db, const std::vector<Target> &targets, int64_t nextBatch)
{
    std::vector<store::IndexCheckpoint> checkpoints;
    for (const Target &t : targets)
        if (!t.done && t.nextBatch <= nextBatch)
            checkpoints.push_back({ t.indexId, nextBatch, t.acc->serialize() });
    return store::saveIndexCheckpoints(db, checkpoints);
}

} // namespace

Result<IndexOutcome> indexCorpus(
    Database &db, const IndexInputs &in, const IndexOptions &options, jobs::Progress *progress)
{
    const auto started = std::chrono::steady_clock::now();
    if (!in.decoder || !in.corpus || in.saes.empty())
        return Error { "indexing needs a model, a corpus and at least one SAE" };
    const model::Decoder &decoder = *in.decoder;
    const corpus::Corpus &corpus = *in.corpus;
    if (options.batchContexts < 1)
        return Error { "batch size must be at least one context" };

    const int64_t vocab = decoder.config().vocabSize;
    for (int32_t id : corpus.ids)
        if (id < 0 || id >= vocab)
            return Error { "the corpus holds token id " + std::to_string(id)
                + ", outside the model's vocabulary of " + std::to_string(vocab)
                + " (was it tokenized for another model?)" };
    for (const IndexSae &s : in.saes)
        if (s.sae->config().dIn <= 0)
            return Error { "SAE " + s.sae->config().sourcePath + " has no input width" };

    int64_t modelId = 0, corpusId = 0;
    FS_TRY(
        modelId, store::registerModel(db, decoder.path(), decoder.config(), in.modelFingerprint));
    if (progress)
        progress->begin(0, "storing the corpus contexts");
    FS_TRY(corpusId, store::storeCorpus(db, corpus, in.corpusLabel, in.corpusSpecJson));

    IndexOutcome outcome;
    std::vector<Target> targets;
    for (const IndexSae &s : in.saes) {
        Target t;
        t.sae = s.sae;
        const std::string saeFp = store::fingerprintSae(*s.sae);
        FS_TRY(t.saeId,
            store::registerSae(
                db, *s.sae, saeFp, s.label.empty() ? s.sae->config().sourcePath : s.label));
        const nlohmann::json params = indexParams(*s.sae, options, s.sae->dtype());
        const std::string key = store::combineFingerprints(
            { "index-v1", in.modelFingerprint, saeFp, corpus.fingerprint, params.dump() });
        store::IndexRecord record;
        FS_TRY(record, store::openIndexRecord(db, key, modelId, t.saeId, corpusId, params.dump()));
        t.indexId = record.id;
        t.done = record.done;
        outcome.indexIds.push_back(t.indexId);
        outcome.computed.push_back(!t.done);
        if (!t.done) {
            t.acc = std::make_unique<FeatureAccumulator>(
                s.sae->config().dSae, corpus.contextLength, [&] {
                    AccumulatorOptions a = options.accumulator;
                    a.useMagnitude = s.sae->config().architecture == sae::Architecture::AbsTopK;
                    return a;
                }());
            std::optional<store::IndexCheckpoint> checkpoint;
            FS_TRY(checkpoint, store::loadIndexCheckpoint(db, t.indexId));
            if (checkpoint) {
                t.nextBatch = checkpoint->nextBatch;
                if (auto r = t.acc->restore(checkpoint->state); !r)
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
        outcome.logitSeconds
            += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
        at::Tensor ids = at::empty({ n, T }, at::kLong);
        std::vector<uint8_t> counted(static_cast<size_t>(n * T));
        int64_t *idp = ids.data_ptr<int64_t>();
        for (int64_t i = 0; i < n * T; ++i) {
            idp[i] = corpus.context(c0)[i];
            counted[static_cast<size_t>(i)] = options.specialTokens.count(idp[i]) ? 0 : 1;
        }
        model::ForwardOptions fo;
        fo.capture = hooks;
        fo.computeLogits = false;
        auto r = decoder.forward({ ids.to(decoder.device()) }, fo);
        if (!r)
            return r.error();
        for (Target &t : targets) {
            if (t.done || t.nextBatch > b)
                continue;
            const at::Tensor h = r->activations.at(t.sae->config().hookName);
            const at::Tensor f = t.sae->encode(h.reshape({ n * T, -1 }).to(t.sae->device()));
            t.acc->add(f, c0, counted);
        }
        ++outcome.batchesRun;
        ++sinceCommit;
        if (progress)
            progress->advance(n * T);
        const bool cancelled = progress && progress->cancelled();
        const double elapsed
            = std::chrono::duration<double>(std::chrono::steady_clock::now() - lastCommit).count();
        const bool due = options.commitEveryBatches > 0 ? sinceCommit >= options.commitEveryBatches
                                                        : elapsed >= options.commitSeconds;
        if ((due || cancelled) && b + 1 < batches) {
            if (auto s = saveCheckpoints(db, targets, b + 1); !s)
                return s.error();
            lastCommit = std::chrono::steady_clock::now();
            sinceCommit = 0;
        }
        if (cancelled)
            return Error { "cancelled (resumes from batch " + std::to_string(b + 1) + " of "
                + std::to_string(batches) + ")" };
    }
    const auto writeStart = std::chrono::steady_clock::now();
    for (Target &t : targets) {
        if (t.done)
            continue;
        if (progress)
            progress->setMessage("writing the index of " + t.sae->config().hookName);
        if (auto s = store::writeIndexResults(db, t.indexId, *t.acc); !s)
            return s.error();
    }
    const auto end = std::chrono::steady_clock::now();
    outcome.writeSeconds = std::chrono::duration<double>(end - writeStart).count();
    outcome.seconds = std::chrono::duration<double>(end - started).count();
    return outcome;
}

} // namespace fscope::core::index
