// The feature indexer against cases whose answers are known: a planted model + SAE where
// feature j fires exactly on token t_j with activation 1 + 0.01 * position; multi-SAE passes
// equal single passes; cancelled and killed runs resume to the uninterrupted result; the cache
// answers a repeated request without a forward.

#include "core/index/indexer.h"
#include "core/model/synthetic_model.h"
#include "core/sae/sae_io.h"
#include "core/store/index_store.h"
#include "core/store/index_writes.h"
#include "core/store/statement.h"
#include "tests/support/index_fixtures.h"
#include "tests/support/reference_accumulator.h"
#include "tests/support/testsupport.h"

#include <c10/util/Exception.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <map>

using namespace fscope::core;
using fscope::test::dumpIndex;
using fscope::test::fixture;
using fscope::test::randomCorpus;
using fscope::test::randomSae;
using fscope::test::TwoSaeRequest;

namespace {

constexpr int64_t kVocab = 40, kHidden = 48, kT = 32, kContexts = 60, kFeatures = 8, kPosDim = 40;

int64_t plantedToken(int64_t j)
{
    return 5 + j;
}

// Cancels the job once `limit` tokens are done.
class CancelAt : public jobs::Progress {
public:
    explicit CancelAt(int64_t limit)
        : m_limit(limit)
    {
    }

protected:
    void changed() override
    {
        if (snapshot().total > 0 && snapshot().done >= m_limit
            && snapshot().message.rfind("indexing", 0) == 0)
            cancel();
    }

private:
    int64_t m_limit;
};

} // namespace

class TestIndexer : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::unique_ptr<model::Decoder> m_planted;

    std::string path(const char *name) const { return (m_tmp.path() + "/" + name).toStdString(); }

private Q_SLOTS:
    void initTestCase();
    void plantedFeatures();
    void multiSaeEqualsSingle();
    void storedTablesEqualDefinition();
    void outOfMemoryHalvesTheBatch();
    void cancelledRunResumesExactly();
    void killedProcessResumesExactly();
    void saeDirIndexesEveryLayer();
    void labelsAreSearchable();
};

void TestIndexer::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    // One-hot token embeddings in dims [0, vocab) and the position * 0.01 in dim kPosDim:
    // blocks.0.hook_resid_pre = onehot(token) + 0.01 * position * e_kPosDim.
    at::Tensor wte = at::zeros({ kVocab, kHidden });
    for (int64_t t = 0; t < kVocab; ++t)
        wte[t][t] = 1.0;
    at::Tensor wpe = at::zeros({ 64, kHidden });
    for (int64_t p = 0; p < 64; ++p)
        wpe[p][kPosDim] = 0.01 * double(p);
    model::Gpt2Shape shape { kVocab, kHidden, 1, 4, 64, 0 };
    QVERIFY(model::writeRandomGpt2(
        path("planted"), shape, 3, { { "wte.weight", wte }, { "wpe.weight", wpe } })
                .ok());
    auto d = model::Decoder::load(path("planted"), { "cpu", "f32" });
    QVERIFY2(d.ok(), d.ok() ? "" : d.errorMessage().c_str());
    m_planted = std::move(d).value();
}

