// One definition per metric (docs/metrics.md): each statistic against numpy computing its
// cited definition; special tokens (separators inside contexts) excluded the same way by
// `sae eval`, SAE Match's evaluation and the indexer; and the demo case where SAE Match's
// "SAE B reconstruction" must equal `sae eval` on the same contexts.

#include "core/demo/demo_paths.h"
#include "core/index/index_job.h"
#include "core/match/match_evaluation.h"
#include "core/metrics/metrics.h"
#include "core/model/decoder.h"
#include "core/model/synthetic_model.h"
#include "core/sae/sae_io.h"
#include "core/sae/sae_metrics.h"
#include "core/store/index_store.h"
#include "core/tokenize/tokenizer.h"
#include "tests/support/testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

using namespace fscope::core;

namespace {

void writeArray(const QString &dir, const char *name, const at::Tensor &t, QJsonObject &meta)
{
    const at::Tensor c = t.to(at::kDouble).contiguous();
    std::ofstream out((dir + "/" + name + ".bin").toStdString(), std::ios::binary);
    out.write(static_cast<const char *>(c.data_ptr()), static_cast<std::streamsize>(c.nbytes()));
    QJsonArray shape;
    for (int64_t s : c.sizes())
        shape.append(qint64(s));
    meta[name] = shape;
}

QJsonObject runJson(const QString &program, const QStringList &args, QString *log)
{
    QProcess p;
    p.start(program, args);
    if (!p.waitForFinished(300000) || p.exitCode() != 0) {
        *log = QString::fromUtf8(p.readAllStandardError());
        return {};
    }
    const QByteArray out = p.readAllStandardOutput();
    return QJsonDocument::fromJson(out.mid(std::max<qsizetype>(0, out.indexOf('{')))).object();
}

bool close(double a, double b, double tol)
{
    return std::abs(a - b) <= tol * std::max(1.0, std::abs(b));
}

// A GPT-2-shaped 1-layer model on GPT-2's tokenizer whose separator (<|endoftext|>, BOS and
// document separator) embeds with 100x the norm of any other token, and two SAEs on its
// residual stream that agree everywhere except on that huge-norm input: the second has one
// feature that fires only there and decodes to garbage.
struct Separated {
    std::string modelDir, clean, garbage;
    int64_t separator = 50256;
};

Separated writeSeparated(const std::string &dir)
{
    Separated s;
    s.modelDir = dir + "/sep-model";
    std::filesystem::create_directories(s.modelDir);
    for (const char *f : { "vocab.json", "merges.txt" })
        std::filesystem::copy_file(fscope::test::fixture(QString("tokenizers/gpt2/") + f),
            s.modelDir + "/" + f, std::filesystem::copy_options::overwrite_existing);
    const int64_t d = 32;
    at::manual_seed(11);
    at::Tensor wte = at::randn({ 50257, d }) * 0.02;
    const double typical = wte.norm(2, 1).mean().item<double>();
    at::Tensor u = at::zeros({ d });
    u[d - 1] = 1.0;
    wte.select(1, d - 1).zero_();
    wte[s.separator] = u * (100.0 * typical);
    if (!model::writeRandomGpt2(
            s.modelDir, { 50257, d, 1, 4, 128, s.separator }, 3, { { "wte.weight", wte } })
             .ok())
        return {};
    auto sae = [&](bool garbage) {
        sae::SaeConfig cfg;
        cfg.architecture = sae::Architecture::Relu;
        cfg.dIn = d;
        cfg.dSae = 2 * d;
        cfg.hookName = "blocks.0.hook_resid_pre";
        sae::SaeWeights w;
        at::manual_seed(13);
        w.W_enc = at::randn({ d, 2 * d }) * 0.3;
        w.W_enc.select(0, d - 1).zero_();
        w.b_enc = at::full({ 2 * d }, -0.01);
        w.W_dec = at::randn({ 2 * d, d }) * 0.05;
        w.b_dec = at::zeros({ d });
        // Feature 0 reads only the separator direction: off everywhere in the clean SAE; in
        // the other one it fires on the separator alone and writes a huge, wrong vector.
        w.W_enc.select(1, 0).zero_();
        w.b_enc[0] = -1.0;
        if (garbage) {
            w.W_enc[d - 1][0] = 1.0;
            w.W_dec[0] = at::randn({ d }) * 50.0;
        }
        return sae::Sae(cfg, w);
    };
    s.clean = dir + "/sep-sae-clean";
    s.garbage = dir + "/sep-sae-garbage";
    if (!sae::saveSaeLens(sae(false), s.clean).ok() || !sae::saveSaeLens(sae(true), s.garbage).ok())
        return {};
    return s;
}

void writeSeparatedCorpus(const std::string &path)
{
    const char *words[] = { " the", " cat", " sat", " on", " a", " mat", " and", " then", " it",
        " ran", " far", " away" };
    std::ofstream out(path);
    unsigned x = 1;
    for (int line = 0; line < 200; ++line) { // short documents: several separators per context
        out << "Once";
        for (int i = 0; i < 3 + line % 7; ++i) {
            x = x * 1664525u + 1013904223u;
            out << words[(x >> 8) % 12];
        }
        out << ".\n";
    }
}

} // namespace

