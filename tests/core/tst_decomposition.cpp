// Steering-vector decomposition: a planted v = 3 d_a - 2 d_b + noise is recovered by OMP and
// MP; NNLS on D cannot express b's negative part; the naive encoding shows both failure modes
// of Mayne et al. (the bias-driven f(0) features dominate; b's negative projection is lost
// while a feature anti-aligned with d_b fires); OMP's FVE curve is monotone; f(v) - f(0) is
// exact algebra; the CAA vector equals the mean difference computed by hand; the CLI's JSON.

#include "core/model/decoder.h"
#include "core/sae/sae_io.h"
#include "core/steer/decomposition.h"
#include "core/steer/steering_vector.h"
#include "core/store/database.h"
#include "core/tokenize/tokenizer.h"
#include "tests/support/planted.h"
#include "tests/support/testsupport.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace fscope::core;

namespace {

constexpr int64_t kA = 5, kB = 17, kAnti = 40, kBias = 60;

// Unit-norm random decoder (d = 64, F features), tied encoder; feature kAnti points along
// -d_b; feature kBias has a large encoder bias (a "default component" feature).
sae::Sae fixtureSae(double biasValue, int64_t F = 128, bool antiAtom = true)
{
    at::manual_seed(1);
    const int64_t d = 64;
    at::Tensor D = at::randn({ F, d }, at::kDouble);
    if (antiAtom)
        D[kAnti] = -D[kB] + 0.3 * at::randn({ d }, at::kDouble);
    D = D / D.norm(2, 1, true);
    sae::SaeConfig cfg;
    cfg.architecture = sae::Architecture::JumpRelu;
    cfg.dIn = d;
    cfg.dSae = F;
    cfg.hookName = "blocks.0.hook_resid_post";
    sae::SaeWeights w;
    w.W_dec = D.to(at::kFloat);
    w.W_enc = D.t().contiguous().to(at::kFloat);
    w.b_enc = at::zeros({ F });
    if (kBias < F)
        w.b_enc[kBias] = biasValue;
    w.b_dec = at::zeros({ d });
    w.threshold = at::full({ F }, 0.1);
    return sae::Sae(cfg, w);
}

at::Tensor plantedVector(const sae::Sae &s)
{
    const at::Tensor D = s.weights().W_dec;
    return 3 * D[kA] - 2 * D[kB] + 0.01 * at::randn({ D.size(1) });
}

double coefficient(const steer::Decomposition &d, int64_t feature)
{
    return d.coefficients[feature].item<double>();
}

} // namespace

class TestDecomposition : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;

private Q_SLOTS:
    void pursuitsRecoverThePlantedTerms();
    void nnlsCannotExpressNegativeParts();
    void naiveEncodingFailureModes();
    void encodeMinusZeroIsExactAlgebra();
    void lassoAndOtherMethods();
    void caaVectorByHand();
    void cliJson();
    void workspaceCache();
};

void TestDecomposition::pursuitsRecoverThePlantedTerms()
{
    const sae::Sae s = fixtureSae(0);
    const at::Tensor v = plantedVector(s);
    steer::DecomposeOptions o;
    o.k = 8;
    auto omp = steer::decompose(s, v, steer::DecompositionMethod::OrthogonalMatchingPursuit, o);
    QVERIFY2(omp.ok(), omp.ok() ? "" : omp.errorMessage().c_str());
    QVERIFY(std::abs(coefficient(*omp, kA) - 3) < 0.05);
    QVERIFY(std::abs(coefficient(*omp, kB) + 2) < 0.05);
    QCOMPARE(omp->top[0].first, kA);
    QCOMPARE(omp->top[1].first, kB);
    QVERIFY(omp->fve > 0.999);
    // OMP's residual is refitted on a growing support: the FVE curve never goes down.
    QVERIFY(omp->fveCurve.size() >= 2);
    for (size_t k = 1; k < omp->fveCurve.size(); ++k)
        QVERIFY(omp->fveCurve[k] >= omp->fveCurve[k - 1] - 1e-12);
    QVERIFY(omp->fveCurve[1] > 0.999); // two atoms explain it

    o.k = 32;
    auto mp = steer::decompose(s, v, steer::DecompositionMethod::MatchingPursuit, o);
    QVERIFY(mp.ok());
    QVERIFY2(std::abs(coefficient(*mp, kA) - 3) < 0.1,
        qPrintable(QString::number(coefficient(*mp, kA))));
    QVERIFY2(std::abs(coefficient(*mp, kB) + 2) < 0.1,
        qPrintable(QString::number(coefficient(*mp, kB))));
}

