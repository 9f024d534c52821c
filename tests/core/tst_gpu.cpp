// The GPU path gives the CPU's numbers: the demo model's logits, `sae eval`'s metrics and SAE
// Match's splice scores on CUDA against the CPU. Labelled `gpu`: run it with
// `ctest --preset gpu` on a machine with CUDA (the default preset leaves it out).

#include "core/demo/demo_paths.h"
#include "core/match/match_evaluation.h"
#include "core/model/decoder.h"
#include "core/sae/sae_io.h"
#include "core/sae/sae_metrics.h"

#include <QtTest>

#include <ATen/ATen.h>
#include <ATen/Context.h>

using namespace fscope::core;

class TestGpu : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void sameNumbersAsTheCpu();
};

void TestGpu::initTestCase()
{
    if (!at::hasCUDA())
        QFAIL("no CUDA device: this test needs a GPU (ctest --preset gpu on a GPU machine)");
}

void TestGpu::sameNumbersAsTheCpu()
{
    auto assets = demo::locateDemo();
    QVERIFY(assets.ok());
    auto cpu = model::Decoder::load(assets->model, { "cpu", "float32" });
    auto gpu = model::Decoder::load(assets->model, { "cuda", "float32" });
    QVERIFY(cpu.ok() && gpu.ok());
    at::manual_seed(1);
    at::Tensor ids = at::randint(3, (*cpu)->config().vocabSize, { 4, 64 }, at::kLong);
    ids.select(1, 0).fill_(1);
    ids[2][30] = 1; // a separator inside a context
    auto a = (*cpu)->forward(model::ForwardInputs(ids), {});
    auto b = (*gpu)->forward(model::ForwardInputs(ids), {});
    QVERIFY(a.ok() && b.ok());
    const double logitError = (a->logits - b->logits.cpu()).abs().max().item<double>();
    qInfo("max |logit difference| CPU vs CUDA: %.3g", logitError);
    QVERIFY(logitError < 1e-3);

    auto saeCpu = sae::loadSae(assets->saes[1].path, { "", "cpu" });
    auto saeGpu = sae::loadSae(assets->saes[1].path, { "", "cuda" });
    QVERIFY(saeCpu.ok() && saeGpu.ok());
    std::vector<std::vector<int64_t>> contexts;
    for (int64_t i = 0; i < ids.size(0); ++i)
        contexts.emplace_back(ids[i].data_ptr<int64_t>(), ids[i].data_ptr<int64_t>() + ids.size(1));
    sae::EvalOptions eo;
    eo.specialTokens = { 1 };
    auto mc = sae::evaluateSae(**cpu, *saeCpu, contexts, eo);
    auto mg = sae::evaluateSae(**gpu, *saeGpu, contexts, eo);
    QVERIFY(mc.ok() && mg.ok());
    QCOMPARE(mg->tokens, mc->tokens);
    for (const auto &v : mc->values)
        QVERIFY2(std::abs(mg->value(v.name) - v.value) < 1e-4 * std::max(1.0, std::abs(v.value)),
            v.name.c_str());

    auto saeA = sae::loadSae(assets->saes[0].path, { "", "cpu" });
    auto saeAGpu = sae::loadSae(assets->saes[0].path, { "", "cuda" });
    QVERIFY(saeA.ok() && saeAGpu.ok());
    const std::vector<match::SpliceScheme> schemes
        = { { "B", {}, match::SpliceScheme::ReconstructB },
              { "skip", {}, match::SpliceScheme::SkipLayer } };
    auto ec = match::evaluateSplices(**cpu, *saeA, *saeCpu, ids, schemes, { 1 });
    auto eg = match::evaluateSplices(**gpu, *saeAGpu, *saeGpu, ids, schemes, { 1 });
    QVERIFY(ec.ok() && eg.ok());
    for (size_t k = 0; k < schemes.size(); ++k) {
        QVERIFY(std::abs(ec->scores[k].explainedVariance - eg->scores[k].explainedVariance) < 1e-4);
        QVERIFY(std::abs(ec->scores[k].deltaCe - eg->scores[k].deltaCe) < 1e-4);
    }
    // SAE B's reconstruction is `sae eval`'s explained variance on both devices.
    QVERIFY(std::abs(eg->scores[0].explainedVariance - mg->value("explained_variance")) < 1e-5);
}

QTEST_GUILESS_MAIN(TestGpu)
#include "tst_gpu.moc"
