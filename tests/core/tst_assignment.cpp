// The assignment solver returns the optimum: brute force on small matrices, scipy's
// linear_sum_assignment totals (tests/generators/make_assignment_fixtures.py) on random,
// tied, shifted, low-rank, rectangular and +inf matrices, and an LP-duality certificate on
// every solve.

#include "core/corpus/corpus.h"
#include "core/match/lap/assignment.h"
#include "core/match/lap/priced_assignment.h"
#include "core/match/lap/sparse_assignment.h"
#include "core/util/json_file.h"
#include "tests/support/assignment_fixtures.h"
#include "tests/support/testsupport.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

using namespace fscope::core;
using fscope::test::fixture;
using namespace fscope::test::assignment;

class TestAssignment : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void bruteForceSmall();
    void matchesScipy_data();
    void matchesScipy();
    void initialisationDoesNotChangeTheOptimum();
    void wideRowsOnTwoThreads();
    void forbiddenPairs();
    void badInput();
    void sparseMatchesDense();
    void sparseReportsUnplaceableRow();
    void pricedMatchesScipy_data();
    void pricedMatchesScipy();
    void pricedBruteForceSmall();
    void pricedApproximateBoundsTheOptimum();
    void pricedBadInput();
    void pricedNeverClaimsAFalseProof();
};

void TestAssignment::bruteForceSmall()
{
    for (uint64_t seed = 1; seed <= 60; ++seed) {
        const int64_t n = 1 + int64_t(seed % 7);
        const std::string kind = seed % 3 == 0 ? "ties" : seed % 3 == 1 ? "uniform" : "lowrank";
        const auto c = buildMatrix(kind, 100 + seed, n, n);
        auto a = lap::solveAssignment(c.data(), n, n);
        QVERIFY2(a.ok(), a.ok() ? "" : a.errorMessage().c_str());
        checkConsistent(*a, c, n, n);
        QVERIFY2(std::abs(a->totalCost - bruteForce(c, n)) < 1e-12,
            qPrintable(QString("seed %1").arg(seed)));
    }
}

void TestAssignment::matchesScipy_data()
{
    QVERIFY(addScipyCases(false) >= 15);
}

void TestAssignment::matchesScipy()
{
    QFETCH(QString, kind);
    QFETCH(qint64, seed);
    QFETCH(qint64, rows);
    QFETCH(qint64, columns);
    QFETCH(double, total);
    const auto c = buildMatrix(kind.toStdString(), seed, rows, columns);
    auto a = lap::solveAssignment(c.data(), rows, columns);
    QVERIFY2(a.ok(), a.ok() ? "" : a.errorMessage().c_str());
    checkConsistent(*a, c, rows, columns);
    const double tolerance = 1e-10 * std::max(1.0, std::abs(total));
    QVERIFY2(std::abs(a->totalCost - total) <= tolerance,
        qPrintable(
            QString("total %1, scipy %2").arg(a->totalCost, 0, 'g', 17).arg(total, 0, 'g', 17)));
}

void TestAssignment::initialisationDoesNotChangeTheOptimum()
{
    for (const char *kind : { "uniform", "ties", "lowrank", "scaled" }) {
        const auto c = buildMatrix(kind, 42, 300, 300);
        auto with = lap::solveAssignment(c.data(), 300, 300, { true });
        auto without = lap::solveAssignment(c.data(), 300, 300, { false });
        QVERIFY(with.ok() && without.ok());
        QCOMPARE(without->freeRowsAfterInit, int64_t(300));
        // The initialisation does real work: most rows are placed before any path search.
        QVERIFY2(with->freeRowsAfterInit < 300, kind);
        QVERIFY(std::abs(with->totalCost - without->totalCost)
            <= 1e-9 * std::max(1.0, std::abs(without->totalCost)));
    }
}

void TestAssignment::wideRowsOnTwoThreads()
{
    // From 4096 columns every row scan (initialisation and path search) is split between two
    // threads and the halves' results merged; ties must still resolve to one optimum.
    const int64_t n = 4608;
    for (const char *kind : { "ties", "uniform" }) {
        const auto c = buildMatrix(kind, 7, n, n);
        auto with = lap::solveAssignment(c.data(), n, n, { true });
        auto without = lap::solveAssignment(c.data(), n, n, { false });
        QVERIFY(with.ok() && without.ok());
        checkConsistent(*with, c, n, n);
        checkConsistent(*without, c, n, n);
        QVERIFY2(with->freeRowsAfterInit < n, kind); // the initialisation placed rows
        QVERIFY2(std::abs(with->totalCost - without->totalCost)
                <= 1e-9 * std::max(1.0, std::abs(without->totalCost)),
            kind);
    }
}