void TestDecomposition::nnlsCannotExpressNegativeParts()
{
    // Fewer atoms than dimensions: no cone of other atoms happens to cover -d_b, so what the
    // non-negative code loses shows as a residual. (An overcomplete random dictionary's cone
    // can cover everything; the real loss is then in sparsity, which OMP's curve shows.)
    const sae::Sae s = fixtureSae(0, 48, false);
    const at::Tensor v = plantedVector(s);
    auto nnls = steer::decompose(s, v, steer::DecompositionMethod::Nnls);
    auto signedLs = steer::decompose(s, v, steer::DecompositionMethod::NnlsSigned);
    QVERIFY(nnls.ok() && signedLs.ok());
    QVERIFY((nnls->coefficients >= 0).all().item<bool>());
    QCOMPARE(coefficient(*nnls, kB), 0.0);
    // -2 d_b has no non-negative expression beyond what other atoms happen to cover: a
    // residual remains, while the signed problem fits v.
    const at::Tensor residual
        = v.to(at::kDouble) - at::matmul(nnls->coefficients, s.weights().W_dec.to(at::kDouble));
    qInfo("NNLS on D: FVE %.3f, residual norm %.3f of %.3f; signed: FVE %.4f", nnls->fve,
        residual.norm().item<double>(), v.norm().item<double>(), signedLs->fve);
    QVERIFY(residual.norm().item<double>() > 0.25 * v.norm().item<double>());
    QVERIFY(nnls->fve < 0.95);
    QVERIFY(signedLs->fve > 0.99);
    QVERIFY(coefficient(*nnls, kA) > 2.5);
    // With an atom anti-aligned to d_b in the dictionary, NNLS uses it to stand in for -d_b.
    auto withAnti = steer::decompose(fixtureSae(0, 48, true), v, steer::DecompositionMethod::Nnls);
    QVERIFY(withAnti.ok());
    QVERIFY(coefficient(*withAnti, kAnti) > 0.5);
}

void TestDecomposition::naiveEncodingFailureModes()
{
    // Failure mode 1: a large encoder bias makes f(v) look like f(0).
    const sae::Sae s = fixtureSae(50);
    const at::Tensor v = plantedVector(s);
    auto enc = steer::decompose(s, v, steer::DecompositionMethod::Encode);
    QVERIFY(enc.ok());
    QCOMPARE(enc->top[0].first, kBias);
    const at::Tensor f0 = enc->zeroCode;
    QCOMPARE(std::get<1>(f0.abs().max(0)).item<int64_t>(), kBias);
    QVERIFY(enc->biasShare[kBias].item<double>() > 49);
    // Failure mode 2: b's negative projection is truncated to 0, and the feature anti-aligned
    // with d_b fires instead.
    QCOMPARE(coefficient(*enc, kB), 0.0);
    QVERIFY(coefficient(*enc, kAnti) > 0.5);
    QVERIFY(coefficient(*enc, kA) > 2.5);
    // Subtracting f(0) removes the bias feature.
    auto diff = steer::decompose(s, v, steer::DecompositionMethod::EncodeMinusZero);
    QVERIFY(diff.ok());
    QVERIFY(std::abs(coefficient(*diff, kBias)) < 1.0);
    QCOMPARE(diff->top[0].first, kA);
}

void TestDecomposition::encodeMinusZeroIsExactAlgebra()
{
    // A ReLU SAE whose biases keep every pre-activation positive for v and for 0 is linear
    // there: f(v) - f(0) = v . W_enc exactly.
    at::manual_seed(4);
    sae::SaeConfig cfg;
    cfg.architecture = sae::Architecture::Relu;
    cfg.dIn = 16;
    cfg.dSae = 24;
    sae::SaeWeights w;
    w.W_enc = at::randn({ 16, 24 }) * 0.1;
    w.W_dec = at::randn({ 24, 16 });
    w.b_enc = at::full({ 24 }, 100.0);
    w.b_dec = at::randn({ 16 });
    const sae::Sae s(cfg, w);
    const at::Tensor v = at::randn({ 16 });
    auto d = steer::decompose(s, v, steer::DecompositionMethod::EncodeMinusZero);
    QVERIFY(d.ok());
    const at::Tensor expected = at::matmul(v.to(at::kDouble), w.W_enc.to(at::kDouble));
    QVERIFY(at::allclose(d->coefficients, expected, 1e-4, 1e-4));
    auto proj = steer::decompose(s, v, steer::DecompositionMethod::EncoderProjection);
    QVERIFY(at::allclose(proj->coefficients, expected, 1e-9, 1e-9));
}