class TestMetrics : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void definitionsAgreeWithNumpy();
    void specialPositionsChangeNothing();
    void separatorsExcludedEverywhere();
    void demoMatchAgreesWithSaeEval();
};

void TestMetrics::definitionsAgreeWithNumpy()
{
    at::manual_seed(3);
    const int64_t B = 3, T = 10, d = 8, F = 12, V = 7;
    at::Tensor ids = at::randint(0, V - 1, { B, T }, at::kLong);
    ids.select(1, 0).fill_(V - 1); // BOS
    ids[1][4] = V - 1; // a separator inside a context
    ids[2][7] = V - 1;
    const std::set<int64_t> special = { V - 1 };
    const at::Tensor x = at::randn({ B, T, d }, at::kDouble) + 0.3;
    const at::Tensor xhat = x + at::randn({ B, T, d }, at::kDouble) * 0.4;
    const at::Tensor code = at::relu(at::randn({ B, T, F }, at::kDouble) - 0.5);
    const at::Tensor clean = at::randn({ B, T, V }, at::kDouble),
                     withSae = clean + at::randn({ B, T, V }, at::kDouble) * 0.3,
                     zero = at::randn({ B, T, V }, at::kDouble);
    const at::Tensor activeA = at::randn({ B, T, F }) > 0.2, activeB = at::randn({ B, T, F }) > 0.0;
    const at::Tensor v = at::randn({ d }, at::kDouble),
                     vhat = v * 0.8 + at::randn({ d }, at::kDouble) * 0.2;

    const at::Tensor counted = metrics::countedTokens(ids, special);
    metrics::ReconstructionStats recon;
    recon.add(x.slice(0, 0, 2), xhat.slice(0, 0, 2), counted.slice(0, 0, 2),
        code.slice(0, 0, 2)); // two batches
    recon.add(x.slice(0, 2), xhat.slice(0, 2), counted.slice(0, 2), code.slice(0, 2));
    const metrics::NextToken c = metrics::nextToken(clean, ids);
    metrics::NextTokenStats sae, zeroStats;
    sae.add(c, metrics::nextToken(withSae, ids), metrics::countedPredictions(counted));
    zeroStats.add(c, metrics::nextToken(zero, ids), metrics::countedPredictions(counted));

    QTemporaryDir dir;
    QJsonObject meta;
    writeArray(dir.path(), "x", x, meta);
    writeArray(dir.path(), "xhat", xhat, meta);
    writeArray(dir.path(), "code", code, meta);
    writeArray(dir.path(), "ids", ids, meta);
    writeArray(dir.path(), "logits_clean", clean, meta);
    writeArray(dir.path(), "logits_sae", withSae, meta);
    writeArray(dir.path(), "logits_zero", zero, meta);
    writeArray(dir.path(), "active_a", activeA, meta);
    writeArray(dir.path(), "active_b", activeB, meta);
    writeArray(dir.path(), "v", v, meta);
    writeArray(dir.path(), "vhat", vhat, meta);
    meta["special"] = QJsonArray { qint64(V - 1) };
    fscope::test::writeFile(
        (dir.path() + "/meta.json").toStdString(), QJsonDocument(meta).toJson().toStdString());
    QString log;
    const QJsonObject ref = runJson("/usr/bin/python3",
        { QString::fromStdString(
              std::string(FEATURESCOPE_SOURCE_DIR) + "/tests/core/metrics/reference.py"),
            dir.path() },
        &log);
    QVERIFY2(!ref.isEmpty(), qPrintable(log));

    QCOMPARE(recon.tokens(), qint64(ref["tokens"].toInteger()));
    QCOMPARE(recon.tokens(), B * T - 5); // three BOS and two separators left out
    const std::vector<std::pair<const char *, double>> ours = {
        { "l0", recon.l0() },
        { "mse", recon.mse() },
        { "explained_variance", recon.explainedVariance() },
        { "cosine", recon.cosine() },
        { "ce_clean", sae.cleanCe() },
        { "ce_with_sae", sae.patchedCe() },
        { "ce_zero_ablation", zeroStats.patchedCe() },
        { "ce_loss_recovered",
            metrics::ceLossRecovered(sae.cleanCe(), sae.patchedCe(), zeroStats.patchedCe()) },
        { "kl_with_sae", sae.kl() },
        { "kl_div_score", metrics::klDivScore(sae.kl(), zeroStats.kl()) },
        { "matching_score", metrics::matchingScore(activeA, activeB, counted) },
        { "fve", metrics::fractionOfVarianceExplained(v, vhat) },
        { "vector_cosine", metrics::cosineSimilarity(v, vhat) },
    };
    for (const auto &[name, value] : ours)
        QVERIFY2(close(value, ref[name].toDouble(), 1e-9),
            qPrintable(QString("%1: %2 vs numpy %3")
                           .arg(name)
                           .arg(value, 0, 'g', 12)
                           .arg(ref[name].toDouble(), 0, 'g', 12)));
    QCOMPARE(sae.predictions(), qint64(ref["predictions"].toInteger()));
    const at::Tensor density = metrics::density(recon.featureCounts(), recon.tokens());
    const QJsonArray refDensity = ref["density"].toArray();
    QCOMPARE(density.size(0), qint64(refDensity.size()));
    for (int64_t j = 0; j < F; ++j)
        QVERIFY(close(density[j].item<double>(), refDensity[int(j)].toDouble(), 1e-12));
}

