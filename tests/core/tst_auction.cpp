// The priced solver's device phase: the forward auction with epsilon scaling (lap/auction.h),
// run here in tensor ops on the CPU exactly as on a GPU. Its seed is feasible and tight where it
// keeps pairs; the exact solve it warm-starts gives the brute-force optimum on small matrices,
// scipy's totals on the fixture cases and the JV-started solver's optimum on planted SAE pairs,
// each certified by the pricing pass.

#include "core/match/lap/auction.h"
#include "core/match/lap/priced_assignment.h"
#include "core/match/lap/sparse_assignment.h"
#include "core/match/sae_match.h"
#include "tests/support/assignment_fixtures.h"
#include "tests/support/testsupport.h"

#include <QtTest>

using namespace fscope::core;
using namespace fscope::test::assignment;

namespace {

lap::PricedOptions auctionOptions()
{
    lap::PricedOptions o;
    o.warmStart = lap::PricedOptions::WarmStart::Auction;
    return o;
}

// Every pair of an n x n matrix as the candidate table.
std::pair<at::Tensor, at::Tensor> denseTable(const std::vector<double> &c, int64_t n)
{
    const at::Tensor costs = at::from_blob(const_cast<double *>(c.data()), { n, n }, at::kDouble);
    return { at::arange(n, at::kLong).repeat({ n, 1 }), costs.clone() };
}

} // namespace

class TestAuction : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void auctionIsEpsilonOptimal();
    void seedIsFeasibleAndTight();
    void warmStartedBruteForceSmall();
    void warmStartedMatchesScipy_data();
    void warmStartedMatchesScipy();
    void plantedPairsSameOptimumAsJv();
    void badInput();
};

void TestAuction::auctionIsEpsilonOptimal()
{
    // With every pair a candidate, the last phase ends with each row within eps of its cheapest
    // column, so the total is within n * eps of the optimum (Bertsekas' bound).
    const int64_t n = 60;
    const auto c = buildMatrix("uniform", 11, n, n);
    const auto [columns, costs] = denseTable(c, n);
    lap::AuctionOptions o;
    o.finalEpsilon = 1e-4;
    auto a = lap::auctionOnCandidates(columns, costs, o);
    QVERIFY2(a.ok(), a.ok() ? "" : a.errorMessage().c_str());
    QCOMPARE(a->unassigned, int64_t(0));
    QVERIFY(a->phases >= 3);
    std::set<int64_t> used;
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = a->rowToColumn[i].item<int64_t>();
        QVERIFY(j >= 0 && j < n);
        QVERIFY2(used.insert(j).second, "a column is held twice");
        total += c[i * n + j];
    }
    auto exact = lap::solveAssignment(c.data(), n, n);
    QVERIFY(exact.ok());
    const double range
        = *std::max_element(c.begin(), c.end()) - *std::min_element(c.begin(), c.end());
    QVERIFY(total >= exact->totalCost - 1e-12);
    QVERIFY2(total - exact->totalCost <= double(n) * 1e-4 * range + 1e-12,
        qPrintable(QString("auction %1, optimum %2").arg(total).arg(exact->totalCost)));
}

void TestAuction::seedIsFeasibleAndTight()
{
    for (const char *kind : { "uniform", "ties", "scaled", "lowrank" }) {
        const int64_t n = 80;
        const auto c = buildMatrix(kind, 5, n, n);
        const auto [columns, costs] = denseTable(c, n);
        auto a = lap::auctionOnCandidates(columns, costs);
        QVERIFY(a.ok());
        const lap::AuctionSeed seed = lap::auctionSeed(columns, costs, *a);
        double worst = 0;
        int64_t tight = 0;
        for (int64_t i = 0; i < n; ++i) {
            for (int64_t j = 0; j < n; ++j) {
                const double reduced = c[i * n + j] - seed.u[i] - seed.v[j];
                worst = std::min(worst, reduced / std::max(1.0, std::abs(c[i * n + j])));
            }
            if (seed.rowToColumn[i] >= 0) {
                const int64_t j = seed.rowToColumn[i];
                tight += std::abs(c[i * n + j] - seed.u[i] - seed.v[j])
                    <= 1e-12 * std::max(1.0, std::abs(c[i * n + j]));
            }
        }
        QVERIFY2(worst >= -1e-12, qPrintable(QString("%1: reduced cost %2").arg(kind).arg(worst)));
        QCOMPARE(tight, seed.kept);
        // The auction hands over most rows; the exact solve places the rest.
        QVERIFY2(seed.kept >= n / 2,
            qPrintable(QString("%1: %2 of %3 kept").arg(kind).arg(seed.kept).arg(n)));
        qInfo("%s: %lld of %lld rows seeded tight", kind, (long long)seed.kept, (long long)n);
    }
}

