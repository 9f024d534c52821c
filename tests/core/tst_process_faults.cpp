// Process faults: featurescope-cli killed (SIGKILL) at random moments of a decomposition and of
// a report export. No partial file is ever visible under a report's name (each file is whole:
// the uninterrupted run's bytes); the workspace passes integrity_check; the run again finishes
// with what the uninterrupted run gave, reusing every method the killed one had stored, and
// leaves no temporary behind. (Indexing and SAE Match series have their own kill tests in
// tst_indexer and tst_match_series_resume.)

#include "core/index/indexer.h"
#include "core/model/decoder.h"
#include "core/sae/sae_io.h"
#include "core/steer/steering_vector.h"
#include "core/store/index_store.h"
#include "tests/support/index_fixtures.h"
#include "tests/support/match_fixtures.h"
#include "tests/support/result_text.h"
#include "tests/support/testsupport.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <random>

using namespace fscope::core;
namespace fs = std::filesystem;

namespace {

// Every file under `dir` by its path relative to it.
std::map<std::string, std::string> filesUnder(const std::string &dir)
{
    std::map<std::string, std::string> files;
    std::error_code ec;
    for (const auto &e : fs::recursive_directory_iterator(dir, ec))
        if (e.is_regular_file())
            files[fs::relative(e.path(), dir).string()] = fscope::test::readFile(e.path().string());
    return files;
}

struct Run {
    int code = -1;
    QByteArray out, err;
    qint64 ms = 0;
};

Run cli(const QStringList &args)
{
    QElapsedTimer timer;
    timer.start();
    QProcess p;
    p.start(QStringLiteral(FEATURESCOPE_CLI), args);
    p.waitForFinished(300000);
    return { p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError(), timer.elapsed() };
}

// Starts the CLI and kills it `delayMs` later (counted from when a file first shows in
// `watch`, when given); false when it had already finished.
bool killAfter(const QStringList &args, int delayMs, const std::string &watch = {})
{
    QProcess p;
    p.start(QStringLiteral(FEATURESCOPE_CLI), args);
    if (!p.waitForStarted())
        return false;
    if (!watch.empty()) {
        std::error_code ec;
        while (p.state() != QProcess::NotRunning && fs::is_empty(watch, ec))
            p.waitForFinished(2);
    }
    if (p.state() == QProcess::NotRunning || p.waitForFinished(delayMs))
        return false;
    p.kill();
    p.waitForFinished();
    return true;
}

bool near(double a, double b)
{
    return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b));
}

// Two runs' results of one decomposition method agree (see killedDecompositionResumes).
bool sameDecomposition(const nlohmann::json &got, const nlohmann::json &want)
{
    const auto &g = got.at("coefficients"), &w = want.at("coefficients");
    if (g.size() != w.size() || !near(got.at("cosine"), want.at("cosine"))
        || !near(got.at("fve"), want.at("fve")))
        return false;
    for (size_t t = 0; t < g.size(); ++t)
        if (g[t][0] != w[t][0] || !near(g[t][1], w[t][1]))
            return false;
    return true;
}

std::string query(const std::string &workspace, const std::string &sql)
{
    auto db = store::Database::open(workspace);
    return db ? fscope::test::textOr((*db)->queryText(sql), "?") : "cannot open";
}

} // namespace

class TestProcessFaults : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void killedDecompositionResumes();
    void killedReportExportLeavesNoPartialFile();

private:
    QTemporaryDir m_tmp;
    std::mt19937 m_random { 26 };
    std::string m_saePath, m_vectorPath, m_workspace;
    int64_t m_indexId = 0;
    std::string path(const std::string &name) const
    {
        return m_tmp.path().toStdString() + "/" + name;
    }
};

