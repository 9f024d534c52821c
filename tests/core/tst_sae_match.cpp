// SAE Match: folding is exact algebra; folded matching recovers a planted permutation where
// unfolded matching (directions only) does measurably worse; the hidden-state approximation
// equals the hand computation; chains; the CLI's stable JSON; the workspace cache.

#include "core/match/match_evaluation.h"
#include "core/match/match_series.h"
#include "core/match/sae_match.h"
#include "core/model/decoder.h"
#include "core/sae/sae_io.h"
#include "core/store/database.h"
#include "tests/support/match_fixtures.h"
#include "tests/support/testsupport.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>

using namespace fscope::core;
using fscope::test::fixture;
using fscope::test::jumpRelu;
using fscope::test::plantedPair;
using fscope::test::recovered;
using fscope::test::successor;
using fscope::test::unitRows;

class TestSaeMatch : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;

private Q_SLOTS:
    void foldingIsExact();
    void foldedMatchingRecoversThePermutation();
    void rectangularAndCosine();
    void pricedAndApproximateSolvers();
    void hiddenStateApproximationByHand();
    void chains();
    void cliJsonAndCache();
    void skipLinksAgainstComposedMatches();
};

void TestSaeMatch::foldingIsExact()
{
    at::manual_seed(3);
    const int64_t d = 24, F = 64;
    sae::SaeConfig cfg;
    cfg.architecture = sae::Architecture::JumpRelu;
    cfg.dIn = d;
    cfg.dSae = F;
    sae::SaeWeights w;
    w.W_enc = at::randn({ d, F });
    w.W_dec = at::randn({ F, d });
    w.b_enc = at::randn({ F }) * 0.5;
    w.b_dec = at::randn({ d }) * 0.1;
    w.threshold = at::rand({ F }) * 2 + 0.05;
    const sae::Sae s(cfg, w);
    auto folded = match::foldThresholds(s);
    QVERIFY2(folded.ok(), folded.ok() ? "" : folded.errorMessage().c_str());
    const at::Tensor x = at::randn({ 200, d }) * 2;
    const at::Tensor f = s.encode(x), ff = folded->encode(x);
    QVERIFY(f.gt(0).sum().item<int64_t>() > 100); // the check exercises active features
    QVERIFY(at::allclose(ff, f / w.threshold, 1e-5, 1e-6));
    const double diff = (folded->reconstruct(x) - s.reconstruct(x)).abs().max().item<double>();
    const double scale = s.reconstruct(x).abs().max().item<double>();
    QVERIFY2(diff <= 1e-5 * scale,
        qPrintable(QString("reconstructions differ by %1 (scale %2)").arg(diff).arg(scale)));
    QVERIFY(at::allclose(
        folded->weights().W_dec.norm(2, 1), w.W_dec.norm(2, 1) * w.threshold, 1e-5, 1e-6));
    QVERIFY(at::allclose(folded->weights().threshold, at::ones({ F })));
    // Folding is defined for thresholds only: a ReLU SAE is refused with a reason.
    cfg.architecture = sae::Architecture::Relu;
    auto relu = match::foldThresholds(sae::Sae(cfg, w));
    QVERIFY(!relu.ok());
    QVERIFY(relu.errorMessage().find("JumpReLU") != std::string::npos);
}

void TestSaeMatch::foldedMatchingRecoversThePermutation()
{
    const auto p = plantedPair(512, 48, 11);
    auto folded = match::matchSaes(p.a, p.b, {});
    match::MatchOptions unfoldedOptions;
    unfoldedOptions.fold = false;
    auto unfolded = match::matchSaes(p.a, p.b, unfoldedOptions);
    QVERIFY(folded.ok() && unfolded.ok());
    const double rf = recovered(*folded, p.truth), ru = recovered(*unfolded, p.truth);
    qInfo("planted permutation recovered: folded %.1f%%, unfolded %.1f%%", 100 * rf, 100 * ru);
    QVERIFY2(rf >= 0.98, qPrintable(QString("folded recovered %1").arg(rf)));
    QVERIFY2(ru <= rf - 0.05, qPrintable(QString("unfolded %1 vs folded %2").arg(ru).arg(rf)));
    QCOMPARE(folded->fold, std::string("thresholds"));
    // Both report the folded-decoder MSE, so the optimum of the folded problem is lowest.
    QVERIFY(folded->totalCost < unfolded->totalCost);
    double sum = 0;
    for (const auto &pair : folded->pairs)
        sum += pair.mse;
    QVERIFY(std::abs(sum - folded->totalCost) < 1e-9 * sum);
    QVERIFY(folded->goodShare > 0.9);
    // The permutation is a bijection.
    auto perm = folded->permutation();
    std::sort(perm.begin(), perm.end());
    for (int64_t i = 0; i < 512; ++i)
        QCOMPARE(perm[i], i);
}

