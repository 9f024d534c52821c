#pragma once
// Assignment test matrices shared by the solver tests: the generator's hashed matrices (bit-
// identical to tests/generators/make_assignment_fixtures.py), brute force, the consistency and
// duality check of a result, host rows for the priced solver and scipy's cases as test rows.

#include "core/corpus/corpus.h"
#include "core/match/lap/assignment.h"
#include "core/match/lap/priced_assignment.h"
#include "core/util/json_file.h"
#include "tests/support/testsupport.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

namespace fscope::test::assignment {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

// u(seed, i, j), bit-identical to the generator's numpy version.
inline double hashUniform(uint64_t seed, uint64_t i, uint64_t j)
{
    const uint64_t key = (seed * 1000003ULL) ^ (i << 32) ^ j;
    return double(core::corpus::mix64(key) >> 11) * 0x1.0p-53;
}

inline std::vector<double> buildMatrix(const std::string &kind, uint64_t seed, int64_t n, int64_t m)
{
    std::vector<double> c(n * m);
    for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < m; ++j) {
            double &x = c[i * m + j];
            const double u = hashUniform(seed, i, j);
            if (kind == "uniform") {
                x = u;
            } else if (kind == "ties") {
                x = std::floor(u * 8);
            } else if (kind == "inf") {
                x = (hashUniform(seed + 7, i, j) >= 0.4 || i == j) ? u : kInf;
            } else if (kind == "scaled") {
                x = u * 1e6 + 1e9 * double(i % 3);
            } else if (kind == "lowrank") {
                double s = 0;
                for (int k = 0; k < 8; ++k)
                    s = s - (hashUniform(seed, i, k) - 0.5) * (hashUniform(seed + 1, j, k) - 0.5);
                x = s;
            }
        }
    }
    return c;
}

inline double bruteForce(const std::vector<double> &c, int64_t n)
{
    std::vector<int64_t> p(n);
    std::iota(p.begin(), p.end(), 0);
    double best = kInf;
    do {
        double s = 0;
        for (int64_t i = 0; i < n; ++i)
            s += c[i * n + p[i]];
        best = std::min(best, s);
    } while (std::next_permutation(p.begin(), p.end()));
    return best;
}

inline void checkConsistent(
    const core::lap::Assignment &a, const std::vector<double> &c, int64_t n, int64_t m)
{
    std::set<int64_t> used;
    int64_t pairs = 0;
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = a.rowToColumn[i];
        if (j < 0)
            continue;
        QVERIFY(j < m);
        QVERIFY2(used.insert(j).second, "a column is used twice");
        QCOMPARE(a.columnToRow[j], i);
        total += c[i * m + j];
        ++pairs;
    }
    QCOMPARE(pairs, std::min(n, m));
    QCOMPARE(a.totalCost, total);
    QVERIFY2(core::lap::dualGap(c.data(), n, m, a) < 1e-9, "the duals do not certify optimality");
}

// The dense matrix as the priced solver reads it: blocks of rows, here from the host.
inline core::lap::CostRows hostRows(const std::vector<double> &c, int64_t n)
{
    return [&c, n](int64_t r0, int64_t r1) {
        return at::from_blob(const_cast<double *>(c.data()) + r0 * n, { r1 - r0, n }, at::kDouble);
    };
}

// The scipy cases of tests/fixtures/assignment/expected.json as test rows; `squareFinite`
// keeps only square matrices without +inf (what the priced solver takes). Returns the count,
// -1 when the fixture cannot be read.
inline int addScipyCases(bool squareFinite)
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<qint64>("seed");
    QTest::addColumn<qint64>("rows");
    QTest::addColumn<qint64>("columns");
    QTest::addColumn<double>("total");
    auto json = core::readJsonFile(fscope::test::fixture("assignment/expected.json"));
    if (!json.ok()) {
        qWarning("%s", json.errorMessage().c_str());
        return -1;
    }
    int cases = 0;
    for (const auto &c : (*json)["cases"]) {
        const std::string kind = c["kind"].get<std::string>();
        const int64_t rows = c["rows"].get<int64_t>(), columns = c["columns"].get<int64_t>();
        if (squareFinite && (kind == "inf" || rows != columns))
            continue;
        const QString name
            = QString("%1-%2x%3").arg(QString::fromStdString(kind)).arg(rows).arg(columns);
        QTest::newRow(qPrintable(name))
            << QString::fromStdString(kind) << c["seed"].get<qint64>() << qint64(rows)
            << qint64(columns) << c["total"].get<double>();
        ++cases;
    }
    return cases;
}

} // namespace fscope::test::assignment