void TestIndexer::plantedFeatures()
{
    // f_j = relu(2 [token == t_j] + 0.01 p - 1): exactly 1 + 0.01 p on t_j, 0 elsewhere (p < 64).
    sae::SaeConfig cfg;
    cfg.architecture = sae::Architecture::Relu;
    cfg.dIn = kHidden;
    cfg.dSae = kFeatures;
    cfg.hookName = "blocks.0.hook_resid_pre";
    cfg.sourcePath = "planted-sae";
    sae::SaeWeights w;
    w.W_enc = at::zeros({ kHidden, kFeatures });
    w.b_enc = at::full({ kFeatures }, -1.0);
    w.W_dec = at::zeros({ kFeatures, kHidden });
    w.b_dec = at::zeros({ kHidden });
    for (int64_t j = 0; j + 1 < kFeatures; ++j) { // the last feature stays dead
        w.W_enc[plantedToken(j)][j] = 2.0;
        w.W_enc[kPosDim][j] = 1.0;
        w.W_dec[j][plantedToken(j)] = 1.0; // its logit effect is token t_j
    }
    const sae::Sae sae(cfg, w);
    const corpus::Corpus corpus = randomCorpus(kContexts, kT, kVocab, 0, 11);

    auto db = store::Database::open(path("planted.fsdb"));
    QVERIFY(db.ok());
    index::IndexInputs in;
    in.decoder = m_planted.get();
    in.modelFingerprint = "planted-model";
    in.corpus = &corpus;
    in.corpusLabel = "planted";
    in.saes = { { &sae, "planted" } };
    index::IndexOptions o;
    o.batchContexts = 7; // batches that do not divide the corpus
    o.specialTokens = { 0 };
    o.accumulator.windowRadius = 4;
    o.accumulator.reservoir = 100;
    o.logitK = 3;
    auto run = index::indexCorpus(**db, in, o);
    QVERIFY2(run.ok(), run.ok() ? "" : run.errorMessage().c_str());
    const int64_t indexId = run->indexIds[0];
    const int64_t counted = kContexts * (kT - 1); // BOS excluded

    for (int64_t j = 0; j < kFeatures; ++j) {
        auto d = store::loadFeatureDashboard(**db, indexId, j);
        QVERIFY2(d.ok(), d.ok() ? "" : d.errorMessage().c_str());
        if (j == kFeatures - 1) {
            QVERIFY(d->dead());
            QVERIFY(d->top.empty() && d->quantiles.empty());
            continue;
        }
        // Every occurrence of t_j and the per-context last one (the context's max).
        std::vector<float> values;
        std::vector<std::tuple<float, int64_t, int>> perContext; // (value, context, pos)
        for (int64_t c = 0; c < kContexts; ++c) {
            int last = -1;
            for (int p = 1; p < kT; ++p)
                if (corpus.context(c)[p] == plantedToken(j)) {
                    values.push_back(1.0f + 0.01f * float(p));
                    last = p;
                }
            if (last >= 0)
                perContext.emplace_back(1.0f + 0.01f * float(last), c, last);
        }
        QVERIFY(!values.empty());
        QCOMPARE(d->count, int64_t(values.size()));
        QCOMPARE(d->density, double(values.size()) / double(counted));
        QCOMPARE(d->index.tokens, counted);
        QVERIFY(std::abs(d->max - *std::max_element(values.begin(), values.end())) < 1e-5);
        double sum = 0;
        for (float v : values)
            sum += v;
        QVERIFY(std::abs(d->mean - sum / double(values.size())) < 1e-5);

        // Histogram: counts sum to the count, and every edge splits the values where it should.
        QCOMPARE(d->histogram.size(), size_t(50));
        uint64_t total = 0;
        for (uint32_t c : d->histogram)
            total += c;
        QCOMPARE(int64_t(total), d->count);
        QVERIFY(d->histLo <= *std::min_element(values.begin(), values.end()) + 1e-5f
            && d->histHi >= d->max - 1e-5f);
        uint64_t cumulative = 0;
        for (size_t b = 0; b < 50; ++b) {
            const double edge = d->histLo + (double(d->histHi) - d->histLo) * double(b) / 50.0;
            const double eps = 1e-4 * (double(d->histHi) - d->histLo) / 50.0;
            int64_t below = 0, belowLoose = 0;
            for (float v : values) {
                below += v < edge - eps;
                belowLoose += v < edge + eps;
            }
            QVERIFY2(int64_t(cumulative) >= below && int64_t(cumulative) <= belowLoose,
                qPrintable(QString("feature %1 bin %2").arg(j).arg(b)));
            cumulative += d->histogram[b];
        }

        // Top examples: contexts containing t_j by their max, highest first (earlier context
        // first among equals), each window centred on the max token.
        std::sort(perContext.begin(), perContext.end(), [](const auto &a, const auto &b) {
            return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) > std::get<0>(b)
                                                    : std::get<1>(a) < std::get<1>(b);
        });
        QCOMPARE(d->top.size(), std::min<size_t>(20, perContext.size()));
        for (size_t i = 0; i < d->top.size(); ++i) {
            const auto &e = d->top[i];
            const auto [value, context, pos] = perContext[i];
            QCOMPARE(e.context, context);
            QCOMPARE(e.start + e.maxPos, pos);
            QVERIFY(std::abs(e.value - value) < 1e-5);
            QCOMPARE(e.start, std::clamp(pos - 4, 0, int(kT) - 9));
            QCOMPARE(e.ids.size(), size_t(9));
            QCOMPARE(int64_t(e.ids[size_t(e.maxPos)]), plantedToken(j));
            for (size_t t = 0; t < e.ids.size(); ++t) {
                const int p = e.start + int(t);
                const float expected
                    = e.ids[t] == plantedToken(j) && p > 0 ? 1.0f + 0.01f * float(p) : 0.0f;
                QVERIFY2(std::abs(e.activations[t] - expected) < 2e-3f,
                    qPrintable(QString("feature %1 example %2 token %3").arg(j).arg(i).arg(t)));
            }
        }

        // Quantile bands: equal-count bands whose counts add up; samples inside their band.
        QVERIFY(!d->bands.empty());
        int64_t bandTotal = 0;
        for (const auto &b : d->bands)
            bandTotal += b.count;
        QCOMPARE(bandTotal, d->count);
        std::map<int, int> perBand;
        for (const auto &e : d->quantiles) {
            QVERIFY(e.band >= 0 && e.band < int(d->bands.size()));
            const auto &b = d->bands[size_t(e.band)];
            QVERIFY2(e.value >= b.lo - 1e-5f && e.value <= b.hi + 1e-5f,
                qPrintable(QString("feature %1 sample %2 outside [%3, %4]")
                               .arg(j)
                               .arg(e.value)
                               .arg(b.lo)
                               .arg(b.hi)));
            QCOMPARE(int64_t(e.ids[size_t(e.maxPos)]), plantedToken(j));
            QVERIFY(std::abs(e.value - (1.0f + 0.01f * float(e.start + e.maxPos))) < 1e-5);
            QVERIFY(++perBand[e.band] <= 5);
        }
        // With at least 5 occurrences per band and a 100-token sample of them, bands get samples.
        QVERIFY(!d->quantiles.empty());

        // Logit effects: the decoder direction e_{t_j} through the tied unembedding.
        QCOMPARE(int64_t(d->logitTop.at(0).first), plantedToken(j));
        QCOMPARE(int64_t(d->foldedLogitTop.at(0).first), plantedToken(j));
        QVERIFY(std::abs(d->logitTop.at(0).second - 1.0f) < 1e-6);
    }
    auto table = store::loadFeatureTable(**db, indexId);
    QVERIFY(table.ok());
    QCOMPARE(table->size(), size_t(kFeatures));
    QCOMPARE((*db)->queryText("PRAGMA integrity_check").value(), std::string("ok"));
}