void TestSaeMatch::rectangularAndCosine()
{
    // Planted dictionaries through the shared generator: cost matrix equals the definition.
    auto planted = match::plantedMatchPair(64, 16, false, 0.2, 0.0, 5);
    const auto c = match::matchCostMatrix(planted.a, planted.b, match::MatchCost::Decoder);
    const double direct = (planted.a.decoder[3] - planted.b.decoder[7]).pow(2).sum().item<double>();
    QVERIFY(std::abs(c[3 * 64 + 7] - direct) < 1e-4 * std::max(1.0, direct));
    auto r = match::matchParametersExact(planted.a, planted.b, {});
    QVERIFY(r.ok());
    QCOMPARE(recovered(*r, planted.truth), 1.0);
    match::MatchOptions cosine;
    cosine.cost = match::MatchCost::Cosine;
    auto rc = match::matchParametersExact(planted.a, planted.b, cosine);
    QVERIFY(rc.ok());
    QCOMPARE(rc->cost, match::MatchCost::Cosine);
    // A narrower B: every B feature gets a partner, the rest of A stays unmatched.
    match::MatchParameters narrow = planted.b;
    narrow.decoder = planted.b.decoder.slice(0, 0, 40);
    narrow.encoder = planted.b.encoder.slice(0, 0, 40);
    narrow.encoderBias = planted.b.encoderBias.slice(0, 0, 40);
    auto rr = match::matchParametersExact(planted.a, narrow, {});
    QVERIFY2(rr.ok(), rr.ok() ? "" : rr.errorMessage().c_str());
    int64_t matched = 0;
    for (const auto &p : rr->pairs)
        matched += p.b >= 0;
    QCOMPARE(matched, int64_t(40));
}

void TestSaeMatch::pricedAndApproximateSolvers()
{
    // The priced solver never holds the matrix; on the same float32 costs it must reach the
    // dense solver's optimum on both planted kinds, and prove it. The approximate mode's
    // reported gap must bound its true distance to that optimum.
    for (const bool clustered : { false, true }) {
        auto planted = match::plantedMatchPair(768, 64, clustered, 0.5, 0.3, 17);
        match::MatchOptions o;
        o.blockRows = 200; // several blocks, the last one partial
        o.solver = match::MatchSolver::Dense;
        auto dense = match::matchParametersExact(planted.a, planted.b, o);
        o.solver = match::MatchSolver::Priced;
        auto priced = match::matchParametersExact(planted.a, planted.b, o);
        o.solver = match::MatchSolver::Approximate;
        auto approx = match::matchParametersExact(planted.a, planted.b, o);
        QVERIFY(dense.ok() && priced.ok() && approx.ok());
        QCOMPARE(dense->solver, std::string("dense"));
        QCOMPARE(priced->solver, std::string("priced"));
        const double opt = dense->solverCost, tol = 1e-9 * opt;
        QVERIFY2(std::abs(priced->solverCost - opt) <= tol,
            qPrintable(QString("priced %1 vs dense %2")
                           .arg(priced->solverCost, 0, 'g', 15)
                           .arg(opt, 0, 'g', 15)));
        QVERIFY(priced->optimal);
        QVERIFY(priced->pricingRounds >= 1);
        QVERIFY(priced->candidates < 768 * 768 / 2);
        QCOMPARE(priced->solverGap, 0.0);
        // Scores come from the same scorer whichever solver ran.
        QVERIFY(std::abs(priced->totalCost - dense->totalCost) <= 1e-6 * dense->totalCost);
        QCOMPARE(approx->solver, std::string("approximate"));
        QVERIFY(approx->solverCost >= opt - tol);
        QVERIFY2(approx->optimal || approx->solverCost - opt <= approx->solverGap + tol,
            qPrintable(QString("approximate %1, optimum %2, reported gap %3")
                           .arg(approx->solverCost)
                           .arg(opt)
                           .arg(approx->solverGap)));
        QCOMPARE(approx->pricingRounds, 1);
        // Both exact solvers recover the same share of the planted pairs (ties aside).
        QVERIFY(
            std::abs(recovered(*priced, planted.truth) - recovered(*dense, planted.truth)) <= 0.01);
    }
    // Auto: dense on the CPU for a matrix that fits, and the priced solver refuses a
    // rectangular pair with a clear message.
    auto planted = match::plantedMatchPair(64, 16, false, 0.2, 0.0, 5);
    auto autoRun = match::matchParametersExact(planted.a, planted.b, {});
    QVERIFY(autoRun.ok());
    QCOMPARE(autoRun->solver, std::string("dense"));
    // Auto's memory budget is half the machine's RAM, at least 2 GiB.
    QVERIFY(match::denseMatchBudget() >= (int64_t(2) << 30));
    match::MatchParameters narrow = planted.b;
    narrow.decoder = planted.b.decoder.slice(0, 0, 40);
    narrow.encoder = planted.b.encoder.slice(0, 0, 40);
    narrow.encoderBias = planted.b.encoderBias.slice(0, 0, 40);
    match::MatchOptions priced;
    priced.solver = match::MatchSolver::Priced;
    auto bad = match::matchParametersExact(planted.a, narrow, priced);
    QVERIFY(!bad.ok());
    QVERIFY2(
        bad.errorMessage().find("equal width") != std::string::npos, bad.errorMessage().c_str());
    QVERIFY(!match::parseMatchSolver("fast").ok());
}