void TestAssignment::forbiddenPairs()
{
    // Only the anti-diagonal is allowed: the unique assignment is forced.
    const int64_t n = 5;
    std::vector<double> c(n * n, kInf);
    for (int64_t i = 0; i < n; ++i)
        c[i * n + (n - 1 - i)] = double(i);
    auto a = lap::solveAssignment(c.data(), n, n);
    QVERIFY(a.ok());
    for (int64_t i = 0; i < n; ++i)
        QCOMPARE(a->rowToColumn[i], n - 1 - i);
    QCOMPARE(a->totalCost, 10.0);

    // Two rows that can only use the same column: no complete assignment, and it says so.
    std::vector<double> bad = { 1, kInf, kInf, 2, kInf, kInf, 3, 4, 5 };
    auto b = lap::solveAssignment(bad.data(), 3, 3);
    QVERIFY(!b.ok());
    QVERIFY2(b.errorMessage().find("no complete assignment") != std::string::npos,
        b.errorMessage().c_str());
}

void TestAssignment::badInput()
{
    std::vector<double> c = { 1, 2, std::nan(""), 4 };
    auto a = lap::solveAssignment(c.data(), 2, 2);
    QVERIFY(!a.ok());
    QVERIFY2(a.errorMessage().find("NaN") != std::string::npos, a.errorMessage().c_str());
    auto empty = lap::solveAssignment(static_cast<const double *>(nullptr), 0, 3);
    QVERIFY(empty.ok());
    QCOMPARE(empty->columnToRow.size(), size_t(3));
}

void TestAssignment::sparseMatchesDense()
{
    // With every pair as a candidate the sparse solver is an exact solver on its own, fed in a
    // scrambled order and in two instalments (the second after a first solve).
    for (const char *kind : { "uniform", "ties", "lowrank" }) {
        const int64_t n = 120;
        const auto c = buildMatrix(kind, 31, n, n);
        lap::SparseAssignment s(n);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t t = 0; t < n; t += 2)
                s.addCandidate(i, (t * 7 + i) % n, c[i * n + (t * 7 + i) % n]);
        QVERIFY(s.solve().ok());
        QCOMPARE(s.freeRows(), int64_t(0));
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < n; ++j)
                s.addCandidate(i, j, c[i * n + j]);
        QCOMPARE(s.candidates(), n * n);
        QVERIFY(s.solve().ok());
        lap::Assignment a;
        a.rowToColumn = s.rowToColumn();
        a.columnToRow = s.columnToRow();
        a.u = s.u();
        a.v = s.v();
        a.totalCost = s.totalCost();
        checkConsistent(a, c, n, n);
        auto dense = lap::solveAssignment(c.data(), n, n);
        QVERIFY(dense.ok());
        QVERIFY2(std::abs(a.totalCost - dense->totalCost)
                <= 1e-10 * std::max(1.0, std::abs(dense->totalCost)),
            kind);
    }
}

void TestAssignment::sparseReportsUnplaceableRow()
{
    lap::SparseAssignment s(3);
    s.addCandidate(0, 0, 1);
    s.addCandidate(1, 0, 2);
    s.addCandidate(2, 1, 1);
    s.addCandidate(2, 2, 1);
    const Status st = s.solve();
    QVERIFY(!st.ok());
    QVERIFY2(
        st.errorMessage().find("cannot be placed") != std::string::npos, st.errorMessage().c_str());
    // A candidate that opens a way fixes it, from where the first solve stopped.
    s.addCandidate(1, 2, 5);
    QVERIFY(s.solve().ok());
    QCOMPARE(s.totalCost(), 1.0 + 5.0 + 1.0);
}

void TestAssignment::pricedMatchesScipy_data()
{
    // The priced solver takes square matrices of finite costs; the dense one covers the rest.
    QVERIFY(addScipyCases(true) >= 8);
}

void TestAssignment::pricedMatchesScipy()
{
    QFETCH(QString, kind);
    QFETCH(qint64, seed);
    QFETCH(qint64, rows);
    QFETCH(qint64, columns);
    QFETCH(double, total);
    const auto c = buildMatrix(kind.toStdString(), seed, rows, columns);
    lap::PricedOptions o;
    // Few candidates and small blocks, so that pricing has pairs to add and merges across blocks.
    o.rowCandidates = 2;
    o.columnCandidates = 1;
    o.addPerColumn = 3;
    o.blockRows = 97;
    auto p = lap::solvePricedAssignment(rows, hostRows(c, rows), o);
    QVERIFY2(p.ok(), p.ok() ? "" : p.errorMessage().c_str());
    QVERIFY(p->optimal);
    QVERIFY(p->gapChecked);
    checkConsistent(p->assignment, c, rows, columns);
    const double tolerance = 1e-10 * std::max(1.0, std::abs(total));
    QVERIFY2(std::abs(p->assignment.totalCost - total) <= tolerance,
        qPrintable(QString("total %1, scipy %2")
                       .arg(p->assignment.totalCost, 0, 'g', 17)
                       .arg(total, 0, 'g', 17)));
    QVERIFY2(std::abs(p->gap()) <= tolerance, qPrintable(QString("gap %1").arg(p->gap())));
    // The candidates stayed a fraction of the matrix on anything but tiny problems.
    if (rows >= 400)
        QVERIFY2(p->candidates < rows * columns / 4, qPrintable(QString::number(p->candidates)));
    if (rows >= 50)
        QVERIFY2(p->rounds >= 2, "pricing added nothing: the test does not exercise it");
}