void TestIndexer::multiSaeEqualsSingle()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    const sae::Sae a = randomSae("blocks.0.hook_resid_post", 32, 48, sae::Architecture::Relu, 1);
    const sae::Sae b
        = randomSae("blocks.1.hook_resid_post", 32, 40, sae::Architecture::JumpRelu, 2);
    const corpus::Corpus corpus = randomCorpus(40, 24, 96, 95, 5);
    auto index
        = [&](const std::string &db, std::vector<const sae::Sae *> saes, jobs::Progress *progress) {
              auto opened = store::Database::open(db);
              index::IndexInputs in;
              in.decoder = decoder->get();
              in.modelFingerprint = "gpt2-fixture";
              in.corpus = &corpus;
              in.corpusLabel = "random";
              for (const auto *s : saes)
                  in.saes.push_back({ s, s->config().hookName });
              index::IndexOptions o;
              o.batchContexts = 4;
              o.commitEveryBatches = 1;
              o.specialTokens = { 95 };
              return index::indexCorpus(**opened, in, o, progress);
          };
    auto both = index(path("both.fsdb"), { &a, &b }, nullptr);
    QVERIFY2(both.ok(), both.ok() ? "" : both.errorMessage().c_str());
    QCOMPARE(both->batchesRun, int64_t(10));
    auto onlyA = index(path("a.fsdb"), { &a }, nullptr);
    auto onlyB = index(path("b.fsdb"), { &b }, nullptr);
    QVERIFY(onlyA.ok() && onlyB.ok());
    auto dbBoth = store::Database::open(path("both.fsdb"));
    auto dbA = store::Database::open(path("a.fsdb"));
    auto dbB = store::Database::open(path("b.fsdb"));
    const QString dumpA = dumpIndex(**dbBoth, both->indexIds[0]),
                  dumpB = dumpIndex(**dbBoth, both->indexIds[1]);
    QVERIFY(dumpA.count('\n') > 48 * 3);
    // Both SAEs fire (the comparison is not between empty indexes).
    for (int64_t id : both->indexIds)
        QVERIFY(std::stoi((*dbBoth)
                              ->queryText("SELECT count(*) FROM examples WHERE index_id = "
                                  + std::to_string(id))
                              .value())
            > 100);
    QCOMPARE(dumpIndex(**dbA, onlyA->indexIds[0]), dumpA);
    QCOMPARE(dumpIndex(**dbB, onlyB->indexIds[0]), dumpB);

    // The same request again: served from the cache, no forward at all.
    auto again = index(path("both.fsdb"), { &a, &b }, nullptr);
    QVERIFY(again.ok());
    QCOMPARE(again->batchesRun, int64_t(0));
    QVERIFY(!again->computed[0] && !again->computed[1]);
    QCOMPARE(again->indexIds, both->indexIds);
}