void TestSaeMatch::hiddenStateApproximationByHand()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "float32" });
    QVERIFY2(decoder.ok(), decoder.ok() ? "" : decoder.errorMessage().c_str());
    at::manual_seed(7);
    const int64_t d = 32, F = 48;
    const sae::Sae a = jumpRelu("blocks.0.hook_resid_post", unitRows(at::randn({ F, d })),
        at::rand({ F }) * 0.2 + 0.05, at::randn({ d }) * 0.1);
    const sae::Sae b = jumpRelu("blocks.1.hook_resid_post", unitRows(at::randn({ F, d })),
        at::rand({ F }) * 0.2 + 0.05, at::randn({ d }) * 0.1);
    std::vector<int64_t> perm(F);
    for (int64_t i = 0; i < F; ++i)
        perm[i] = (i * 7 + 3) % F;
    at::Tensor ids = at::randint(0, 95, { 3, 12 }, at::kLong);
    ids.select(1, 0).fill_(95); // BOS
    auto e = match::evaluateSplices(**decoder, a, b, ids,
        { { "perm", perm, match::SpliceScheme::Permute },
            { "skip", {}, match::SpliceScheme::SkipLayer } },
        { 95 });
    QVERIFY2(e.ok(), e.ok() ? "" : e.errorMessage().c_str());

    // By hand: JumpReLU encode of x_A, scatter feature i to perm[i], decode with B.
    model::ForwardOptions cap;
    cap.capture = { "blocks.0.hook_resid_post", "blocks.1.hook_resid_post" };
    auto base = (*decoder)->forward(model::ForwardInputs(ids), cap);
    QVERIFY(base.ok());
    const at::Tensor xA = base->activations.at("blocks.0.hook_resid_post"),
                     xB = base->activations.at("blocks.1.hook_resid_post");
    const auto &wa = a.weights();
    const at::Tensor pre = at::matmul(xA - wa.b_dec, wa.W_enc) + wa.b_enc;
    const at::Tensor fA = at::relu(pre) * (pre > wa.threshold).to(at::kFloat);
    at::Tensor fHat = at::zeros_like(fA);
    for (int64_t i = 0; i < F; ++i)
        fHat.select(-1, perm[i]).copy_(fA.select(-1, i));
    const at::Tensor xHat = at::matmul(fHat, b.weights().W_dec) + b.weights().b_dec;
    const at::Tensor truth = xB.slice(1, 1).reshape({ -1, d }).to(at::kDouble);
    const at::Tensor err
        = (xHat.slice(1, 1).reshape({ -1, d }).to(at::kDouble) - truth).pow(2).sum();
    const double ev
        = 1.0 - err.item<double>() / (truth - truth.mean(0)).pow(2).sum().item<double>();
    QVERIFY2(std::abs(e->scores[0].explainedVariance - ev) < 1e-6,
        qPrintable(QString("%1 vs %2").arg(e->scores[0].explainedVariance).arg(ev)));
    // CE of the unspliced model by hand, over positions 1..T-2.
    const at::Tensor lp = at::log_softmax(base->logits.slice(1, 1, 11), -1);
    const double ce = -lp.gather(-1, ids.slice(1, 2, 12).unsqueeze(-1)).mean().item<double>();
    QVERIFY(std::abs(e->baseCe - ce) < 1e-6);
    QCOMPARE(e->tokens, int64_t(3 * 10));
    // A random SAE pair damages the model: positive KL and a CE change.
    QVERIFY(e->scores[0].kl > 1e-4);
    QVERIFY(std::abs(e->scores[0].deltaCe) > 1e-5);
    QVERIFY(e->scores[0].matchingScore >= 0 && e->scores[0].matchingScore <= 1);

    // Splicing a hidden state into its own hook changes nothing: delta CE and KL are 0.
    auto same = match::evaluateSplices(
        **decoder, a, a, ids, { { "skip", {}, match::SpliceScheme::SkipLayer } }, { 95 });
    QVERIFY(same.ok());
    QVERIFY(std::abs(same->scores[0].deltaCe) < 1e-6);
    QVERIFY(std::abs(same->scores[0].kl) < 1e-6);
    QVERIFY(std::abs(same->scores[0].explainedVariance - 1.0) < 1e-9);
}

