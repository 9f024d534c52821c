// A SAE Match series keeps each link as soon as it is done: a series cancelled after some links,
// or its process killed (SIGKILL) at several points, resumes at its first unfinished link, and
// every resumed link equals the uninterrupted run's (pairs, costs, optimality certificate). A
// second series sharing links reuses them.

#include "core/match/match_series.h"
#include "core/sae/sae_io.h"
#include "core/store/database.h"
#include "tests/support/match_fixtures.h"
#include "tests/support/result_text.h"
#include "tests/support/testsupport.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <random>

using namespace fscope::core;

namespace {

// Cancels the job once `after` links are done (as the jobs panel's Cancel does).
class CancelAfter : public jobs::Progress {
public:
    explicit CancelAfter(int64_t after)
        : m_after(after)
    {
    }

protected:
    void changed() override
    {
        if (snapshot().done >= m_after)
            cancel();
    }

private:
    int64_t m_after;
};

std::string linkCount(const std::string &workspace)
{
    auto db = store::Database::open(workspace);
    if (!db)
        return "?";
    return fscope::test::textOr(
        (*db)->queryText("SELECT count(*) FROM cached_results WHERE kind = 'match-link'"), "?");
}

// What a link's result is, without timings.
nlohmann::json essentials(const nlohmann::json &link)
{
    return { link.at("pairs"), link.at("total_cost"), link.at("solver_cost"), link.at("from"),
        link.at("to") };
}

} // namespace

class TestMatchSeriesResume : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cancelledSeriesResumes();
    void killedSeriesResumes();

private:
    QTemporaryDir m_tmp;
    std::vector<std::string> m_small, m_large; // SAE folders in layer order
    std::vector<std::string> series(
        const std::string &name, int64_t layers, int64_t F, int64_t d, uint64_t seed);
};

std::vector<std::string> TestMatchSeriesResume::series(
    const std::string &name, int64_t layers, int64_t F, int64_t d, uint64_t seed)
{
    std::vector<std::string> dirs;
    auto pair = fscope::test::plantedPair(F, d, seed);
    sae::Sae current = pair.a;
    for (int64_t l = 0; l < layers; ++l) {
        dirs.push_back(m_tmp.path().toStdString() + "/" + name + "/layer" + std::to_string(l));
        if (!sae::saveSaeLens(current, dirs.back()).ok())
            return {};
        current = fscope::test::successor(
            current, "blocks." + std::to_string(l + 1) + ".hook_resid_post")
                      .b;
    }
    return dirs;
}

void TestMatchSeriesResume::initTestCase()
{
    m_small = series("small", 6, 96, 32, 41);
    QCOMPARE(m_small.size(), size_t(6));
    // Links slow enough (about a second each on two cores) to be killed in the middle.
    m_large = series("large", 8, 1536, 48, 42);
    QCOMPARE(m_large.size(), size_t(8));
}

void TestMatchSeriesResume::cancelledSeriesResumes()
{
    match::MatchSeriesRequest request;
    request.saePaths = m_small;
    auto reference = match::runMatchSeries(request);
    QVERIFY2(reference, reference ? "" : reference.errorMessage().c_str());
    QCOMPARE(reference->links.size(), size_t(5));

    const std::string workspace = m_tmp.path().toStdString() + "/cancel.fsdb";
    auto db = store::Database::open(workspace);
    QVERIFY(db.ok());
    CancelAfter cancelAfter(3);
    auto cancelled = match::runMatchSeriesCached(db->get(), request, &cancelAfter);
    QVERIFY(!cancelled);
    QVERIFY2(cancelled.errorMessage().find("cancelled") != std::string::npos,
        cancelled.errorMessage().c_str());
    QCOMPARE(linkCount(workspace), std::string("3"));

    auto resumed = match::runMatchSeriesCached(db->get(), request);
    QVERIFY2(resumed, resumed ? "" : resumed.errorMessage().c_str());
    QCOMPARE(resumed->linksFromCache, int64_t(3));
    QCOMPARE(resumed->cached, false);
    QCOMPARE(resumed->links.size(), reference->links.size());
    for (size_t l = 0; l < resumed->links.size(); ++l) {
        const auto &got = resumed->links[l].result, &want = reference->links[l].result;
        QCOMPARE(got.permutation(), want.permutation());
        QCOMPARE(got.totalCost, want.totalCost);
        QCOMPARE(got.solverCost, want.solverCost);
        QVERIFY(got.optimal);
        QCOMPARE(resumed->links[l].hookA, reference->links[l].hookA);
    }
    QCOMPARE(resumed->chainLengths, reference->chainLengths);
    // The finished series is one cached result; a series over part of the same SAEs reuses its
    // links.
    auto again = match::runMatchSeriesCached(db->get(), request);
    QVERIFY(again && again->cached);
    match::MatchSeriesRequest part = request;
    part.saePaths.assign(m_small.begin() + 1, m_small.begin() + 4);
    auto shared = match::runMatchSeriesCached(db->get(), part);
    QVERIFY(shared);
    QCOMPARE(shared->linksFromCache, int64_t(2));
    QCOMPARE(shared->links[0].from, int64_t(0));
    QCOMPARE(shared->links[0].hookA, reference->links[1].hookA);
    QCOMPARE(shared->links[0].result.permutation(), reference->links[1].result.permutation());
    // Another cost is another result: nothing reused.
    part.options.cost = match::MatchCost::Cosine;
    auto cosine = match::runMatchSeriesCached(db->get(), part);
    QVERIFY(cosine);
    QCOMPARE(cosine->linksFromCache, int64_t(0));
}