void TestIndexer::storedTablesEqualDefinition()
{
    // What multiSaeEqualsSingle stored, against the accumulator's definition fed the same
    // activations and written by the same store call: every table equal, means included.
    TwoSaeRequest req;
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    req.decoder = std::move(decoder).value();
    auto stored = store::Database::open(path("both.fsdb"));
    QVERIFY(stored.ok());
    auto ids = store::listIndexes(**stored);
    QVERIFY(ids.ok() && ids->size() == 2);
    QVERIFY((*stored)->exec("VACUUM INTO '" + path("definition.fsdb") + "'").ok());
    auto def = store::Database::open(path("definition.fsdb"));
    QVERIFY(def.ok());

    const int64_t T = req.corpus.contextLength, B = 4;
    const sae::Sae *saes[] = { &req.a, &req.b };
    for (int i = 0; i < 2; ++i) {
        const sae::Sae &sae = *saes[i];
        const int64_t id = (*ids)[size_t(1 - i)].id; // newest first
        for (const char *table : { "feature_stats", "histograms", "quantile_bands", "examples" })
            QVERIFY((*def)
                        ->exec(std::string("DELETE FROM ") + table
                            + " WHERE index_id = " + std::to_string(id))
                        .ok());
        fscope::test::ReferenceAccumulator reference(sae.config().dSae, T, {});
        for (int64_t c0 = 0; c0 < req.corpus.contexts(); c0 += B) {
            const int64_t n = std::min(B, req.corpus.contexts() - c0);
            at::Tensor tokens = at::empty({ n, T }, at::kLong);
            std::vector<uint8_t> counted;
            for (int64_t k = 0; k < n * T; ++k) {
                tokens.data_ptr<int64_t>()[k] = req.corpus.context(c0)[k];
                counted.push_back(req.corpus.context(c0)[k] == 95 ? 0 : 1);
            }
            model::ForwardOptions fo;
            fo.capture = { sae.config().hookName };
            fo.computeLogits = false;
            auto r = req.decoder->forward({ tokens }, fo);
            QVERIFY(r.ok());
            reference.add(
                sae.encode(r->activations.at(sae.config().hookName).reshape({ n * T, -1 })), c0,
                counted);
        }
        QVERIFY(store::writeIndexResults(**def, id, reference.state()).ok());
        const QString want = dumpIndex(**def, id);
        QVERIFY(want.count('\n') > 40 * 3);
        QCOMPARE(dumpIndex(**stored, id), want);
    }
}

