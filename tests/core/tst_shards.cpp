// Sharded indexing against the single-process index of the same request: offline shards joined
// by `merge`, and two or three ranks of one distributed run (c10d over loopback), each equal to
// it table by table; parts that do not belong together are refused by name; a killed rank stops
// the others with its number and a rerun resumes to the same workspace.

#include "core/corpus/corpus.h"
#include "core/dist/ranks.h"
#include "core/index/shards.h"
#include "core/model/synthetic_model.h"
#include "core/sae/sae_io.h"
#include "core/store/database.h"
#include "core/store/statement.h"
#include "tests/support/testsupport.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace fscope::core;
using fscope::test::fixture;

namespace {

sae::Sae randomSae(const std::string &hook, int64_t dIn, int64_t dSae, uint64_t seed)
{
    at::manual_seed(seed);
    sae::SaeConfig cfg;
    cfg.architecture = sae::Architecture::Relu;
    cfg.dIn = dIn;
    cfg.dSae = dSae;
    cfg.hookName = hook;
    sae::SaeWeights w;
    w.W_enc = at::randn({ dIn, dSae }) / std::sqrt(double(dIn));
    w.b_enc = at::zeros({ dSae });
    w.W_dec = at::randn({ dSae, dIn }) / std::sqrt(double(dIn));
    w.b_dec = at::zeros({ dIn });
    return sae::Sae(cfg, w);
}

// Every table of a workspace as text, rows sorted, without the columns that record when a row
// was written (created_at, finished_at) and the full-text index's shadow tables (derived).
QString dumpWorkspace(const std::string &path)
{
    auto db = store::Database::open(path);
    if (!db)
        return QString::fromStdString(db.errorMessage());
    QString out;
    auto tables = store::Statement::prepare(**db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND "
        "name NOT LIKE '%_fts%' ORDER BY name");
    std::vector<std::string> names;
    while (tables->step().value())
        names.push_back(tables->text(0));
    for (const auto &table : names) {
        auto info = store::Statement::prepare(**db, "PRAGMA table_info(" + table + ")");
        std::string columns;
        while (info->step().value()) {
            const std::string c = info->text(1);
            if (c != "created_at" && c != "finished_at" && c != "added_at")
                columns += (columns.empty() ? "" : ", ") + std::string("quote(") + c + ")";
        }
        auto rows = store::Statement::prepare(
            **db, "SELECT " + columns + " FROM " + table + " ORDER BY " + columns);
        const int n = QString::fromStdString(columns).count("quote(");
        out += QString::fromStdString("# " + table + "\n");
        while (rows->step().value()) {
            for (int c = 0; c < n; ++c)
                out += QString::fromStdString(rows->text(c)) + '|';
            out += '\n';
        }
    }
    return out;
}

int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

struct Run {
    int exitCode = -1;
    QString out, err;
};

} // namespace

class TestShards : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_reference; // dump of the single-process workspace

    std::string path(const std::string &name) const
    {
        return (m_tmp.path() + "/").toStdString() + name;
    }
    QStringList indexArgs(
        const std::string &out, const char *tokens = "6k", const char *batch = "2") const
    {
        return { "index", "--model", QString::fromStdString(path("model")), "--sae",
            QString::fromStdString(path("sae-0")), "--sae", QString::fromStdString(path("sae-1")),
            "--corpus", QString::fromStdString(path("corpus.txt")), "--tokens", tokens, "--context",
            "32", "--batch-size", batch, "--commit-every", "1", "--out",
            QString::fromStdString(path(out)) };
    }
    Run cli(const QStringList &args) const
    {
        QProcess p;
        p.start(QStringLiteral(FEATURESCOPE_CLI), args);
        p.waitForFinished(300000);
        return { p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
            QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError()) };
    }
    // `world` ranks of one run, started with torchrun's variables; their runs, in rank order.
    std::vector<std::unique_ptr<QProcess>> startRanks(
        int world, const QStringList &args, int port, const QStringList &extra = {}) const
    {
        std::vector<std::unique_ptr<QProcess>> ranks;
        for (int r = 0; r < world; ++r) {
            auto p = std::make_unique<QProcess>();
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert("RANK", QString::number(r));
            env.insert("LOCAL_RANK", QString::number(r));
            env.insert("WORLD_SIZE", QString::number(world));
            env.insert("MASTER_ADDR", "127.0.0.1");
            env.insert("MASTER_PORT", QString::number(port));
            p->setProcessEnvironment(env);
            p->start(QStringLiteral(FEATURESCOPE_CLI), args + extra);
            p->waitForStarted();
            ranks.push_back(std::move(p));
        }
        return ranks;
    }
    static std::vector<Run> finish(std::vector<std::unique_ptr<QProcess>> &ranks, int ms = 300000)
    {
        std::vector<Run> runs;
        for (auto &p : ranks) {
            p->waitForFinished(ms);
            runs.push_back({ p->exitStatus() == QProcess::NormalExit ? p->exitCode() : -1,
                QString::fromUtf8(p->readAllStandardOutput()),
                QString::fromUtf8(p->readAllStandardError()) });
        }
        return runs;
    }