void TestSaeMatch::chains()
{
    // Three layers of 3 features. Link 0: 0->1 good, 1->0 bad, 2->2 good; link 1: 0->2 good,
    // 1->0 good, 2->1 bad.
    auto link = [](std::vector<std::pair<int64_t, bool>> pairs) {
        match::MatchResult r;
        for (size_t i = 0; i < pairs.size(); ++i)
            r.pairs.push_back(
                { int64_t(i), pairs[i].first, 0.1 * double(i + 1), 0, 0, pairs[i].second });
        return r;
    };
    const std::vector<match::MatchResult> links
        = { link({ { 1, true }, { 0, false }, { 2, true } }),
              link({ { 2, true }, { 0, true }, { 1, false } }) };
    // Chains: L0f0 -> L1f1 -> L2f0 (3 layers); L0f1 alone (1); L0f2 -> L1f2 (2, bad link after);
    // L1f0 -> L2f2 (2); L2f1 alone (1).
    const auto hist = match::chainLengthHistogram(links);
    QCOMPARE(hist, (std::vector<int64_t> { 2, 2, 1 }));
    std::vector<double> mse;
    std::vector<bool> good;
    const auto chain = match::featureChain(links, 1, 1, &mse, &good);
    QCOMPARE(chain[0].feature, int64_t(0));
    QCOMPARE(chain[1].feature, int64_t(1));
    QCOMPARE(chain[2].feature, int64_t(0));
    QCOMPARE(mse[0], 0.1);
    QCOMPARE(mse[1], 0.2);
    QVERIFY(good[0] && good[1]);
    QCOMPARE(
        match::composePermutations({ 1, 0, 2 }, { 2, 0, 1 }), (std::vector<int64_t> { 0, 2, 1 }));
}

void TestSaeMatch::cliJsonAndCache()
{
    const auto p = plantedPair(96, 32, 21);
    const std::string dirA = (m_tmp.path() + "/a").toStdString(),
                      dirB = (m_tmp.path() + "/b").toStdString();
    QVERIFY(sae::saveSaeLens(p.a, dirA).ok());
    QVERIFY(sae::saveSaeLens(p.b, dirB).ok());
    const QString ws = m_tmp.path() + "/ws.fscope";
    auto run = [&](QStringList extra) {
        QProcess proc;
        proc.start(FEATURESCOPE_CLI,
            QStringList { "match", "--sae", QString::fromStdString(dirA), "--sae",
                QString::fromStdString(dirB), "--json", "--workspace", ws }
                + extra);
        proc.waitForFinished(120000);
        if (proc.exitCode() != 0)
            qWarning("%s", proc.readAllStandardError().constData());
        return nlohmann::json::parse(proc.readAllStandardOutput().toStdString());
    };
    const auto j = run({});
    QCOMPARE(j["pairs"].size(), size_t(96));
    QCOMPARE(j["folded"].get<bool>(), true);
    QVERIFY(j.contains("seconds"));
    double sum = 0;
    int64_t hits = 0;
    for (size_t k = 0; k < 96; ++k) {
        sum += j["pair_mse"][k].get<double>();
        hits += j["pairs"][k][1].get<int64_t>() == p.truth[j["pairs"][k][0].get<int64_t>()];
    }
    QVERIFY(std::abs(sum - j["total_cost"].get<double>()) < 1e-9 * sum);
    QVERIFY(hits >= 90);
    QCOMPARE(j["cached"].get<bool>(), false);
    QCOMPARE(run({})["cached"].get<bool>(), true); // the identical request, from the workspace
    const auto nf = run({ "--no-fold" });
    QCOMPARE(nf["folded"].get<bool>(), false);
    QCOMPARE(nf["cached"].get<bool>(), false);
    QVERIFY(nf["total_cost"].get<double>() >= j["total_cost"].get<double>() - 1e-9);
    // The priced solver gives the same optimum (served from the cache: exact solvers agree);
    // the approximate one is its own result, with its gap.
    QCOMPARE(j["solver"].get<std::string>(), std::string("dense"));
    const auto priced = run({ "--solver", "priced" });
    QCOMPARE(priced["cached"].get<bool>(), true);
    const auto approx = run({ "--solver", "approximate" });
    QCOMPARE(approx["cached"].get<bool>(), false);
    QCOMPARE(approx["solver"].get<std::string>(), std::string("approximate"));
    QCOMPARE(approx["pricing_rounds"].get<int>(), 1);
    QVERIFY(approx["solver_cost"].get<double>() >= j["solver_cost"].get<double>() * (1 - 1e-9));
    QVERIFY(approx["solver_cost"].get<double>() - j["solver_cost"].get<double>()
        <= approx["solver_gap"].get<double>() + 1e-9 * j["solver_cost"].get<double>());
}