void TestMetrics::specialPositionsChangeNothing()
{
    at::manual_seed(4);
    const int64_t B = 2, T = 9, d = 6, V = 5;
    at::Tensor ids = at::randint(0, V - 1, { B, T }, at::kLong);
    ids.select(1, 0).fill_(V - 1);
    ids[0][5] = V - 1;
    const at::Tensor counted = metrics::countedTokens(ids, { V - 1 });
    const at::Tensor special = counted.logical_not().unsqueeze(-1);
    const at::Tensor x = at::randn({ B, T, d }, at::kDouble),
                     xhat = x + 0.1 * at::randn({ B, T, d }, at::kDouble);
    const at::Tensor logits = at::randn({ B, T, V }, at::kDouble),
                     patched = logits + 0.2 * at::randn({ B, T, V }, at::kDouble);
    // Separator positions 100x larger and reconstructed badly.
    const at::Tensor xLoud = at::where(special, x * 100, x),
                     xhatLoud = at::where(special, -xhat * 100, xhat);
    const at::Tensor patchedLoud = at::where(special, patched * 50, patched);
    metrics::ReconstructionStats a, b;
    a.add(x, xhat, counted, xhat);
    b.add(xLoud, xhatLoud, counted, xhatLoud);
    QCOMPARE(a.explainedVariance(), b.explainedVariance());
    QCOMPARE(a.mse(), b.mse());
    QCOMPARE(a.cosine(), b.cosine());
    QCOMPARE(a.l0(), b.l0());
    metrics::NextTokenStats na, nb;
    const auto clean = metrics::nextToken(logits, ids);
    na.add(clean, metrics::nextToken(patched, ids), metrics::countedPredictions(counted));
    nb.add(clean, metrics::nextToken(patchedLoud, ids), metrics::countedPredictions(counted));
    QCOMPARE(na.deltaCe(), nb.deltaCe());
    QCOMPARE(na.kl(), nb.kl());
    // Counting the separators would have changed the numbers: the check can fail.
    metrics::ReconstructionStats all;
    all.add(xLoud, xhatLoud, at::ones_like(counted));
    QVERIFY(std::abs(all.explainedVariance() - a.explainedVariance()) > 0.1);
}