private Q_SLOTS:
    void initTestCase();
    void shardsSplitTheBatches();
    void rankEnvironmentFromLaunchers();
    void offlineShardsMergeToTheSingleRun();
    void mergeRefusesPartsThatDoNotBelong();
    void ranksMergeToTheSingleRun();
    void lostRankStopsTheOthersAndResumes();
};

void TestShards::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    model::Gpt2Shape shape { 50257, 32, 2, 4, 64, 50256 };
    QVERIFY(model::writeRandomGpt2(path("model"), shape, 9).ok());
    for (const char *f : { "vocab.json", "merges.txt" })
        std::filesystem::copy_file(fixture(QString("tokenizers/gpt2/") + f), path("model/") + f);
    QVERIFY(sae::saveSaeLens(randomSae("blocks.0.hook_resid_post", 32, 48, 4), path("sae-0")).ok());
    QVERIFY(sae::saveSaeLens(randomSae("blocks.1.hook_resid_post", 32, 40, 5), path("sae-1")).ok());
    {
        std::ofstream text(path("corpus.txt"));
        const char *words[] = { "the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far",
            "away", "from", "home", "today" };
        uint64_t s = 3;
        for (int line = 0; line < 6000; ++line)
            for (int w = 0; w < 12; ++w) {
                s = corpus::mix64(s);
                text << words[s % 14] << (w == 11 ? ".\n" : " ");
            }
    }
    const Run single = cli(indexArgs("single.fsdb"));
    QVERIFY2(single.exitCode == 0, qPrintable(single.err));
    m_reference = dumpWorkspace(path("single.fsdb"));
    // Both indexes are there, with examples: the comparisons below compare something.
    QVERIFY(m_reference.count("'done'") == 2);
    QVERIFY(m_reference.section("# examples", 1).section("# ", 0, 0).count('\n') > 500);
}

void TestShards::shardsSplitTheBatches()
{
    for (int64_t batches : { 0, 1, 5, 96, 97 })
        for (int64_t W : { 1, 2, 3, 7 }) {
            int64_t next = 0;
            for (int64_t r = 0; r < W; ++r) {
                const auto [first, end] = index::shardBatches(batches, { r, W });
                QCOMPARE(first, next); // contiguous, in rank order
                QVERIFY(end - first == batches / W || end - first == batches / W + 1);
                next = end;
            }
            QCOMPARE(next, batches); // every batch once
        }
    QCOMPARE(index::parseShard("2/5").value().rank, int64_t(2));
    QCOMPARE(index::parseShard("2/5").value().count, int64_t(5));
    for (const char *bad : { "5/5", "-1/3", "1", "a/3", "1/0", "1/3x", "" }) {
        const auto s = index::parseShard(bad);
        QVERIFY2(!s.ok(), bad);
        QVERIFY(s.errorMessage().find("R/W") != std::string::npos);
    }
}