void TestIndexer::outOfMemoryHalvesTheBatch()
{
    // A forward at another batch size rounds differently in BLAS, so each run is compared with
    // an uninterrupted run that does its forwards at the size the back-off settles on.
    TwoSaeRequest req;
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    req.decoder = std::move(decoder).value();
    auto run = [&](const char *name, int64_t batch, auto fault) {
        auto db = store::Database::open(path(name));
        index::IndexOptions o = TwoSaeRequest::options();
        o.batchContexts = batch;
        o.faultInjection = fault;
        return std::make_pair(std::move(db).value(), index::indexCorpus(**db, req.inputs(), o));
    };
    auto oom = [] {
        throw c10::OutOfMemoryError(
            { __func__, __FILE__, uint32_t(__LINE__) }, "CUDA out of memory (simulated)");
    };
    auto tokens = [](store::Database &db, int64_t id) {
        return db.queryText("SELECT tokens FROM feature_indexes WHERE id = " + std::to_string(id))
            .value();
    };

    // The forward of the first batch fits one context at a time: 4 -> 2 -> 1, then the whole run
    // goes on one context per forward, under the key of the requested batch of 4.
    int64_t refused = 0;
    auto [db, halved] = run("oom.fsdb", 4, [&](const std::string &stage, int64_t first, int64_t n) {
        if (stage == "forward" && first < 4 && n > 1) {
            ++refused;
            oom();
        }
    });
    QVERIFY2(halved.ok(), halved.ok() ? "" : halved.errorMessage().c_str());
    QCOMPARE(refused, int64_t(2));
    QCOMPARE(halved->batchContexts, int64_t(4));
    QCOMPARE(halved->forwardContexts, int64_t(1));
    QCOMPARE(halved->notes.size(), size_t(2));
    QVERIFY2(QString::fromStdString(halved->notes[1]).contains("continuing with 1 contexts"),
        halved->notes[1].c_str());
    QCOMPARE(db->queryText("PRAGMA integrity_check").value(), std::string("ok"));
    auto [ones, single] = run("batch1.fsdb", 1, nullptr);
    QVERIFY(single.ok());
    for (size_t i = 0; i < 2; ++i)
        QCOMPARE(dumpIndex(*db, halved->indexIds[i]), dumpIndex(*ones, single->indexIds[i]));

    // The second SAE's encode runs out after the first SAE has added the batch: the first is not
    // fed those contexts again, the second catches up on its own.
    const std::string second = "encode " + req.b.config().hookName;
    auto [mixedDb, mixed]
        = run("oom-encode.fsdb", 4, [&](const std::string &stage, int64_t first, int64_t n) {
              if (stage == second && first == 0 && n > 2)
                  oom();
          });
    QVERIFY2(mixed.ok(), mixed.ok() ? "" : mixed.errorMessage().c_str());
    QCOMPARE(mixed->forwardContexts, int64_t(2));
    auto [twos, pairs] = run("batch2.fsdb", 2, nullptr);
    QVERIFY(pairs.ok());
    QCOMPARE(dumpIndex(*mixedDb, mixed->indexIds[1]), dumpIndex(*twos, pairs->indexIds[1]));
    QCOMPARE(tokens(*mixedDb, mixed->indexIds[0]), tokens(*twos, pairs->indexIds[0]));
    QCOMPARE(mixedDb
                 ->queryText("SELECT sum(count) FROM feature_stats WHERE index_id = "
                     + std::to_string(mixed->indexIds[0]))
                 .value(),
        twos->queryText("SELECT sum(count) FROM feature_stats WHERE index_id = "
                + std::to_string(pairs->indexIds[0]))
            .value());

    // A device that cannot hold even one context: a clear error, not a crash.
    auto [fullDb, failed]
        = run("oom-full.fsdb", 4, [&](const std::string &, int64_t, int64_t) { oom(); });
    QVERIFY(!failed.ok());
    QVERIFY2(QString::fromStdString(failed.errorMessage()).contains("single context"),
        failed.errorMessage().c_str());
    QVERIFY(QString::fromStdString(failed.errorMessage()).contains("blocks.1.hook_resid_post"));
}

void TestIndexer::cancelledRunResumesExactly()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    const sae::Sae a = randomSae("blocks.0.hook_resid_post", 32, 48, sae::Architecture::Relu, 1);
    const sae::Sae b
        = randomSae("blocks.1.hook_resid_post", 32, 40, sae::Architecture::JumpRelu, 2);
    const corpus::Corpus corpus = randomCorpus(40, 24, 96, 95, 5);
    const int stopBatch = 1 + int(QRandomGenerator::global()->bounded(8));
    qInfo("cancelling after batch %d of 10", stopBatch);
    auto opened = store::Database::open(path("cancel.fsdb"));
    index::IndexInputs in;
    in.decoder = decoder->get();
    in.modelFingerprint = "gpt2-fixture";
    in.corpus = &corpus;
    in.corpusLabel = "random";
    in.saes = { { &a, a.config().hookName }, { &b, b.config().hookName } };
    index::IndexOptions o;
    o.batchContexts = 4;
    o.commitEveryBatches = 1;
    o.specialTokens = { 95 };
    CancelAt cancel(int64_t(stopBatch) * 4 * 24);
    auto first = index::indexCorpus(**opened, in, o, &cancel);
    QVERIFY(!first.ok());
    QVERIFY2(QString::fromStdString(first.errorMessage()).contains("cancelled"),
        first.errorMessage().c_str());
    QCOMPARE(
        (*opened)->queryText("SELECT count(*) FROM feature_indexes WHERE status = 'done'").value(),
        std::string("0"));
    QCOMPARE((*opened)->queryText("SELECT min(next_batch) FROM index_checkpoints").value(),
        std::to_string(stopBatch));

    auto resumed = index::indexCorpus(**opened, in, o, nullptr);
    QVERIFY2(resumed.ok(), resumed.ok() ? "" : resumed.errorMessage().c_str());
    QCOMPARE(resumed->batchesRun, int64_t(10 - stopBatch));
    QCOMPARE((*opened)->queryText("PRAGMA integrity_check").value(), std::string("ok"));
    QCOMPARE(
        (*opened)->queryText("SELECT count(*) FROM index_checkpoints").value(), std::string("0"));

    // The uninterrupted run of the same request (multiSaeEqualsSingle wrote it).
    auto reference = store::Database::open(path("both.fsdb"));
    QVERIFY(reference.ok());
    auto refIds = store::listIndexes(**reference);
    QVERIFY(refIds.ok() && refIds->size() == 2);
    for (size_t i = 0; i < 2; ++i) {
        const int64_t refId = (*refIds)[1 - i].id; // newest first
        QCOMPARE(dumpIndex(**opened, resumed->indexIds[i]), dumpIndex(**reference, refId));
    }
}