void TestMetrics::separatorsExcludedEverywhere()
{
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString();
    const Separated s = writeSeparated(dir);
    QVERIFY(!s.modelDir.empty());
    const std::string corpus = dir + "/corpus.txt";
    writeSeparatedCorpus(corpus);

    // Core: sae eval's metrics and SAE Match's splice scores, clean SAE vs garbage-on-separators.
    auto decoder = model::Decoder::load(s.modelDir, { "cpu", "float32" });
    QVERIFY(decoder.ok());
    auto tokenizer = tokenize::loadTokenizer(s.modelDir);
    QVERIFY(tokenizer.ok());
    auto clean = sae::loadSae(s.clean, { "", "cpu" });
    auto garbage = sae::loadSae(s.garbage, { "", "cpu" });
    QVERIFY(clean.ok() && garbage.ok());
    corpus::CorpusSpec spec;
    spec.paths = { corpus };
    spec.contextLength = 32;
    spec.tokenBudget = 32 * 12;
    auto built = corpus::buildCorpus(spec, **tokenizer, "tok");
    QVERIFY(built.ok());
    std::vector<std::vector<int64_t>> contexts;
    for (int64_t i = 0; i < built->contexts(); ++i)
        contexts.emplace_back(built->context(i), built->context(i) + built->contextLength);
    const std::set<int64_t> special = corpus::specialTokens(**tokenizer);
    QVERIFY(special.count(s.separator));
    int64_t inner = 0;
    for (const auto &c : contexts)
        for (size_t t = 1; t < c.size(); ++t)
            inner += c[t] == s.separator;
    QVERIFY2(inner >= 12, "the corpus must put separators inside contexts");
    sae::EvalOptions eo;
    eo.specialTokens = special;
    auto mc = sae::evaluateSae(**decoder, *clean, contexts, eo);
    auto mg = sae::evaluateSae(**decoder, *garbage, contexts, eo);
    QVERIFY(mc.ok() && mg.ok());
    for (const auto &v : mc->values)
        QVERIFY2(close(mg->value(v.name), v.value, 1e-12),
            qPrintable(QString("sae eval %1: %2 vs %3")
                           .arg(v.name.c_str())
                           .arg(mg->value(v.name))
                           .arg(v.value)));

    const at::Tensor ids = at::tensor(std::vector<int64_t>(built->ids.begin(), built->ids.end()))
                               .reshape({ -1, 32 });
    std::vector<int64_t> identity(size_t(clean->config().dSae));
    for (size_t i = 0; i < identity.size(); ++i)
        identity[i] = int64_t(i);
    const std::vector<match::SpliceScheme> schemes
        = { { "identity", identity, match::SpliceScheme::Permute },
              { "B", {}, match::SpliceScheme::ReconstructB },
              { "skip", {}, match::SpliceScheme::SkipLayer } };
    auto ec = match::evaluateSplices(**decoder, *clean, *clean, ids, schemes, special);
    auto eg = match::evaluateSplices(**decoder, *clean, *garbage, ids, schemes, special);
    QVERIFY(ec.ok() && eg.ok());
    QCOMPARE(eg->baseCe, ec->baseCe);
    QCOMPARE(ec->states, mc->tokens); // the same positions as sae eval
    for (size_t k = 0; k < schemes.size(); ++k) {
        QVERIFY(close(eg->scores[k].explainedVariance, ec->scores[k].explainedVariance, 1e-12));
        QVERIFY(close(eg->scores[k].deltaCe, ec->scores[k].deltaCe, 1e-12));
        QVERIFY(close(eg->scores[k].kl, ec->scores[k].kl, 1e-12));
        QVERIFY(close(eg->scores[k].matchingScore, ec->scores[k].matchingScore, 1e-12));
    }
    // SAE B's reconstruction scores as sae eval scores it. The two run the model over the
    // contexts in different batch shapes, so float32 logits differ in their last bits (BLAS
    // blocking depends on the CPU's kernels: 2e-8 relative on one AMD EPYC); 1e-6 is the
    // float32 bound, while counting the separators moves these numbers by over 0.01 (below).
    QVERIFY(close(ec->scores[1].explainedVariance, mc->value("explained_variance"), 1e-6));
    QVERIFY2(close(ec->scores[1].deltaCe, mc->value("ce_with_sae") - mc->value("ce_clean"), 1e-6),
        qPrintable(QStringLiteral("match %1, sae eval %2 - %3")
                       .arg(ec->scores[1].deltaCe, 0, 'g', 17)
                       .arg(mc->value("ce_with_sae"), 0, 'g', 17)
                       .arg(mc->value("ce_clean"), 0, 'g', 17)));
    // Counting the separators (the old rule) makes the garbage SAE look different.
    auto loud = match::evaluateSplices(**decoder, *clean, *garbage, ids, schemes, {});
    QVERIFY(loud.ok());
    QVERIFY(std::abs(loud->scores[1].explainedVariance - ec->scores[1].explainedVariance) > 0.01);

    // Indexing: densities and maxima agree feature by feature.
    auto db = store::Database::open(dir + "/ws.fsdb");
    QVERIFY(db.ok());
    for (const std::string &saeDir : { s.clean, s.garbage }) {
        index::IndexRequest r;
        r.model = s.modelDir;
        r.device = "cpu";
        r.saes = { saeDir };
        r.corpus = spec;
        r.options.batchContexts = 4;
        auto job = index::runIndexJob(**db, r);
        QVERIFY2(job.ok(), job.ok() ? "" : job.errorMessage().c_str());
    }
    auto indexes = store::listIndexes(**db);
    QVERIFY(indexes.ok() && indexes->size() == 2);
    auto ta = store::loadFeatureTable(**db, (*indexes)[0].id);
    auto tb = store::loadFeatureTable(**db, (*indexes)[1].id);
    QVERIFY(ta.ok() && tb.ok());
    QCOMPARE(ta->density, tb->density);
    QCOMPARE(ta->max, tb->max);

    // The commands: sae eval and match report the same numbers for both SAEs.
    QString log;
    auto evalJson = [&](const std::string &sae) {
        return runJson(FEATURESCOPE_CLI,
            { "sae", "eval", "--model", QString::fromStdString(s.modelDir), "--sae",
                QString::fromStdString(sae), "--text", QString::fromStdString(corpus), "--context",
                "32", "--tokens", "384", "--json" },
            &log);
    };
    const QJsonObject cliClean = evalJson(s.clean), cliGarbage = evalJson(s.garbage);
    QVERIFY2(!cliClean.isEmpty() && !cliGarbage.isEmpty(), qPrintable(log));
    for (const QString &k : cliClean.keys())
        QVERIFY2(close(cliGarbage[k].toDouble(), cliClean[k].toDouble(), 1e-12), qPrintable(k));
    QVERIFY(
        close(cliClean["explained_variance"].toDouble(), mc->value("explained_variance"), 1e-9));
    auto matchJson = [&](const std::string &b) {
        return runJson(FEATURESCOPE_CLI,
            { "match", "--sae", QString::fromStdString(s.clean), "--sae", QString::fromStdString(b),
                "--model", QString::fromStdString(s.modelDir), "--text",
                QString::fromStdString(corpus), "--context", "32", "--tokens", "384", "--json",
                "--no-pairs" },
            &log);
    };
    const QJsonObject mClean = matchJson(s.clean), mGarbage = matchJson(s.garbage);
    QVERIFY2(!mClean.isEmpty() && !mGarbage.isEmpty(), qPrintable(log));
    const QJsonArray schemesClean = mClean["evaluation"]["schemes"].toArray(),
                     schemesGarbage = mGarbage["evaluation"]["schemes"].toArray();
    QVERIFY(!schemesClean.isEmpty());
    for (int k = 0; k < schemesClean.size(); ++k) {
        const QJsonObject a = schemesClean[k].toObject(), b = schemesGarbage[k].toObject();
        if (a["name"].toString() != "SAE B reconstruction" && a["name"].toString() != "skip layers")
            continue; // the matched schemes depend on B's weights through the permutation
        for (const char *key : { "explained_variance", "delta_ce", "kl" })
            QVERIFY2(close(b[key].toDouble(), a[key].toDouble(), 1e-12), key);
        QCOMPARE(a["tokens"].toInteger(), qint64(mc->tokens));
    }
}

