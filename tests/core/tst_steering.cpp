// Steering and ablation: the exact algebra of every edit, position policies under the KV cache
// (cached generation equals a full recompute), a planted model where a feature's decoder
// direction is one output token (its probability rises with strength, KL is 0 at 0), and the
// CLI's stable JSON with its workspace cache.

#include "core/model/generation.h"
#include "core/sae/sae_io.h"
#include "core/steer/steering.h"
#include "tests/support/planted.h"
#include "tests/support/testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace fscope::core;
using fscope::test::fixture;

namespace {

std::shared_ptr<const sae::Sae> randomSae(
    const std::string &hook, int64_t dIn, int64_t dSae, uint64_t seed)
{
    at::manual_seed(seed);
    sae::SaeConfig cfg;
    cfg.architecture = sae::Architecture::Relu;
    cfg.dIn = dIn;
    cfg.dSae = dSae;
    cfg.hookName = hook;
    sae::SaeWeights w;
    w.W_enc = at::randn({ dIn, dSae }) / std::sqrt(double(dIn));
    w.b_enc = at::full({ dSae }, 0.05);
    w.W_dec = at::randn({ dSae, dIn }) / std::sqrt(double(dIn));
    w.b_dec = at::randn({ dIn }) * 0.1;
    return std::make_shared<const sae::Sae>(cfg, w);
}

at::Tensor apply(const steer::SteeringEdit &e, const at::Tensor &h)
{
    auto i = steer::makeIntervention(e);
    if (!i)
        qFatal("%s", i.errorMessage().c_str());
    return (*i)(h, model::HookContext { "hook", 0 });
}

bool close(const at::Tensor &a, const at::Tensor &b, double tol = 1e-5)
{
    return at::allclose(a, b, tol, tol);
}

} // namespace

class TestSteering : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;

private Q_SLOTS:
    void exactAlgebra();
    void positionPolicyUnderCache();
    void plantedFeatureRaisesItsToken();
    void cliSteerAndCache();
};

void TestSteering::exactAlgebra()
{
    const auto sae = randomSae("blocks.0.hook_resid_post", 16, 40, 1);
    at::manual_seed(2);
    const at::Tensor h = at::randn({ 2, 5, 16 });
    const at::Tensor f = sae->encode(h.reshape({ -1, 16 })).reshape({ 2, 5, 40 });
    // Pick a feature that is active somewhere, so the clamp is not trivially an add.
    const int64_t j = std::get<1>(f.reshape({ -1, 40 }).gt(0).sum(0).max(0)).item<int64_t>();
    const at::Tensor d = sae->decoderDirection(j);
    steer::SteeringEdit e;
    e.sae = sae;
    e.feature = j;

    e.kind = steer::EditKind::Clamp;
    e.value = 3.5;
    const at::Tensor clamped = apply(e, h);
    QVERIFY(close(clamped - h, (3.5 - f.select(2, j)).unsqueeze(-1) * d));

    e.kind = steer::EditKind::Ablate;
    const at::Tensor ablated = apply(e, h);
    QVERIFY(close(ablated - h, (-f.select(2, j)).unsqueeze(-1) * d));
    QVERIFY(close(ablated + f.select(2, j).unsqueeze(-1) * d, h)); // ablate then restore = identity

    e.kind = steer::EditKind::Scale;
    e.value = 2.0;
    QVERIFY(close(apply(e, h) - h, f.select(2, j).unsqueeze(-1) * d));
    e.value = 1.0;
    QVERIFY(close(apply(e, h), h));

    e.kind = steer::EditKind::Add;
    e.value = 0.0;
    QVERIFY(at::equal(apply(e, h), h)); // zero strength: identical
    e.value = -1.5;
    QVERIFY(close(apply(e, h), h - 1.5 * d));

    e.kind = steer::EditKind::ReconstructWithError;
    QVERIFY(at::equal(apply(e, h), h));
    e.kind = steer::EditKind::Reconstruct;
    QVERIFY(close(apply(e, h), sae->reconstruct(h.reshape({ -1, 16 })).reshape({ 2, 5, 16 })));

    steer::SteeringEdit p;
    p.kind = steer::EditKind::Project;
    p.vector = at::randn({ 16 });
    const at::Tensor projected = apply(p, h);
    QVERIFY(projected.matmul(p.vector / p.vector.norm()).abs().max().item<double>() < 1e-5);

    // Positions: only listed columns change.
    e.kind = steer::EditKind::Add;
    e.value = 4.0;
    e.positions.kind = model::PositionPolicy::Listed;
    e.positions.positions = { 1, 3 };
    const at::Tensor listed = apply(e, h);
    for (int64_t t = 0; t < 5; ++t)
        QCOMPARE(at::equal(listed.select(1, t), h.select(1, t)), t != 1 && t != 3);

    // Bad requests are errors, not crashes.
    e.feature = 99;
    QVERIFY(!steer::makeIntervention(e).ok());
    QVERIFY(!steer::parseEditKind("boost").ok());
}