void TestIndexer::killedProcessResumesExactly()
{
    // A real model directory with GPT-2's tokenizer, an SAE on disk and a text corpus, indexed by
    // the CLI, killed (SIGKILL) after a checkpoint, then run again to the end.
    model::Gpt2Shape shape { 50257, 32, 2, 4, 64, 50256 };
    const std::string modelDir = path("cli-model");
    QVERIFY(model::writeRandomGpt2(modelDir, shape, 9).ok());
    for (const char *f : { "vocab.json", "merges.txt" })
        std::filesystem::copy_file(fixture(QString("tokenizers/gpt2/") + f), modelDir + "/" + f);
    // The random model's residual stream is small (weights ~ 0.02): no bias, so features fire.
    const sae::Sae sae
        = randomSae("blocks.1.hook_resid_post", 32, 64, sae::Architecture::Relu, 4, 0.0);
    QVERIFY(sae::saveSaeLens(sae, path("cli-sae")).ok());
    {
        std::ofstream text(path("corpus.txt"));
        const char *words[] = { "the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far",
            "away", "from", "home", "today" };
        uint64_t s = 3;
        for (int line = 0; line < 4000; ++line) {
            for (int w = 0; w < 12; ++w) {
                s = corpus::mix64(s);
                text << words[s % 14] << (w == 11 ? ".\n" : " ");
            }
        }
    }
    auto args = [&](const char *out) {
        return QStringList { "index", "--model", QString::fromStdString(modelDir), "--sae",
            QString::fromStdString(path("cli-sae")), "--corpus",
            QString::fromStdString(path("corpus.txt")), "--tokens", "48k", "--context", "32",
            "--batch-size", "1", "--commit-every", "1", "--out",
            QString::fromStdString(path(out)) };
    };
    QProcess reference;
    reference.start(QStringLiteral(FEATURESCOPE_CLI), args("cli-reference.fsdb"));
    QVERIFY(reference.waitForFinished(180000));
    QVERIFY2(reference.exitCode() == 0, reference.readAllStandardError().constData());

    QProcess victim;
    victim.start(QStringLiteral(FEATURESCOPE_CLI), args("cli-killed.fsdb"));
    QVERIFY(victim.waitForStarted());
    // Wait for the first checkpoints, then a random moment later, and kill.
    bool checkpointed = false;
    for (int i = 0; i < 3000 && !checkpointed && victim.state() == QProcess::Running; ++i) {
        QTest::qWait(10);
        if (auto db = store::Database::open(path("cli-killed.fsdb")); db.ok()) {
            auto n = (*db)->queryText("SELECT count(*) FROM index_checkpoints");
            checkpointed = n.ok() && *n != "0";
        }
    }
    QVERIFY2(checkpointed, "the run finished or failed before its first checkpoint");
    QTest::qWait(int(QRandomGenerator::global()->bounded(300)));
    victim.kill();
    QVERIFY(victim.waitForFinished(10000));
    QCOMPARE(victim.exitStatus(), QProcess::CrashExit);
    {
        auto db = store::Database::open(path("cli-killed.fsdb"));
        QVERIFY(db.ok());
        QCOMPARE((*db)->queryText("PRAGMA integrity_check").value(), std::string("ok"));
        QCOMPARE(
            (*db)->queryText("SELECT status FROM feature_indexes").value(), std::string("running"));
        qInfo("killed at checkpoint batch %s",
            (*db)->queryText("SELECT next_batch FROM index_checkpoints").value().c_str());
    }

    QProcess resume;
    resume.start(QStringLiteral(FEATURESCOPE_CLI), args("cli-killed.fsdb") << "--json");
    QVERIFY(resume.waitForFinished(180000));
    QVERIFY2(resume.exitCode() == 0, resume.readAllStandardError().constData());
    const auto json = QJsonDocument::fromJson(resume.readAllStandardOutput()).object();
    QVERIFY(json["batches_run"].toInt() < 1500);
    QVERIFY(json["corpus_cached"].toBool());

    auto killed = store::Database::open(path("cli-killed.fsdb"));
    auto ref = store::Database::open(path("cli-reference.fsdb"));
    QVERIFY(killed.ok() && ref.ok());
    QCOMPARE((*killed)->queryText("PRAGMA integrity_check").value(), std::string("ok"));
    const QString expected = dumpIndex(**ref, 1);
    QVERIFY(expected.count('\n') > 64);
    QVERIFY(std::stoi((*ref)->queryText("SELECT count(*) FROM examples").value()) > 1000);
    QCOMPARE(dumpIndex(**killed, 1), expected);

    // The stable interface of `feature --json` on the most active feature.
    const std::string busiest
        = (*killed)
              ->queryText("SELECT feature FROM feature_stats ORDER BY count DESC LIMIT 1")
              .value();
    QProcess feature;
    feature.start(QStringLiteral(FEATURESCOPE_CLI),
        { "feature", QString::fromStdString(path("cli-killed.fsdb")), "--sae",
            QString::fromStdString(path("cli-sae")), "--id", QString::fromStdString(busiest),
            "--json" });
    QVERIFY(feature.waitForFinished(60000));
    QVERIFY2(feature.exitCode() == 0, feature.readAllStandardError().constData());
    const QByteArray output = feature.readAllStandardOutput();
    const auto f = QJsonDocument::fromJson(output).object();
    const qint64 count = f["count"].toInteger();
    QVERIFY2(count > 0, output.left(2000).constData());
    QVERIFY(f["density"].toDouble() > 0 && f["density"].toDouble() <= 1);
    const auto counts = f["histogram"].toObject()["counts"].toArray();
    QCOMPARE(f["histogram"].toObject()["edges"].toArray().size(), counts.size() + 1);
    qint64 sum = 0;
    for (const auto &c : counts)
        sum += c.toInteger();
    QCOMPARE(sum, count);
    QCOMPARE(f["logits"].toObject()["top"].toArray().size(), 10);
    QVERIFY(f["logits"].toObject()["top"].toArray()[0].toArray()[0].isString());
    const auto examples = f["examples"].toArray();
    QVERIFY(!examples.isEmpty());
    double previous = 1e30;
    for (const auto &e : examples) {
        const auto o = e.toObject();
        const auto acts = o["activations"].toArray();
        QCOMPARE(o["ids"].toArray().size(), acts.size());
        const double top = acts[o["max_pos"].toInt()].toDouble();
        QVERIFY(std::abs(top - o["value"].toDouble()) <= 1e-3 * std::max(1.0, top));
        QVERIFY(o["value"].toDouble() <= previous);
        QVERIFY(std::abs(f["max"].toDouble() - examples[0].toObject()["value"].toDouble()) < 1e-6);
        previous = o["value"].toDouble();
    }
    // A bad id and an unknown SAE are clear errors.
    feature.start(QStringLiteral(FEATURESCOPE_CLI),
        { "feature", QString::fromStdString(path("cli-killed.fsdb")), "--sae",
            QString::fromStdString(path("cli-sae")), "--id", "64" });
    QVERIFY(feature.waitForFinished(60000));
    QCOMPARE(feature.exitCode(), 1);
    QVERIFY(feature.readAllStandardError().contains("out of range"));
    feature.start(QStringLiteral(FEATURESCOPE_CLI),
        { "feature", QString::fromStdString(path("cli-killed.fsdb")), "--sae", "nope", "--id",
            "0" });
    QVERIFY(feature.waitForFinished(60000));
    QVERIFY(feature.readAllStandardError().contains("no finished index for SAE 'nope'"));
}