void TestSaeMatch::skipLinksAgainstComposedMatches()
{
    // Three layers, each a planted permutation of the one before: the direct layer 0 -> 2
    // match should mostly agree with the composition of 0 -> 1 and 1 -> 2, and (being the
    // optimum) never cost more than it.
    const auto first = plantedPair(128, 32, 31);
    at::manual_seed(32);
    const auto second = successor(first.b, "blocks.2.hook_resid_post");
    QStringList dirs;
    int k = 0;
    for (const sae::Sae *s : { &first.a, &first.b, &second.b }) {
        dirs << m_tmp.path() + QStringLiteral("/series%1").arg(k++);
        QVERIFY(sae::saveSaeLens(*s, dirs.back().toStdString()).ok());
    }
    match::MatchSeriesRequest req;
    for (const QString &d : dirs)
        req.saePaths.push_back(d.toStdString());
    req.skip = 2;
    req.compareComposed = true;
    auto series = match::runMatchSeries(req);
    QVERIFY2(series, series ? "" : series.errorMessage().c_str());
    QCOMPARE(series->links.size(), size_t(1));
    const auto &link = series->links[0];
    QVERIFY(link.composed);
    QCOMPARE(link.composed->paired, int64_t(128));
    QCOMPARE(link.composed->directTotal, link.result.totalCost);
    QVERIFY2(link.composed->composedTotal >= link.composed->directTotal * (1 - 1e-6),
        qPrintable(
            QString("%1 < %2").arg(link.composed->composedTotal).arg(link.composed->directTotal)));
    QVERIFY2(link.composed->agreement > 0.8, qPrintable(QString::number(link.composed->agreement)));
    // The same numbers by hand: compose the two adjacent matches, count agreements with the
    // direct match, and sum the folded-decoder MSE of the composed pairs.
    auto ab = match::matchSaes(first.a, first.b);
    auto bc = match::matchSaes(first.b, second.b);
    QVERIFY(ab && bc);
    const auto composed = match::composePermutations(ab->permutation(), bc->permutation());
    const auto direct = link.result.permutation();
    const at::Tensor decA = match::matchParameters(first.a, true).decoder;
    const at::Tensor decC = match::matchParameters(second.b, true).decoder;
    int64_t same = 0;
    double total = 0;
    for (size_t i = 0; i < composed.size(); ++i) {
        same += composed[i] == direct[i];
        total += (decA[int64_t(i)] - decC[composed[i]]).pow(2).sum().item<double>()
            / double(decA.size(1));
    }
    QCOMPARE(link.composed->agreement, double(same) / double(composed.size()));
    QVERIFY2(std::abs(link.composed->composedTotal - total) <= 1e-4 * total,
        qPrintable(QString("%1 vs %2").arg(link.composed->composedTotal).arg(total)));
    // The planted truth of 0 -> 2 is the composition of the two planted permutations.
    const auto truth = match::composePermutations(first.truth, second.truth);
    QVERIFY(recovered(link.result, truth) > 0.8);
    // Through JSON (the workspace cache) and back.
    auto again = match::matchSeriesFromJson(match::matchSeriesToJson(*series));
    QVERIFY(again);
    QVERIFY(again->links[0].composed);
    QCOMPARE(again->links[0].composed->agreement, link.composed->agreement);
    // Without --skip >= 2 the CLI says what --compose needs.
    QProcess proc;
    proc.start(
        FEATURESCOPE_CLI, QStringList { "match", "--sae", dirs[0], "--sae", dirs[1], "--compose" });
    proc.waitForFinished(60000);
    QVERIFY(proc.exitCode() != 0);
    QVERIFY(proc.readAllStandardError().contains("--skip K, K >= 2"));
}

QTEST_GUILESS_MAIN(TestSaeMatch)
#include "tst_sae_match.moc"