void TestMatchSeriesResume::killedSeriesResumes()
{
    QStringList args = {
        QStringLiteral("match"),
        QStringLiteral("--json"),
    };
    for (const auto &d : m_large)
        args << QStringLiteral("--sae") << QString::fromStdString(d);
    auto run = [&](const std::string &workspace) {
        QProcess p;
        p.start(QStringLiteral(FEATURESCOPE_CLI),
            args
                + QStringList { QStringLiteral("--workspace"), QString::fromStdString(workspace) });
        p.waitForFinished(600000);
        if (p.exitCode() != 0)
            qWarning("%s", p.readAllStandardError().constData());
        return nlohmann::json::parse(p.readAllStandardOutput().toStdString());
    };
    const nlohmann::json reference = run(m_tmp.path().toStdString() + "/uninterrupted.fsdb");
    QCOMPARE(reference.at("links").size(), size_t(7));

    // Killed after 1, 3 and 5 finished links, and at a random moment within a link.
    std::mt19937 random(7);
    const std::vector<int> killAfter = { 1, 3, 5, -1 };
    for (size_t k = 0; k < killAfter.size(); ++k) {
        const std::string workspace
            = m_tmp.path().toStdString() + "/killed-" + std::to_string(k) + ".fsdb";
        QProcess victim;
        victim.start(QStringLiteral(FEATURESCOPE_CLI),
            args
                + QStringList { QStringLiteral("--workspace"), QString::fromStdString(workspace) });
        QVERIFY(victim.waitForStarted());
        const int wanted = killAfter[k] > 0 ? killAfter[k] : 2;
        QElapsedTimer waited;
        waited.start();
        while (victim.state() != QProcess::NotRunning && waited.elapsed() < 300000
            && std::atoi(linkCount(workspace).c_str()) < wanted)
            QTest::qWait(20);
        if (killAfter[k] < 0)
            QTest::qWait(int(std::uniform_int_distribution<int>(0, 250)(random)));
        QVERIFY2(victim.state() != QProcess::NotRunning, "the series finished before the kill");
        victim.kill(); // SIGKILL
        victim.waitForFinished();
        const int stored = std::atoi(linkCount(workspace).c_str());
        qInfo("killed with %d of 7 links stored", stored);
        QVERIFY(stored >= wanted && stored < 7);
        {
            auto db = store::Database::open(workspace);
            QVERIFY(db.ok());
            QCOMPARE((*db)->queryText("PRAGMA integrity_check").value(), std::string("ok"));
        }
        const nlohmann::json resumed = run(workspace);
        QCOMPARE(resumed.at("links_from_cache").get<int>(), stored);
        QCOMPARE(resumed.at("links").size(), size_t(7));
        for (size_t l = 0; l < 7; ++l)
            QCOMPARE(
                essentials(resumed["links"][l]).dump(), essentials(reference["links"][l]).dump());
        QCOMPARE(resumed.at("chain_lengths"), reference.at("chain_lengths"));
    }
}

QTEST_GUILESS_MAIN(TestMatchSeriesResume)
#include "tst_match_series_resume.moc"