void TestShards::rankEnvironmentFromLaunchers()
{
    std::map<std::string, std::string> vars;
    auto get = [&](const char *n) -> const char * {
        auto it = vars.find(n);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
    QVERIFY(!dist::rankEnvironment(-1, -1, get).value()); // no launcher: one process
    vars = { { "RANK", "2" }, { "WORLD_SIZE", "4" }, { "LOCAL_RANK", "0" },
        { "MASTER_ADDR", "10.0.0.7" }, { "MASTER_PORT", "29400" },
        { "TORCHELASTIC_USE_AGENT_STORE", "True" }, { "TORCHELASTIC_RESTART_COUNT", "1" } };
    auto t = dist::rankEnvironment(-1, -1, get).value();
    QVERIFY(t);
    QCOMPARE(t->rank, int64_t(2));
    QCOMPARE(t->worldSize, int64_t(4));
    QCOMPARE(t->localRank, int64_t(0));
    QCOMPARE(t->masterAddr, std::string("10.0.0.7"));
    QCOMPARE(t->port, 29400);
    QVERIFY(t->agentStore);
    QCOMPARE(t->restartCount, int64_t(1));
    QCOMPARE(t->launcher, std::string("torchrun"));
    vars = { { "RANK", "0" }, { "WORLD_SIZE", "1" } };
    QVERIFY(!dist::rankEnvironment(-1, -1, get).value()); // a world of one is one process
    vars = { { "SLURM_PROCID", "3" }, { "SLURM_NTASKS", "8" }, { "SLURM_LOCALID", "1" },
        { "SLURM_JOB_ID", "123456" }, { "MASTER_ADDR", "node01" } };
    auto s = dist::rankEnvironment(-1, -1, get).value();
    QVERIFY(s);
    QCOMPARE(s->rank, int64_t(3));
    QCOMPARE(s->worldSize, int64_t(8));
    QCOMPARE(s->localRank, int64_t(1));
    QCOMPARE(s->port, 20000 + 123456 % 20000);
    QVERIFY(!s->agentStore);
    vars.erase("MASTER_ADDR");
    const auto noAddr = dist::rankEnvironment(-1, -1, get);
    QVERIFY(!noAddr.ok() && noAddr.errorMessage().find("MASTER_ADDR") != std::string::npos);
    vars = { { "RANK", "x" }, { "WORLD_SIZE", "2" } };
    const auto bad = dist::rankEnvironment(-1, -1, get);
    QVERIFY(!bad.ok() && bad.errorMessage().find("RANK='x'") != std::string::npos);
    vars = { { "RANK", "1" }, { "WORLD_SIZE", "4" } };
    auto byHand = dist::rankEnvironment(0, 2, get).value(); // --rank/--world-size win
    QVERIFY(byHand);
    QCOMPARE(byHand->rank, int64_t(0));
    QCOMPARE(byHand->worldSize, int64_t(2));
    QVERIFY(!dist::rankEnvironment(2, 2, get).ok());
}

void TestShards::offlineShardsMergeToTheSingleRun()
{
    for (int r = 0; r < 3; ++r) {
        const Run part = cli(indexArgs("part-" + std::to_string(r) + ".fsdb")
            << "--shard" << QString("%1/3").arg(r));
        QVERIFY2(part.exitCode == 0, qPrintable(part.err));
    }
    // A part alone is not an index: it holds its shard's state, unfinished.
    QVERIFY(!dumpWorkspace(path("part-1.fsdb")).contains("'done'"));
    // Merged in any order, the workspace is the single run's.
    const Run merged = cli({ "merge", QString::fromStdString(path("part-2.fsdb")),
        QString::fromStdString(path("part-0.fsdb")), QString::fromStdString(path("part-1.fsdb")),
        "--out", QString::fromStdString(path("merged.fsdb")), "--json" });
    QVERIFY2(merged.exitCode == 0, qPrintable(merged.err));
    QVERIFY(merged.out.contains("\"indexes\":2"));
    QCOMPARE(dumpWorkspace(path("merged.fsdb")), m_reference);
    QVERIFY(!std::filesystem::exists(path("merged.fsdb.partial")));

    // Rerunning a finished shard computes nothing.
    const Run again = cli(indexArgs("part-1.fsdb") << "--shard"
                                                   << "1/3"
                                                   << "--json");
    QVERIFY2(again.exitCode == 0, qPrintable(again.err));
    QVERIFY(again.out.contains("\"batches_run\":0"));
}

void TestShards::mergeRefusesPartsThatDoNotBelong()
{
    auto part = [&](int r) {
        return QString::fromStdString(path("part-" + std::to_string(r) + ".fsdb"));
    };
    auto refused = [&](QStringList parts, const char *out, const QString &what) {
        const Run run = cli(QStringList { "merge" } + parts
            + QStringList { "--out", QString::fromStdString(path(out)) });
        QVERIFY2(run.exitCode != 0, qPrintable(run.out));
        QVERIFY2(run.err.contains(what), qPrintable(run.err));
        QVERIFY(!std::filesystem::exists(path(out)));
    };
    refused({ part(0), part(1) }, "m1.fsdb", "shard 2 of 3 is missing");
    refused({ part(0), part(1), part(1), part(2) }, "m2.fsdb",
        part(1) + ": is shard 1 of 3, like " + part(1));
    // Another request: fewer top examples.
    const Run foreign = cli(indexArgs("foreign-1.fsdb") << "--shard"
                                                        << "1/3"
                                                        << "--top"
                                                        << "5");
    QVERIFY2(foreign.exitCode == 0, qPrintable(foreign.err));
    const QString f = QString::fromStdString(path("foreign-1.fsdb"));
    refused({ part(0), f, part(2) }, "m3.fsdb", f + ": belongs to another request than " + part(0));
    // Another split of the same request.
    const Run other = cli(indexArgs("half-1.fsdb") << "--shard"
                                                   << "1/2");
    QVERIFY2(other.exitCode == 0, qPrintable(other.err));
    refused({ part(0), QString::fromStdString(path("half-1.fsdb")), part(2) }, "m4.fsdb",
        "different splits");
    // An unfinished shard (as a killed run leaves it).
    std::filesystem::copy_file(path("part-2.fsdb"), path("unfinished-2.fsdb"));
    {
        auto db = store::Database::open(path("unfinished-2.fsdb"));
        QVERIFY(db.ok() && (*db)->exec("UPDATE index_shards SET complete = 0").ok());
    }
    const QString u = QString::fromStdString(path("unfinished-2.fsdb"));
    refused({ part(0), part(1), u }, "m5.fsdb", u + ": shard 2 of 3 is not complete");
    // A workspace that is not a part, and an output that exists.
    const QString single = QString::fromStdString(path("single.fsdb"));
    refused({ single }, "m6.fsdb", single + ": holds no shard");
    const Run exists = cli({ "merge", part(0), part(1), part(2), "--out", single });
    QVERIFY(exists.exitCode != 0 && exists.err.contains("exists already"));
    QCOMPARE(dumpWorkspace(path("single.fsdb")), m_reference); // untouched
}

void TestShards::ranksMergeToTheSingleRun()
{
    if (!dist::distributedAvailable())
        QSKIP("this build has no c10d (torch.distributed with Gloo)");
    for (int world : { 2, 3 }) {
        const std::string out = "ranks-" + std::to_string(world) + ".fsdb";
        auto ranks = startRanks(world, indexArgs(out) << "--json", freePort());
        const auto runs = finish(ranks);
        for (int r = 0; r < world; ++r)
            QVERIFY2(
                runs[r].exitCode == 0, qPrintable(QString("rank %1: %2").arg(r).arg(runs[r].err)));
        QVERIFY(runs[1].out.contains("\"merged\":true"));
        QCOMPARE(dumpWorkspace(path(out)), m_reference);
        // The other ranks' parts are gone once rank 0 holds the merged index.
        for (int r = 1; r < world; ++r)
            QVERIFY(!std::filesystem::exists(
                path(out + ".rank-" + std::to_string(r) + "-of-" + std::to_string(world))));
    }
}

void TestShards::lostRankStopsTheOthersAndResumes()
{
    if (!dist::distributedAvailable())
        QSKIP("this build has no c10d (torch.distributed with Gloo)");
    // One context per batch and a checkpoint after each, so the run lasts long enough to kill.
    const QStringList args = indexArgs("lost.fsdb", "24k", "1");
    const Run reference = cli(indexArgs("lost-reference.fsdb", "24k", "1"));
    QVERIFY2(reference.exitCode == 0, qPrintable(reference.err));
    const QStringList extra { "--lost-after", "3" };
    auto ranks = startRanks(3, args, freePort(), extra);
    const std::string part1 = path("lost.fsdb.rank-1-of-3");
    bool checkpointed = false;
    for (int i = 0; i < 6000 && !checkpointed && ranks[1]->state() == QProcess::Running; ++i) {
        QTest::qWait(10);
        if (std::filesystem::exists(part1))
            if (auto db = store::Database::open(part1); db.ok()) {
                auto n = (*db)->queryText("SELECT count(*) FROM index_checkpoints");
                checkpointed = n.ok() && *n != "0";
            }
    }
    QVERIFY2(checkpointed, "rank 1 finished or failed before its first checkpoint");
    ranks[1]->kill();
    QElapsedTimer clock;
    clock.start();
    const auto runs = finish(ranks, 60000);
    const double stopped = clock.elapsed() / 1000.0;
    qInfo("ranks 0 and 2 stopped %.1f s after rank 1 was killed", stopped);
    QCOMPARE(runs[1].exitCode, -1);
    for (int r : { 0, 2 }) {
        QVERIFY2(runs[r].exitCode == 1, qPrintable(runs[r].out));
        QVERIFY2(runs[r].err.contains("rank 1 was lost"), qPrintable(runs[r].err));
    }
    QVERIFY(stopped < 30); // the heartbeat timeout, not the transfer timeout

    // The same command again resumes each shard from its checkpoint, to the same workspace.
    auto rerun = startRanks(3, args, freePort(), extra);
    const auto again = finish(rerun);
    for (int r = 0; r < 3; ++r)
        QVERIFY2(
            again[r].exitCode == 0, qPrintable(QString("rank %1: %2").arg(r).arg(again[r].err)));
    QCOMPARE(dumpWorkspace(path("lost.fsdb")), dumpWorkspace(path("lost-reference.fsdb")));
}

QTEST_GUILESS_MAIN(TestShards)
#include "tst_shards.moc"