void TestIndexer::saeDirIndexesEveryLayer()
{
    // A release laid out like Gemma Scope (layer_N/width/variant), with a stray folder: `index
    // --sae-dir` finds both layers, in layer order, and indexes them in one pass exactly as
    // `--sae A --sae B` does.
    const std::string release = path("release");
    const sae::Sae l0
        = randomSae("blocks.0.hook_resid_post", 32, 24, sae::Architecture::Relu, 6, 0);
    const sae::Sae l1
        = randomSae("blocks.1.hook_resid_post", 32, 16, sae::Architecture::Relu, 7, 0);
    QVERIFY(sae::saveSaeLens(l1, release + "/layer_1/width_16/variant").ok());
    QVERIFY(sae::saveSaeLens(l0, release + "/layer_0/width_24/variant").ok());
    std::filesystem::create_directories(release + "/notes");
    auto found = sae::findSaes(release);
    QVERIFY2(found.ok(), found.ok() ? "" : found.errorMessage().c_str());
    QCOMPARE(found->size(), size_t(2));
    QVERIFY(QString::fromStdString(found->at(0)).contains("layer_0"));
    auto none = sae::findSaes(release + "/notes");
    QVERIFY(!none.ok());
    QVERIFY(QString::fromStdString(none.errorMessage()).contains("notes"));

    auto index = [&](QStringList saes, const char *out) {
        QProcess cli;
        cli.start(QStringLiteral(FEATURESCOPE_CLI),
            QStringList { "index", "--model", QString::fromStdString(path("cli-model")), "--corpus",
                QString::fromStdString(path("corpus.txt")), "--tokens", "4k", "--context", "32",
                "--batch-size", "auto", "--out", QString::fromStdString(path(out)), "--json" }
                << saes);
        cli.waitForFinished(180000);
        if (cli.exitCode() != 0)
            qWarning("%s", cli.readAllStandardError().constData());
        return QJsonDocument::fromJson(cli.readAllStandardOutput()).object();
    };
    const QJsonObject dir = index({ "--sae-dir", QString::fromStdString(release) }, "dir.fsdb");
    const QJsonArray indexes = dir["indexes"].toArray();
    QCOMPARE(indexes.size(), 2);
    QVERIFY(indexes[0].toObject()["sae"].toString().contains("layer_0/width_24/variant"));
    QVERIFY(indexes[1].toObject()["sae"].toString().contains("blocks.1.hook_resid_post"));
    QCOMPARE(dir["batch_contexts"].toInt(), 8); // auto on a CPU
    QVERIFY(indexes[0].toObject()["state_mib"].toDouble() > 0);
    const QJsonObject pair = index({ "--sae", QString::fromStdString(found->at(0)), "--sae",
                                       QString::fromStdString(found->at(1)) },
        "pair.fsdb");
    QCOMPARE(pair["indexes"].toArray().size(), 2);
    auto a = store::Database::open(path("dir.fsdb")), b = store::Database::open(path("pair.fsdb"));
    QVERIFY(a.ok() && b.ok());
    for (int i = 0; i < 2; ++i) {
        const QString dump = dumpIndex(**a, indexes[i].toObject()["id"].toInt());
        QVERIFY(dump.count('\n') > 16);
        QCOMPARE(dumpIndex(**b, pair["indexes"].toArray()[i].toObject()["id"].toInt()), dump);
    }
}

