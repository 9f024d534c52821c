#include "core/index/indexer.h"

#include "core/analysis/logit_effects.h"
#include "core/store/fingerprint.h"
#include "core/store/index_store.h"
#include "core/store/index_writes.h"
#include "core/util/device_memory.h"

#include <nlohmann/json.hpp>

#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>

namespace fscope::core::index {

using store::Database;

namespace {

// What, besides the inputs, decides an index's numbers (and so belongs in its key).
nlohmann::json indexParams(const sae::Sae &sae, const IndexOptions &o, at::ScalarType dtype)
{
    const AccumulatorOptions &a = o.accumulator;
    return { { "version", 3 }, { "hook", sae.config().hookName },
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
    int64_t offset = 0; // contexts of the current batch already added
    std::optional<store::ShardRecord> shard; // sharded: the shard's record
};

Status writeLogitEffects(Database &db, const model::Decoder &decoder, const sae::Sae &sae,
    int64_t modelId, int64_t saeId, int64_t k)
{
    bool stored = false;
    FS_TRY(stored, store::hasLogitEffects(db, modelId, saeId));
    if (stored)
        return {}; // cached: they depend on the model and SAE only
    // A dictionary writing several hooks (a CLT layer) also records where each feature
    // writes, for its dashboard.
    if (const auto hooks = sae.config().outputHooks(); hooks.size() > 1) {
        std::vector<at::Tensor> norms;
        for (size_t b = 0; b < hooks.size(); ++b)
            norms.push_back(
                sae.decoderBlock(static_cast<int64_t>(b)).to(at::kFloat).norm(2, 1).to(at::kCPU));
        if (auto s = store::writeDecoderWrites(db, saeId, hooks, at::stack(norms, 1)); !s)
            return s;
    }
    return store::writeLogitEffects(db, modelId, saeId,
        analysis::computeLogitEffects(decoder, sae, false, k),
        analysis::computeLogitEffects(decoder, sae, true, k));
}

std::string mib(int64_t bytes)
{
    return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

// Database writes run on one writer thread, one at a time, so the forward pass never waits for
// the disk; the pass itself does not touch the database meanwhile.
class Writer {
public:
    ~Writer() { (void)wait(); }
    Status wait()
    {
        if (!m_pending.valid())
            return {};
        return m_pending.get();
    }
    Status submit(std::function<Status()> work)
    {
        if (auto s = wait(); !s)
            return s;
        m_pending = std::async(std::launch::async, std::move(work));
        return {};
    }

private:
    std::future<Status> m_pending;
};

} // namespace

int64_t autoBatchContexts(const model::Decoder &decoder, const std::vector<const sae::Sae *> &saes,
    int64_t T, const AccumulatorOptions &options)
{
    const auto memory = util::deviceMemory(decoder.device());
    if (!memory)
        return 8;
    const model::ModelConfig &c = decoder.config();
    const int64_t bytes = at::elementSize(decoder.dtype());
    // Per context: the residual stream and its transients, the MLP's hidden layer, one layer's
    // attention scores (float32 softmax), each SAE's pre-activations, code and accumulator copies.
    int64_t perContext
        = T * (c.hidden * bytes * 8 + c.intermediate * bytes * 3) + c.heads * T * T * 4 * 2;
    int64_t state = 0;
    for (const sae::Sae *s : saes) {
        perContext += T * s->config().dSae * at::elementSize(s->dtype()) * 2
            + FeatureAccumulator::batchBytes(s->config().dSae, T);
        state += FeatureAccumulator::stateBytes(s->config().dSae, T, options);
    }
    const int64_t budget = memory->freeBytes * 8 / 10 - state;
    return std::clamp<int64_t>(budget / std::max<int64_t>(perContext, 1), 1, 256);
}

Result<IndexOutcome> indexCorpus(
    Database &db, const IndexInputs &in, const IndexOptions &requested, jobs::Progress *progress)
{
    const auto started = std::chrono::steady_clock::now();
    if (!in.decoder || !in.corpus || in.saes.empty())
        return Error { "indexing needs a model, a corpus and at least one SAE" };
    const model::Decoder &decoder = *in.decoder;
    const corpus::Corpus &corpus = *in.corpus;
    if (requested.batchContexts < 0)
        return Error { "batch size must be at least one context (or 0 for automatic)" };

    const int64_t vocab = decoder.config().vocabSize;
    for (int32_t id : corpus.ids)
        if (id < 0 || id >= vocab)
            return Error { "the corpus holds token id " + std::to_string(id)
                + ", outside the model's vocabulary of " + std::to_string(vocab)
                + " (was it tokenized for another model?)" };
    std::vector<const sae::Sae *> saes;
    for (const IndexSae &s : in.saes) {
        if (s.sae->config().dIn <= 0)
            return Error { "SAE " + s.sae->config().sourcePath + " has no input width" };
        saes.push_back(s.sae);
    }
    IndexOptions options = requested;
    if (options.shard.sharded() && !options.exchange && options.batchContexts == 0)
        return Error { "a shard needs a fixed batch size (--batch-size N): every shard must split "
                       "the corpus into the same batches" };
    if (options.batchContexts == 0)
        options.batchContexts
            = autoBatchContexts(decoder, saes, corpus.contextLength, options.accumulator);
    ShardSpec shard = options.shard;
    if (options.exchange) {
        shard = { options.exchange->rank(), options.exchange->size() };
        // Every rank splits the same batches: rank 0's batch size (an automatic one may differ
        // between devices).
        std::string b;
        FS_TRY(b, options.exchange->broadcastFromRoot(std::to_string(options.batchContexts)));
        options.batchContexts = std::stoll(b);
    }
    const int64_t T = corpus.contextLength, B = options.batchContexts;
    const int64_t batches = (corpus.contexts() + B - 1) / B;
    const auto [lo, hi] = shardBatches(batches, shard);

    // Every accumulator lives on its SAE's device for the whole pass: check they fit up front.
    IndexOutcome outcome;
    outcome.batchContexts = options.batchContexts;
    int64_t stateTotal = 0;
    std::string sizes;
    for (const sae::Sae *s : saes) {
        outcome.stateBytes.push_back(FeatureAccumulator::stateBytes(
            s->config().dSae, corpus.contextLength, options.accumulator));
        stateTotal += outcome.stateBytes.back();
        sizes += (sizes.empty() ? "" : ", ") + s->config().hookName + " "
            + std::to_string(s->config().dSae) + " features " + mib(outcome.stateBytes.back());
    }
    if (const auto memory = util::deviceMemory(saes.front()->device());
        memory && stateTotal > memory->freeBytes)
        return Error { "the accumulators of " + std::to_string(saes.size()) + " SAE(s) need "
            + mib(stateTotal) + " of device memory (" + sizes + ") but " + mib(memory->freeBytes)
            + " are free: index fewer SAEs per run, or fewer top examples / samples" };

    int64_t modelId = 0, corpusId = 0;
    FS_TRY(
        modelId, store::registerModel(db, decoder.path(), decoder.config(), in.modelFingerprint));
    if (progress)
        progress->begin(0, "storing the corpus contexts");
    FS_TRY(corpusId, store::storeCorpus(db, corpus, in.corpusLabel, in.corpusSpecJson));

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
        bool wholeDone = false;
        if (shard.sharded())
            FS_TRY(wholeDone, store::indexDone(db, key));
        if (shard.sharded() && !wholeDone) {
            store::ShardRecord record;
            FS_TRY(record,
                store::openShardRecord(db, key, modelId, t.saeId, corpusId, params.dump(),
                    shard.rank, shard.count, batches));
            t.indexId = record.indexId;
            t.shard = record;
        } else {
            store::IndexRecord record;
            FS_TRY(
                record, store::openIndexRecord(db, key, modelId, t.saeId, corpusId, params.dump()));
            t.indexId = record.id;
            t.done = record.done;
        }
        t.nextBatch = lo;
        outcome.indexIds.push_back(t.indexId);
        outcome.computed.push_back(!t.done && !(t.shard && t.shard->complete));
        if (!t.done) {
            AccumulatorOptions a = options.accumulator;
            a.useMagnitude = s.sae->config().architecture == sae::Architecture::AbsTopK;
            t.acc = std::make_unique<FeatureAccumulator>(
                s.sae->config().dSae, corpus.contextLength, a, s.sae->device());
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
    if (options.exchange) {
        // Rank 0's workspace says which indexes are done; the other ranks skip those too.
        std::string done;
        for (const Target &t : targets)
            done += t.done ? '1' : '0';
        FS_TRY(done, options.exchange->broadcastFromRoot(done));
        if (done.size() != targets.size())
            return Error { "the ranks index different SAEs (rank 0 has "
                + std::to_string(done.size()) + ", this rank " + std::to_string(targets.size())
                + ")" };
        for (size_t i = 0; i < targets.size(); ++i)
            if (done[i] == '1' && !targets[i].done) {
                targets[i].done = true;
                targets[i].acc.reset();
                outcome.computed[i] = false;
            } else if (done[i] == '0' && targets[i].done)
                return Error { "rank " + std::to_string(shard.rank) + "'s workspace " + db.path()
                    + " holds the whole index of " + targets[i].sae->config().sourcePath
                    + " while rank 0's does not" };
    }

    outcome.firstBatch = lo;
    outcome.endBatch = hi;
    outcome.tokens
        = (std::min(hi * B, corpus.contexts()) - std::min(lo * B, corpus.contexts())) * T;
    int64_t first = hi;
    std::set<std::string> hooks;
    for (Target &t : targets) {
        if (t.done)
            continue;
        // The logit effects depend on the model and SAE only: a sharded run leaves them to the
        // first shard, whose workspace the merge builds on.
        const auto t0 = std::chrono::steady_clock::now();
        if (shard.rank == 0)
            if (auto s = writeLogitEffects(db, decoder, *t.sae, modelId, t.saeId, options.logitK);
                !s)
                return s.error();
        outcome.logitSeconds
            += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        first = std::min(first, t.nextBatch);
        hooks.insert(t.sae->config().hookName);
    }

    if (progress)
        progress->begin(outcome.tokens,
            "indexing " + std::to_string(hooks.size()) + " hook(s), accumulators "
                + mib(stateTotal));
    if (progress)
        progress->setDone(std::min((first - lo) * B * T, outcome.tokens));
    Writer writer;
    auto checkpoint = [&](int64_t nextBatch) -> Status {
        std::vector<store::IndexCheckpoint> checkpoints;
        for (const Target &t : targets)
            if (!t.done && t.nextBatch <= nextBatch)
                checkpoints.push_back({ t.indexId, nextBatch, t.acc->serialize() });
        return writer.submit([&db, checkpoints = std::move(checkpoints)] {
            return store::saveIndexCheckpoints(db, checkpoints);
        });
    };
    auto lastCommit = std::chrono::steady_clock::now();
    int64_t sinceCommit = 0, piece = B;
    for (int64_t b = first; b < hi; ++b) {
        const int64_t c0 = b * B, n = std::min(B, corpus.contexts() - c0);
        std::vector<uint8_t> counted(static_cast<size_t>(n * T));
        for (int64_t i = 0; i < n * T; ++i)
            counted[static_cast<size_t>(i)]
                = options.specialTokens.count(corpus.context(c0)[i]) ? 0 : 1;
        std::vector<Target *> active;
        for (Target &t : targets)
            if (!t.done && t.nextBatch <= b) {
                t.offset = 0;
                active.push_back(&t);
            }
        // The batch in pieces of `piece` contexts: all of it at once unless the device ran out
        // of memory. After an out-of-memory each SAE resumes from the contexts it has added (an
        // add is only reached once its encode succeeded), so the accumulators see every context
        // once, in order, whatever the split.
        while (true) {
            int64_t at = n;
            for (const Target *t : active)
                at = std::min(at, t->offset);
            if (at == n)
                break;
            const int64_t len = std::min(piece, n - at);
            try {
                if (options.faultInjection)
                    options.faultInjection("forward", c0 + at, len);
                at::Tensor ids = at::empty({ len, T }, at::kLong);
                int64_t *idp = ids.data_ptr<int64_t>();
                for (int64_t i = 0; i < len * T; ++i)
                    idp[i] = corpus.context(c0 + at)[i];
                model::ForwardOptions fo;
                for (const Target *t : active)
                    if (t->offset == at)
                        for (const std::string &hook : t->sae->config().inputHooks())
                            fo.capture.insert(hook);
                fo.computeLogits = false;
                auto r = decoder.forward({ ids.to(decoder.device()) }, fo);
                if (!r)
                    return r.error();
                const std::vector<uint8_t> pieceCounted(
                    counted.begin() + at * T, counted.begin() + (at + len) * T);
                for (Target *t : active) {
                    if (t->offset != at)
                        continue;
                    if (options.faultInjection)
                        options.faultInjection("encode " + t->sae->config().hookName, c0 + at, len);
                    at::Tensor h;
                    FS_TRY(h, sae::dictionaryInput(t->sae->config(), r->activations));
                    const at::Tensor f
                        = t->sae->encode(h.reshape({ len * T, -1 }).to(t->sae->device()));
                    t->acc->add(f, c0 + at, pieceCounted);
                    t->offset = at + len;
                }
            } catch (const c10::OutOfMemoryError &) {
                util::releaseCachedMemory(decoder.device());
                if (piece == 1)
                    return Error { "out of device memory with a single context of "
                        + std::to_string(T) + " tokens and " + std::to_string(active.size())
                        + " SAE(s) (" + sizes + "): use bf16, shorter contexts, or fewer SAEs "
                        + "per run" };
                piece = std::max<int64_t>(1, piece / 2);
                outcome.notes.push_back("out of device memory at batch " + std::to_string(b)
                    + ": continuing with " + std::to_string(piece) + " contexts per forward");
                if (progress)
                    progress->setMessage(outcome.notes.back());
            }
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
        if ((due || cancelled) && b + 1 < hi) {
            if (auto s = checkpoint(b + 1); !s)
                return s.error();
            lastCommit = std::chrono::steady_clock::now();
            sinceCommit = 0;
        }
        if (cancelled) {
            if (auto s = writer.wait(); !s)
                return s.error();
            return Error { "cancelled (resumes from batch " + std::to_string(b + 1) + " of "
                + std::to_string(hi) + ")" };
        }
    }
    outcome.forwardContexts = piece;
    if (auto s = writer.wait(); !s)
        return s.error();
    const auto writeStart = std::chrono::steady_clock::now();
    // The next SAE's state downloads while the writer stores the previous one.
    for (Target &t : targets) {
        if (t.done)
            continue;
        if (progress)
            progress->setMessage("writing the index of " + t.sae->config().hookName);
        auto state = std::make_shared<AccumulatorState>(t.acc->download());
        t.acc.reset();
        const int64_t id = t.indexId;
        if (!t.shard) {
            if (auto s = writer.submit(
                    [&db, id, state] { return store::writeIndexResults(db, id, *state); });
                !s)
                return s.error();
            continue;
        }
        // A shard's state is stored first, so a merge that fails can be redone from it.
        auto blob = std::make_shared<std::string>(state->serialize());
        if (!t.shard->complete)
            if (auto s = writer.submit([&db, id, hi, blob] {
                    return store::completeShard(db, { id, hi, *blob });
                });
                !s)
                return s.error();
        if (!options.exchange)
            continue;
        if (auto s = writer.wait(); !s)
            return s.error();
        if (progress)
            progress->setMessage("merging the shards of " + t.sae->config().hookName);
        std::vector<std::string> parts;
        FS_TRY(parts, options.exchange->gatherToRoot(*blob));
        Status written;
        if (shard.rank == 0) {
            written = [&]() -> Status {
                for (size_t r = 1; r < parts.size(); ++r) {
                    AccumulatorState other = AccumulatorState::empty(
                        state->features, state->contextLength, state->options);
                    if (auto s = other.restore(parts[r]); !s)
                        return Error { "rank " + std::to_string(r) + ": " + s.errorMessage() };
                    if (auto s = state->merge(other); !s)
                        return Error { "rank " + std::to_string(r) + ": " + s.errorMessage() };
                }
                return store::finishShardedIndex(db, *t.shard, *state);
            }();
        }
        // Every rank learns whether rank 0 wrote the index (so none waits for a gather that
        // will not come).
        std::string verdict;
        FS_TRY(verdict,
            options.exchange->broadcastFromRoot(written ? std::string() : written.errorMessage()));
        if (!verdict.empty())
            return Error {
                shard.rank == 0 ? verdict : "rank 0 could not write the merged index: " + verdict
            };
        outcome.merged = true;
    }
    if (auto s = writer.wait(); !s)
        return s.error();
    const auto end = std::chrono::steady_clock::now();
    outcome.writeSeconds = std::chrono::duration<double>(end - writeStart).count();
    outcome.seconds = std::chrono::duration<double>(end - started).count();
    return outcome;
}

} // namespace fscope::core::index
