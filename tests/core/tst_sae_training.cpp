// SAE training really learns: on data made of sparse combinations of a planted dictionary,
// TopK and JumpReLU training recover at least 90% of the planted directions (cosine > 0.9).

#include "core/sae/sae_io.h"
#include "core/sae/sae_trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <QTemporaryDir>
#include <QTest>

#include <filesystem>

using namespace fscope::core;
using namespace fscope::core::sae;

namespace {

struct Planted {
    at::Tensor dictionary; // [atoms, d] unit rows
    at::Generator generator;
    int64_t active;

    // Each sample: `active` random atoms with coefficients in [1, 3].
    at::Tensor sample(int64_t n)
    {
        const int64_t atoms = dictionary.size(0);
        const at::Tensor scores = at::rand({ n, atoms }, generator);
        const at::Tensor chosen = std::get<1>(scores.topk(active, -1));
        const at::Tensor coeff = at::rand({ n, active }, generator) * 2 + 1;
        const at::Tensor codes = at::zeros({ n, atoms }).scatter(-1, chosen, coeff);
        return at::matmul(codes, dictionary);
    }
};

// Fraction of planted atoms whose best-matching decoder row has cosine > 0.9.
double recovered(const Sae &sae, const at::Tensor &dictionary)
{
    const at::Tensor dec = sae.weights().W_dec / sae.weights().W_dec.norm(2, 1, true);
    const at::Tensor cos = at::matmul(dictionary, dec.t());
    return (std::get<0>(cos.max(1)) > 0.9).to(at::kDouble).mean().item<double>();
}

Planted makePlanted()
{
    at::manual_seed(1);
    at::Tensor d = at::randn({ 48, 32 });
    d = d / d.norm(2, 1, true);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    return { d, gen, 3 };
}

} // namespace

class TestSaeTraining : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void topkRecoversPlantedDictionary();
    void jumpReluRecoversPlantedDictionary();
    void checkpointsAreSaeLens();
};

void TestSaeTraining::topkRecoversPlantedDictionary()
{
    Planted p = makePlanted();
    TrainOptions o;
    o.architecture = Architecture::TopK;
    o.dSae = 96;
    o.k = 3;
    o.steps = 1500;
    o.batchSize = 256;
    o.learningRate = 3e-3;
    o.hookName = "blocks.0.hook_resid_post";
    TrainReport report;
    auto sae = trainSae([&](int64_t n) { return p.sample(n); }, 32, o, nullptr, &report);
    QVERIFY2(sae.ok(), sae.ok() ? "" : sae.errorMessage().c_str());
    const double r = recovered(*sae, p.dictionary);
    qInfo("TopK: recovered %.3f of planted atoms, L0 %.2f, dead %lld", r, report.finalL0,
        static_cast<long long>(report.deadLatents));
    QVERIFY2(r >= 0.9, qPrintable(QString::number(r)));
    // The folded SAE reads raw (unscaled) data: reconstruction error is small in raw units.
    const at::Tensor x = p.sample(512);
    const double fvu = (x - sae->reconstruct(x)).pow(2).sum().item<double>()
        / (x - x.mean(0)).pow(2).sum().item<double>();
    QVERIFY2(fvu < 0.1, qPrintable(QString::number(fvu)));
}

void TestSaeTraining::jumpReluRecoversPlantedDictionary()
{
    Planted p = makePlanted();
    TrainOptions o;
    o.architecture = Architecture::JumpRelu;
    o.dSae = 96;
    o.steps = 2000;
    o.batchSize = 256;
    o.learningRate = 3e-3;
    o.l0Coefficient = 0.3;
    o.bandwidth = 0.05;
    o.initialThreshold = 0.1;
    o.hookName = "blocks.0.hook_resid_post";
    TrainReport report;
    auto sae = trainSae([&](int64_t n) { return p.sample(n); }, 32, o, nullptr, &report);
    QVERIFY2(sae.ok(), sae.ok() ? "" : sae.errorMessage().c_str());
    const double r = recovered(*sae, p.dictionary);
    qInfo("JumpReLU: recovered %.3f of planted atoms, L0 %.2f, dead %lld", r, report.finalL0,
        static_cast<long long>(report.deadLatents));
    QVERIFY2(r >= 0.9, qPrintable(QString::number(r)));
    QVERIFY(report.finalL0 < 12); // sparse, not a dense code
    QVERIFY(sae->weights().threshold.min().item<double>() > 0);
}

void TestSaeTraining::checkpointsAreSaeLens()
{
    Planted p = makePlanted();
    QTemporaryDir dir;
    TrainOptions o;
    o.architecture = Architecture::TopK;
    o.dSae = 64;
    o.k = 3;
    o.steps = 20;
    o.checkpointEvery = 10;
    o.checkpointDir = dir.path().toStdString();
    o.hookName = "blocks.0.hook_resid_post";
    auto sae = trainSae([&](int64_t n) { return p.sample(n); }, 32, o);
    QVERIFY(sae.ok());
    for (const char *step : { "step_10", "step_20" }) {
        auto loaded = loadSae(dir.filePath(QLatin1String(step)).toStdString());
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.errorMessage().c_str());
        QCOMPARE(loaded->config().k, int64_t { 3 });
    }
    // The last checkpoint is the returned SAE.
    const at::Tensor x = p.sample(16);
    QVERIFY(at::allclose(loadSae(dir.filePath(QStringLiteral("step_20")).toStdString())->encode(x),
        sae->encode(x), 1e-5, 1e-5));
}

QTEST_GUILESS_MAIN(TestSaeTraining)
#include "tst_sae_training.moc"