void TestAuction::warmStartedBruteForceSmall()
{
    for (uint64_t seed = 1; seed <= 40; ++seed) {
        const int64_t n = 1 + int64_t(seed % 7);
        const auto c = buildMatrix(seed % 2 == 0 ? "ties" : "uniform", 500 + seed, n, n);
        lap::PricedOptions o = auctionOptions();
        o.rowCandidates = 1;
        o.columnCandidates = 0;
        o.addPerColumn = 1;
        o.blockRows = 2;
        auto p = lap::solvePricedAssignment(n, hostRows(c, n), o);
        QVERIFY2(p.ok(), p.ok() ? "" : p.errorMessage().c_str());
        QVERIFY(p->auction);
        QVERIFY(p->optimal);
        checkConsistent(p->assignment, c, n, n);
        QVERIFY2(std::abs(p->assignment.totalCost - bruteForce(c, n)) < 1e-12,
            qPrintable(QString("seed %1").arg(seed)));
    }
}

void TestAuction::warmStartedMatchesScipy_data()
{
    QVERIFY(addScipyCases(true) >= 8);
}

void TestAuction::warmStartedMatchesScipy()
{
    QFETCH(QString, kind);
    QFETCH(qint64, seed);
    QFETCH(qint64, rows);
    QFETCH(qint64, columns);
    QFETCH(double, total);
    const auto c = buildMatrix(kind.toStdString(), seed, rows, columns);
    lap::PricedOptions o = auctionOptions();
    o.rowCandidates = 4;
    o.columnCandidates = 2;
    o.addPerColumn = 3;
    o.blockRows = 97;
    auto p = lap::solvePricedAssignment(rows, hostRows(c, rows), o);
    QVERIFY2(p.ok(), p.ok() ? "" : p.errorMessage().c_str());
    QVERIFY(p->auction && p->optimal && p->gapChecked);
    checkConsistent(p->assignment, c, rows, columns);
    const double tolerance = 1e-10 * std::max(1.0, std::abs(total));
    QVERIFY2(std::abs(p->assignment.totalCost - total) <= tolerance,
        qPrintable(QString("total %1, scipy %2")
                       .arg(p->assignment.totalCost, 0, 'g', 17)
                       .arg(total, 0, 'g', 17)));
    QVERIFY(p->seededPairs > 0);
}

void TestAuction::plantedPairsSameOptimumAsJv()
{
    // SAE-like pairs, easy and clustered (near-ties): the auction-started solve reaches the
    // JV-started one's optimum, both certified, and the auction leaves few rows to the host.
    for (const bool clustered : { false, true }) {
        const int64_t n = 1024;
        auto planted = match::plantedMatchPair(n, 64, clustered, 0.5, 0.3, 3);
        match::MatchOptions mo;
        mo.solver = match::MatchSolver::Priced;
        mo.warmStart = match::MatchWarmStart::JonkerVolgenant;
        auto jv = match::matchParametersExact(planted.a, planted.b, mo);
        mo.warmStart = match::MatchWarmStart::Auction;
        auto auction = match::matchParametersExact(planted.a, planted.b, mo);
        QVERIFY(jv.ok() && auction.ok());
        QCOMPARE(jv->warmStart, std::string("jv"));
        QCOMPARE(auction->warmStart, std::string("auction"));
        QVERIFY(jv->optimal && auction->optimal);
        QVERIFY2(std::abs(auction->solverCost - jv->solverCost) <= 1e-9 * std::abs(jv->solverCost),
            qPrintable(QString("%1 vs %2")
                           .arg(auction->solverCost, 0, 'g', 17)
                           .arg(jv->solverCost, 0, 'g', 17)));
        qInfo("%s n=%lld: auction %.3f s left %lld rows to the exact solve; solve+pricing %.3f s "
              "(JV start: %.3f s)",
            clustered ? "clustered" : "easy", (long long)n, auction->initSeconds,
            (long long)auction->freeRowsAfterInit, auction->solveSeconds, jv->solveSeconds);
        QVERIFY2(auction->freeRowsAfterInit < n / 2,
            qPrintable(QString::number(auction->freeRowsAfterInit)));
    }
}

void TestAuction::badInput()
{
    auto noRows = lap::auctionOnCandidates(at::zeros({ 0, 2 }, at::kLong), at::zeros({ 0, 2 }));
    QVERIFY(!noRows.ok());
    // A row whose candidates are all padding cannot bid.
    const at::Tensor columns = at::tensor({ 0, 1, -1, -1 }, at::kLong).view({ 2, 2 });
    const at::Tensor costs = at::tensor({ 1.0, 2.0, 0.0, 0.0 }, at::kDouble).view({ 2, 2 });
    auto empty = lap::auctionOnCandidates(columns, costs);
    QVERIFY(!empty.ok());
    QVERIFY2(empty.errorMessage().find("no finite candidate") != std::string::npos,
        empty.errorMessage().c_str());
    auto shape = lap::auctionOnCandidates(columns, costs.view({ 4 }));
    QVERIFY(!shape.ok());
}

QTEST_APPLESS_MAIN(TestAuction)
#include "tst_auction.moc"