void TestDecomposition::lassoAndOtherMethods()
{
    const sae::Sae s = fixtureSae(0);
    const at::Tensor v = plantedVector(s);
    auto lasso = steer::decompose(s, v, steer::DecompositionMethod::Lasso);
    QVERIFY(lasso.ok());
    QVERIFY(lasso->lassoSweep.size() >= 6);
    // Down the lambda path the fit improves and the support grows.
    QVERIFY(lasso->lassoSweep.back().fve > lasso->lassoSweep.front().fve);
    QVERIFY(lasso->lassoSweep.back().l0 >= lasso->lassoSweep.front().l0);
    QCOMPARE(lasso->top[0].first, kA);
    QVERIFY(coefficient(*lasso, kB) < -1.5);
    auto cosine = steer::decompose(s, v, steer::DecompositionMethod::DecoderCosine);
    QVERIFY(cosine.ok());
    QCOMPARE(cosine->top[0].first, kA);
    // Activation-based methods say what they need.
    auto missing = steer::decompose(s, v, steer::DecompositionMethod::InContext);
    QVERIFY(!missing.ok());
    QVERIFY(missing.errorMessage().find("activations") != std::string::npos);
    steer::DecomposeOptions o;
    o.activations = at::randn({ 200, 64 }) * 2;
    auto inContext = steer::decompose(s, v, steer::DecompositionMethod::InContext, o);
    auto normMatched = steer::decompose(s, v, steer::DecompositionMethod::NormMatched, o);
    QVERIFY(inContext.ok() && normMatched.ok());
    QVERIFY(coefficient(*inContext, kA) > 0);
    // A wrong-length vector is refused with both sizes named.
    auto bad = steer::decompose(
        s, at::randn({ 10 }), steer::DecompositionMethod::OrthogonalMatchingPursuit);
    QVERIFY(!bad.ok());
    QVERIFY(bad.errorMessage().find("64") != std::string::npos);
}

void TestDecomposition::caaVectorByHand()
{
    std::string err;
    const auto setup = fscope::test::writePlantedSetup(
        (m_tmp.path() + "/planted").toStdString(), { " cat", " dog", " sun" }, &err);
    QVERIFY2(!setup.modelDir.empty(), err.c_str());
    auto decoder = model::Decoder::load(setup.modelDir, { "cpu", "float32" });
    auto tok = tokenize::loadTokenizer(setup.modelDir);
    QVERIFY(decoder.ok() && tok.ok());
    const std::string pairsPath = (m_tmp.path() + "/pairs.jsonl").toStdString();
    fscope::test::writeFile(pairsPath,
        "{\"prompt\": \"I saw a\", \"positive\": \" cat\", \"negative\": \" dog\"}\n"
        "\n{\"question\": \"The bright\", \"answer_matching_behavior\": \" sun and\", "
        "\"answer_not_matching_behavior\": \" dog\"}\n");
    auto pairs = steer::readContrastPairs(pairsPath);
    QVERIFY2(pairs.ok(), pairs.ok() ? "" : pairs.errorMessage().c_str());
    QCOMPARE(pairs->size(), size_t(2));
    const std::string hook = "blocks.0.hook_resid_pre";
    for (auto position : { steer::ReadPosition::Answer, steer::ReadPosition::Last,
             steer::ReadPosition::CompletionMean }) {
        auto caa = steer::buildCaaVector(**decoder, **tok, *pairs, hook, position);
        QVERIFY2(caa.ok(), caa.ok() ? "" : caa.errorMessage().c_str());
        // By hand: each string's activations, read at the position, differences averaged.
        at::Tensor sum = at::zeros({ caa->vector.size(0) });
        for (const auto &p : *pairs) {
            auto act = [&](const std::string &completion) {
                auto ids = (*tok)->encodeForModel(p.prompt, (*tok)->bosId().has_value()).ids;
                const int64_t start = int64_t(ids.size());
                for (auto id : (*tok)->encode(completion).ids)
                    ids.push_back(id);
                model::ForwardOptions o;
                o.capture = { hook };
                auto r = (*decoder)->forward(
                    model::ForwardInputs(at::tensor(ids, at::kLong).unsqueeze(0)), o);
                const at::Tensor a = r->activations.at(hook)[0];
                if (position == steer::ReadPosition::Answer)
                    return a[start];
                if (position == steer::ReadPosition::Last)
                    return a[int64_t(ids.size()) - 1];
                at::Tensor m = at::zeros({ a.size(1) });
                for (int64_t t = start; t < a.size(0); ++t)
                    m += a[t];
                return m / double(a.size(0) - start);
            };
            sum += act(p.positive) - act(p.negative);
        }
        QVERIFY(at::allclose(caa->vector, sum / 2.0, 1e-5, 1e-6));
        QVERIFY(caa->vector.norm().item<double>() > 0.1);
    }
    // The planted model puts word k's token on dimension k: " cat" - " dog" reads +1 / -1 there.
    auto answer = steer::buildCaaVector(
        **decoder, **tok, { pairs->front() }, hook, steer::ReadPosition::Answer);
    QVERIFY(std::abs(answer->vector[0].item<double>() - 1.0) < 1e-5);
    QVERIFY(std::abs(answer->vector[1].item<double>() + 1.0) < 1e-5);
    // A bad line is named.
    fscope::test::writeFile(pairsPath, "{\"prompt\": \"x\", \"positive\": \" a\"}\n");
    auto bad = steer::readContrastPairs(pairsPath);
    QVERIFY(!bad.ok());
    QVERIFY2(
        bad.errorMessage().find("pairs.jsonl:1") != std::string::npos, bad.errorMessage().c_str());
}