void TestMetrics::demoMatchAgreesWithSaeEval()
{
    auto assets = demo::locateDemo();
    QVERIFY(assets.ok());
    QTemporaryDir tmp;
    const std::string text = tmp.path().toStdString() + "/T.txt";
    std::string corpus = fscope::test::readFile(assets->corpus);
    if (corpus.size() > 300000) {
        corpus.resize(300000);
        corpus.resize(corpus.rfind('\n') + 1);
    }
    fscope::test::writeFile(text, corpus);
    QString log;
    const QJsonObject eval = runJson(FEATURESCOPE_CLI,
        { "sae", "eval", "--model", "demo", "--sae", "demo:1", "--text",
            QString::fromStdString(text), "--context", "64", "--tokens", "2048", "--json" },
        &log);
    QVERIFY2(!eval.isEmpty(), qPrintable(log));
    const QJsonObject m = runJson(FEATURESCOPE_CLI,
        { "match", "--sae", "demo:0", "--sae", "demo:1", "--model", "demo", "--text",
            QString::fromStdString(text), "--context", "64", "--tokens", "2048", "--json",
            "--no-pairs" },
        &log);
    QVERIFY2(!m.isEmpty(), qPrintable(log));
    double reconstruction = -1, skip = -1;
    for (const auto &v : m["evaluation"]["schemes"].toArray()) {
        const QJsonObject s = v.toObject();
        if (s["name"].toString() == "SAE B reconstruction") {
            reconstruction = s["explained_variance"].toDouble();
            QCOMPARE(s["tokens"].toInteger(), eval["tokens"].toInteger());
            QVERIFY(close(s["delta_ce"].toDouble(),
                eval["ce_with_sae"].toDouble() - eval["ce_clean"].toDouble(), 1e-6));
        }
        if (s["name"].toString() == "skip layers")
            skip = s["explained_variance"].toDouble();
    }
    qInfo("demo layer 1: sae eval EV %.6f, match reconstruction EV %.6f, skip layers EV %.6f",
        eval["explained_variance"].toDouble(), reconstruction, skip);
    QVERIFY(std::abs(reconstruction - eval["explained_variance"].toDouble()) < 1e-6);
    QVERIFY(skip < reconstruction);
}

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