void TestIndexer::labelsAreSearchable()
{
    auto db = store::Database::open(path("planted.fsdb"));
    QVERIFY(db.ok());
    auto indexes = store::listIndexes(**db);
    QVERIFY(indexes.ok() && !indexes->empty());
    const int64_t sae = indexes->front().saeId;
    QVERIFY(store::setLabel(**db, sae, 2, "French words", "fires on \"le\" and \"la\"").ok());
    QVERIFY(store::setLabel(**db, sae, 4, "closing brackets", "").ok());
    QCOMPARE(store::searchLabels(**db, sae, "fren").value(), std::vector<int64_t> { 2 });
    QCOMPARE(store::searchLabels(**db, sae, "brack").value(), std::vector<int64_t> { 4 });
    QCOMPARE(store::searchLabels(**db, sae, "\"la\" fires(").value(),
        std::vector<int64_t> { 2 }); // no FTS syntax leaks
    QVERIFY(store::setLabel(**db, sae, 2, "Romance articles", "").ok());
    QVERIFY(store::searchLabels(**db, sae, "french").value().empty());
    auto d = store::loadFeatureDashboard(**db, indexes->front().id, 2);
    QVERIFY(d.ok());
    QCOMPARE(d->label, std::string("Romance articles"));
}

QTEST_GUILESS_MAIN(TestIndexer)
#include "tst_indexer.moc"