void TestSteering::positionPolicyUnderCache()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    const auto sae = randomSae("blocks.0.hook_resid_post", 32, 48, 3);
    const std::vector<int64_t> prompt = { 95, 10, 20, 30, 40, 50 };
    const int64_t P = int64_t(prompt.size());
    model::GenerateOptions g;
    g.maxNewTokens = 8;
    for (auto kind : { model::PositionPolicy::All, model::PositionPolicy::PromptOnly,
             model::PositionPolicy::GeneratedOnly, model::PositionPolicy::Listed }) {
        steer::SteeringEdit e;
        e.kind = steer::EditKind::Add;
        e.sae = sae;
        e.feature = 7;
        e.value = 6.0;
        e.positions.kind = kind;
        e.positions.promptLength = P;
        e.positions.positions = { 2, P + 1, P + 3 };
        auto hooks = steer::interventionOptions({ e });
        QVERIFY(hooks.ok());
        auto gen = model::generate(**decoder, { prompt }, g, *hooks);
        QVERIFY(gen.ok());
        // A full recompute of prompt + continuation with the same absolute positions predicts
        // exactly the tokens the cached generation produced.
        std::vector<int64_t> seq = prompt;
        seq.insert(seq.end(), gen->tokens[0].begin(), gen->tokens[0].end());
        auto full = (*decoder)->forward({ at::tensor(seq, at::kLong).unsqueeze(0) }, *hooks);
        QVERIFY(full.ok());
        const at::Tensor predicted = full->logits[0].argmax(-1);
        for (int64_t n = 0; n < g.maxNewTokens; ++n)
            QCOMPARE(predicted[P - 1 + n].item<int64_t>(), gen->tokens[0][size_t(n)]);
        // The edit touches only the chosen positions: with causal attention, logits before the
        // first chosen position are bit-identical to the unsteered model's, and differ there.
        auto plain = (*decoder)->forward({ at::tensor(seq, at::kLong).unsqueeze(0) });
        QVERIFY(plain.ok());
        const int64_t firstChosen = kind == model::PositionPolicy::GeneratedOnly ? P
            : kind == model::PositionPolicy::Listed                              ? 2
                                                                                 : 0;
        for (int64_t t = 0; t < int64_t(seq.size()); ++t) {
            const bool same = at::equal(plain->logits[0][t], full->logits[0][t]);
            QVERIFY2(same == (t < firstChosen),
                qPrintable(QString("policy %1, position %2").arg(int(kind)).arg(t)));
        }
    }
}