void TestProcessFaults::initTestCase()
{
    // A wide SAE and a vector, so the decomposition's methods take a while each.
    at::manual_seed(5);
    const int64_t F = 12288, d = 96;
    const sae::Sae wide = fscope::test::jumpRelu("blocks.0.hook_resid_post",
        fscope::test::unitRows(at::randn({ F, d })), at::exp(0.5 * at::randn({ F })),
        at::zeros({ d }));
    m_saePath = path("wide-sae");
    QVERIFY(sae::saveSaeLens(wide, m_saePath).ok());
    m_vectorPath = path("vector.npy");
    QVERIFY(steer::saveSteeringVector(m_vectorPath, at::randn({ d })).ok());

    // An indexed workspace to export reports from.
    fscope::test::TwoSaeRequest request;
    auto decoder = model::Decoder::load(fscope::test::fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    request.decoder = std::move(decoder).value();
    m_workspace = path("reports.fsdb");
    auto db = store::Database::open(m_workspace);
    QVERIFY(db.ok());
    auto indexed = index::indexCorpus(**db, request.inputs(), request.options(), nullptr);
    QVERIFY2(indexed.ok(), indexed.ok() ? "" : indexed.errorMessage().c_str());
    m_indexId = indexed->indexIds[0];
}

void TestProcessFaults::killedDecompositionResumes()
{
    auto args = [&](const std::string &workspace) {
        return QStringList { QStringLiteral("decompose"), QStringLiteral("--sae"),
            QString::fromStdString(m_saePath), QStringLiteral("--vector"),
            QString::fromStdString(m_vectorPath), QStringLiteral("--method"), QStringLiteral("all"),
            QStringLiteral("--workspace"), QString::fromStdString(workspace),
            QStringLiteral("--json") };
    };
    const Run reference = cli(args(path("decompose-reference.fsdb")));
    QVERIFY2(reference.code == 0, reference.err.constData());
    const auto want = nlohmann::json::parse(reference.out.toStdString());
    const size_t methods = want.at("methods").size();
    QVERIFY(methods >= 8);
    qInfo("uninterrupted decomposition: %lld ms, %zu methods", (long long)reference.ms, methods);

    int killed = 0, partway = 0;
    for (int k = 0; k < 6; ++k) {
        const std::string workspace = path("decompose-killed-" + std::to_string(k) + ".fsdb");
        // Spread over the run: most methods are quick, the last ones take most of the time.
        const int delay = std::uniform_int_distribution<int>(
            int(reference.ms / 10), int(reference.ms * 7 / 10))(m_random);
        if (!killAfter(args(workspace), delay))
            continue;
        ++killed;
        const std::string integrity = query(workspace, "PRAGMA integrity_check");
        QVERIFY2(integrity == "ok" || !fs::exists(workspace), integrity.c_str());
        const int stored = fs::exists(workspace) ? std::stoi(query(workspace,
                               "SELECT count(*) FROM cached_results WHERE kind = 'decompose'"))
                                                 : 0;
        partway += stored > 0 && size_t(stored) < methods;
        const Run resumed = cli(args(workspace));
        QVERIFY2(resumed.code == 0, resumed.err.constData());
        const auto got = nlohmann::json::parse(resumed.out.toStdString());
        int reused = 0;
        for (size_t m = 0; m < methods; ++m) {
            const auto &g = got["methods"][m], &w = want["methods"][m];
            const std::string method = w["method"].get<std::string>();
            QVERIFY2(g["method"] == w["method"], method.c_str());
            // The same features in the same order with the same values: exactly where the
            // method came from the cache, to double rounding where it ran again (OpenBLAS's
            // threaded least squares is not bit-reproducible between processes).
            QVERIFY2(sameDecomposition(g, w),
                (method + ": " + g.dump().substr(0, 400) + " vs " + w.dump().substr(0, 400))
                    .c_str());
            if (g["cached"].get<bool>())
                QVERIFY2(g["coefficients"] == w["coefficients"], (method + ": cached").c_str());
            reused += g["cached"].get<bool>();
        }
        qInfo("killed after %d ms with %d of %zu methods stored; the rerun reused %d", delay,
            stored, methods, reused);
        QVERIFY2(reused == stored,
            qPrintable(QString("reused %1 of %2 stored").arg(reused).arg(stored)));
    }
    QVERIFY2(killed >= 4, "the decomposition finished before most kills");
    QVERIFY(partway > 0); // some kill fell between two methods
}

void TestProcessFaults::killedReportExportLeavesNoPartialFile()
{
    QStringList features;
    for (int f = 0; f < 48; ++f)
        features << QStringLiteral("--id") << QString::number(f);
    auto args = [&](const std::string &out) {
        return QStringList { QStringLiteral("report"), QString::fromStdString(m_workspace),
            QStringLiteral("--sae"), QString::number(m_indexId), QStringLiteral("--out"),
            QString::fromStdString(out) }
        + features;
    };
    const std::string referenceDir = path("report-reference");
    fs::create_directories(referenceDir);
    const Run reference = cli(args(referenceDir + "/features.md"));
    QVERIFY2(reference.code == 0, reference.err.constData());
    const auto want = filesUnder(referenceDir);
    QVERIFY(want.size() > 48); // the document and its charts
    qInfo("uninterrupted export: %lld ms, %zu files", (long long)reference.ms, want.size());

    int killed = 0, partial = 0;
    for (int k = 0; k < 9; ++k) {
        const std::string dir = path("report-killed-" + std::to_string(k));
        fs::create_directories(dir);
        // Odd runs: a random moment of the whole run. Even runs: a random moment after the first
        // file appears, inside the writes.
        const bool inWrites = k % 2 == 0;
        const int delay
            = std::uniform_int_distribution<int>(0, inWrites ? 60 : int(reference.ms))(m_random);
        if (!killAfter(args(dir + "/features.md"), delay, inWrites ? dir : std::string()))
            continue;
        ++killed;
        // Whatever is there under a report's own name is whole.
        int whole = 0, temporaries = 0;
        for (const auto &[name, bytes] : filesUnder(dir)) {
            if (name.find(".part-") != std::string::npos) {
                ++temporaries;
                continue;
            }
            QVERIFY2(want.count(name), name.c_str());
            QVERIFY2(want.at(name) == bytes, ("partial file: " + name).c_str());
            ++whole;
        }
        partial += whole > 0 && size_t(whole) < want.size();
        qInfo("killed %d ms after %s: %d of %zu files whole, %d temporaries", delay,
            inWrites ? "the first file appeared" : "the start", whole, want.size(), temporaries);
        // The export again: the reference's files exactly, and the killed run's temporaries gone.
        const Run again = cli(args(dir + "/features.md"));
        QVERIFY2(again.code == 0, again.err.constData());
        QVERIFY(filesUnder(dir) == want);
    }
    QVERIFY2(killed >= 6, "the export finished before most kills");
    QVERIFY(partial > 0); // some kill fell while the files were being written
    // A bad feature id is refused, not a crash.
    const Run bad = cli({ QStringLiteral("report"), QString::fromStdString(m_workspace),
        QStringLiteral("--sae"), QString::number(m_indexId), QStringLiteral("--out"),
        QString::fromStdString(path("bad.md")), QStringLiteral("--id"), QStringLiteral("x7") });
    QVERIFY(bad.code != 0);
    QVERIFY2(bad.err.contains("--id 'x7' is not a feature id"), bad.err.constData());
}

QTEST_GUILESS_MAIN(TestProcessFaults)
#include "tst_process_faults.moc"