void TestAssignment::pricedBruteForceSmall()
{
    for (uint64_t seed = 1; seed <= 40; ++seed) {
        const int64_t n = 1 + int64_t(seed % 7);
        const std::string kind = seed % 2 == 0 ? "ties" : "uniform";
        const auto c = buildMatrix(kind, 300 + seed, n, n);
        lap::PricedOptions o;
        o.rowCandidates = 1;
        o.columnCandidates = 0;
        o.addPerColumn = 1;
        o.blockRows = 2;
        auto p = lap::solvePricedAssignment(n, hostRows(c, n), o);
        QVERIFY2(p.ok(), p.ok() ? "" : p.errorMessage().c_str());
        QVERIFY(p->optimal);
        checkConsistent(p->assignment, c, n, n);
        QVERIFY2(std::abs(p->assignment.totalCost - bruteForce(c, n)) < 1e-12,
            qPrintable(QString("seed %1").arg(seed)));
    }
}

void TestAssignment::pricedApproximateBoundsTheOptimum()
{
    // No pricing rounds: the optimum over the candidates, with the gap the one check reports.
    const int64_t n = 1500;
    const auto c = buildMatrix("lowrank", 9, n, n);
    auto exact = lap::solveAssignment(c.data(), n, n);
    QVERIFY(exact.ok());
    lap::PricedOptions o;
    o.rowCandidates = 3;
    o.columnCandidates = 0;
    o.maxRounds = 0;
    auto p = lap::solvePricedAssignment(n, hostRows(c, n), o);
    QVERIFY(p.ok());
    QVERIFY(p->gapChecked);
    QVERIFY(!p->optimal); // three candidates per row miss the optimum on this matrix
    const double opt = exact->totalCost, eps = 1e-9 * std::abs(opt);
    QVERIFY2(p->lowerBound <= opt + eps && opt <= p->assignment.totalCost + eps,
        qPrintable(QString("bound %1, optimum %2, found %3")
                       .arg(p->lowerBound)
                       .arg(opt)
                       .arg(p->assignment.totalCost)));
    QVERIFY(p->gap() > 0);
    QCOMPARE(p->rounds, 1);
    // Without the check there is no bound to report.
    o.checkGap = false;
    auto unchecked = lap::solvePricedAssignment(n, hostRows(c, n), o);
    QVERIFY(unchecked.ok());
    QVERIFY(!unchecked->gapChecked);
    QCOMPARE(unchecked->rounds, 0);
    QCOMPARE(unchecked->assignment.totalCost, p->assignment.totalCost);
}

void TestAssignment::pricedBadInput()
{
    std::vector<double> c(16, 1.0);
    c[9] = std::nan("");
    auto p = lap::solvePricedAssignment(4, hostRows(c, 4));
    QVERIFY(!p.ok());
    QVERIFY2(p.errorMessage().find("row 2") != std::string::npos, p.errorMessage().c_str());
    auto wrong = lap::solvePricedAssignment(4, [](int64_t r0, int64_t r1) {
        return at::zeros({ r1 - r0, 3 }, at::kDouble);
    });
    QVERIFY(!wrong.ok());
    QVERIFY2(wrong.errorMessage().find("shape") != std::string::npos, wrong.errorMessage().c_str());
}

void TestAssignment::pricedNeverClaimsAFalseProof()
{
    // Blocks whose values change between passes (the candidate passes see one matrix, the
    // pricing passes a cheaper diagonal): every pass finds pairs that undercut the duals but are
    // candidates already. The solver must stop at its round limit with every row placed and no
    // proof of optimality, not declare the stale candidates optimal.
    const int64_t n = 60;
    const auto c = buildMatrix("uniform", 77, n, n);
    int calls = 0;
    const lap::CostRows drifting = [&](int64_t r0, int64_t r1) {
        at::Tensor block
            = at::from_blob(const_cast<double *>(c.data()) + r0 * n, { r1 - r0, n }, at::kDouble)
                  .clone();
        if (++calls > 2)
            for (int64_t i = r0; i < r1; ++i)
                block[i - r0][i] -= 10.0;
        return block;
    };
    lap::PricedOptions o;
    o.blockRows = n;
    o.maxRounds = 4;
    o.rowCandidates = n; // every pair is a candidate: nothing new can be added
    auto p = lap::solvePricedAssignment(n, drifting, o);
    QVERIFY(p.ok());
    QVERIFY(!p->optimal);
    QCOMPARE(p->rounds, 5); // four that lowered columns, one for the bound
    QVERIFY(p->gapChecked);
    for (int64_t i = 0; i < n; ++i)
        QVERIFY(p->assignment.rowToColumn[size_t(i)] >= 0);
    QVERIFY(p->gap() > 0);
}

QTEST_GUILESS_MAIN(TestAssignment)
#include "tst_assignment.moc"