void TestSteering::plantedFeatureRaisesItsToken()
{
    std::string error;
    const auto setup
        = fscope::test::writePlantedSetup(m_tmp.path().toStdString(), { " cat", " moon" }, &error);
    QVERIFY2(!setup.modelDir.empty(), error.c_str());
    auto decoder = model::Decoder::load(setup.modelDir, { "cpu", "f32" });
    QVERIFY(decoder.ok());
    auto sae = sae::loadSae(setup.saeDir);
    QVERIFY(sae.ok());
    const auto shared = std::make_shared<const sae::Sae>(std::move(sae).value());
    steer::SteerRequest r;
    r.prompt = { 50256, 464, 3797, 318 }; // <|endoftext|>The dog is
    r.generation.maxNewTokens = 4;
    r.targets = { setup.tokens[1] };
    steer::SteeringEdit e;
    e.kind = steer::EditKind::Add;
    e.sae = shared;
    e.feature = 1; // " moon": W_dec[1] = e_1 = the tied embedding of " moon"
    double previous = -1e300, previousKl = -1;
    for (double a : { 0.0, 1.0, 2.0, 4.0, 8.0, 16.0 }) {
        e.value = a;
        r.edits = { e };
        auto result = steer::steer(**decoder, r);
        QVERIFY2(result.ok(), result.ok() ? "" : result.errorMessage().c_str());
        if (a == 0.0) {
            QVERIFY(result->klMean < 1e-12);
            QCOMPARE(result->steeredTokens, result->baseTokens);
            QCOMPARE(result->targetLogProbDelta[0], 0.0);
        }
        QVERIFY2(result->steeredTarget[0] > previous, qPrintable(QString("strength %1").arg(a)));
        previous = result->steeredTarget[0];
        QVERIFY(result->klMean >= previousKl); // further from the base model as the strength grows
        previousKl = result->klMean;
        if (a == 16.0) {
            QVERIFY(result->klMean > 1e-3);
            QCOMPARE(result->steeredTokens.front(), setup.tokens[1]); // the model now says " moon"
        }
    }
    // Ablation study: on a prompt ending in " cat", ablating feature 0 (the only active one).
    auto effects = steer::ablationStudy(
        **decoder, shared, { 50256, 464, 3797, setup.tokens[0] }, 5, setup.tokens[0]);
    QVERIFY(effects.ok());
    QCOMPARE(effects->size(), size_t(1));
    QCOMPARE(effects->front().feature, int64_t(0));
    QVERIFY(effects->front().kl > 0);
}

void TestSteering::cliSteerAndCache()
{
    std::string error;
    const auto setup = fscope::test::writePlantedSetup(
        (m_tmp.path() + "/cli").toStdString(), { " cat", " moon" }, &error);
    QVERIFY2(!setup.modelDir.empty(), error.c_str());
    const QStringList args = { "steer", "--model", QString::fromStdString(setup.modelDir), "--sae",
        QString::fromStdString(setup.saeDir), "--feature", "1", "--strength", "16", "--prompt",
        "The dog is", "--max-tokens", "3", "--target", " moon", "--workspace",
        m_tmp.path() + "/steer.fsdb", "--json" };
    QJsonObject first;
    for (int run = 0; run < 2; ++run) {
        QProcess p;
        p.start(QStringLiteral(FEATURESCOPE_CLI), args);
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QJsonObject j = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        QVERIFY(j.contains("base") && j.contains("steered") && j.contains("kl_mean"));
        QVERIFY(j["steered"].toString().startsWith(" moon"));
        QVERIFY(j["kl_mean"].toDouble() > 0);
        QVERIFY(j["targets"].toArray()[0].toObject()["delta"].toDouble() > 0);
        QCOMPARE(j["cached"].toBool(), run == 1); // the identical request comes from the workspace
        if (run == 0)
            first = j;
        else
            QCOMPARE(j["steered"].toString(), first["steered"].toString());
    }
    QProcess bad;
    bad.start(QStringLiteral(FEATURESCOPE_CLI),
        { "steer", "--model", QString::fromStdString(setup.modelDir), "--sae",
            QString::fromStdString(setup.saeDir), "--feature", "1", "--prompt", "x", "--mode",
            "boost", "--strength", "1" });
    QVERIFY(bad.waitForFinished(60000));
    QCOMPARE(bad.exitCode(), 1);
    QVERIFY(bad.readAllStandardError().contains("unknown steering mode 'boost'"));
}

QTEST_GUILESS_MAIN(TestSteering)
#include "tst_steering.moc"