void TestDecomposition::cliJson()
{
    const sae::Sae s = fixtureSae(0);
    const std::string dir = (m_tmp.path() + "/sae").toStdString(),
                      vec = (m_tmp.path() + "/v.npy").toStdString();
    QVERIFY(sae::saveSaeLens(s, dir).ok());
    QVERIFY(steer::saveSteeringVector(vec, plantedVector(s)).ok());
    auto loaded = steer::loadSteeringVector(vec);
    QVERIFY(loaded.ok());
    QCOMPARE(loaded->size(0), int64_t(64));
    QProcess p;
    p.start(FEATURESCOPE_CLI,
        { "decompose", "--sae", QString::fromStdString(dir), "--vector",
            QString::fromStdString(vec), "--method", "omp", "--k", "4", "--json" });
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    const auto j = nlohmann::json::parse(p.readAllStandardOutput().toStdString());
    QCOMPARE(j["method"].get<std::string>(), std::string("omp"));
    QCOMPARE(j["coefficients"][0][0].get<int64_t>(), kA);
    QVERIFY(std::abs(j["coefficients"][0][1].get<double>() - 3) < 0.05);
    QCOMPARE(j["coefficients"][1][0].get<int64_t>(), kB);
    QVERIFY(j["fve"].get<double>() > 0.99);
    QVERIFY(j["cosine"].get<double>() > 0.99);
    QProcess unknown;
    unknown.start(FEATURESCOPE_CLI,
        { "decompose", "--sae", QString::fromStdString(dir), "--vector",
            QString::fromStdString(vec), "--method", "magic" });
    QVERIFY(unknown.waitForFinished(60000));
    QVERIFY(unknown.exitCode() != 0);
    QVERIFY(unknown.readAllStandardError().contains("lasso")); // the error lists the methods
}

void TestDecomposition::workspaceCache()
{
    const sae::Sae s = fixtureSae(20);
    const at::Tensor v = plantedVector(s);
    auto db = store::Database::open((m_tmp.path() + "/cache.fsdb").toStdString());
    QVERIFY2(db.ok(), db.ok() ? "" : db.errorMessage().c_str());
    for (auto method : { steer::DecompositionMethod::Encode, steer::DecompositionMethod::Lasso }) {
        bool cached = true;
        auto first = steer::decomposeCached(db->get(), s, "sae-fp", v, method, {}, &cached);
        QVERIFY(first.ok());
        QVERIFY(!cached);
        auto second = steer::decomposeCached(db->get(), s, "sae-fp", v, method, {}, &cached);
        QVERIFY(second.ok());
        QVERIFY(cached);
        QVERIFY(at::equal(first->coefficients, second->coefficients));
        QCOMPARE(second->top, first->top);
        QCOMPARE(second->fveCurve, first->fveCurve);
        QCOMPARE(second->biasShare.defined(), first->biasShare.defined());
        if (first->biasShare.defined())
            QVERIFY(at::equal(first->biasShare, second->biasShare));
        // Another vector is another request.
        steer::decomposeCached(db->get(), s, "sae-fp", v * 2, method, {}, &cached).value();
        QVERIFY(!cached);
    }
}

QTEST_GUILESS_MAIN(TestDecomposition)
#include "tst_decomposition.moc"
