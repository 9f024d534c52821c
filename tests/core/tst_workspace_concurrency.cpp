// Two processes on one workspace, as when the GUI has it open while featurescope-cli imports
// into it: three CLI imports run while this process writes labels, each write in its own
// transaction. Every write of both sides lands (none lost, none doubled), the file stays
// consistent, and a writer kept waiting past the busy timeout fails with a message that names
// the workspace and says what to do, losing nothing.

#include "core/index/indexer.h"
#include "core/model/decoder.h"
#include "core/store/index_store.h"
#include "tests/support/cli_run.h"
#include "tests/support/index_fixtures.h"
#include "tests/support/result_text.h"
#include "tests/support/testsupport.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace fscope::core;

namespace {

constexpr int kImports = 3;
constexpr int kRecords = 300;
constexpr int kLabels = 240;

std::string count(store::Database &db, const std::string &sql)
{
    return fscope::test::textOr(db.queryText(sql), "?");
}

} // namespace

class TestWorkspaceConcurrency : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cliImportsWhileLabelling();
    void busyWorkspaceFailsClearly();

private:
    QTemporaryDir m_tmp;
    std::string m_workspace;
    int64_t m_indexId = 0, m_saeId = 0;
    std::string importFile(int k) const
    {
        return m_tmp.path().toStdString() + "/import-" + std::to_string(k) + ".jsonl";
    }
};

void TestWorkspaceConcurrency::initTestCase()
{
    fscope::test::TwoSaeRequest request;
    auto decoder = model::Decoder::load(fscope::test::fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    request.decoder = std::move(decoder).value();
    m_workspace = m_tmp.path().toStdString() + "/shared.fsdb";
    auto db = store::Database::open(m_workspace);
    QVERIFY(db.ok());
    auto indexed = index::indexCorpus(**db, request.inputs(), request.options(), nullptr);
    QVERIFY2(indexed.ok(), indexed.ok() ? "" : indexed.errorMessage().c_str());
    m_indexId = indexed->indexIds[0];
    auto info = store::indexInfo(**db, m_indexId);
    QVERIFY(info.ok());
    m_saeId = info->saeId;
    // Each import file explains the SAE's 48 features several times over, in its own words.
    for (int k = 0; k < kImports; ++k) {
        std::ofstream out(importFile(k));
        for (int r = 0; r < kRecords; ++r)
            out << R"({"index": )" << (r % 48) << R"(, "description": "import )" << k << " record "
                << r << R"(", "typeName": "concurrency"})"
                << "\n";
    }
}

void TestWorkspaceConcurrency::cliImportsWhileLabelling()
{
    std::vector<std::unique_ptr<QProcess>> imports;
    for (int k = 0; k < kImports; ++k) {
        auto p = std::make_unique<QProcess>();
        p->start(QStringLiteral(FEATURESCOPE_CLI),
            { QStringLiteral("explain"), QString::fromStdString(m_workspace),
                QStringLiteral("--sae"), QString::number(m_indexId), QStringLiteral("--import"),
                QString::fromStdString(importFile(k)), QStringLiteral("--json") });
        QVERIFY(p->waitForStarted());
        imports.push_back(std::move(p));
    }
    // Meanwhile this process labels features one transaction at a time (as the dashboard does)
    // and reads between writes.
    auto db = store::Database::open(m_workspace);
    QVERIFY(db.ok());
    int stillRunning = 0;
    for (int j = 0; j < kLabels; ++j) {
        const Status s = store::setLabel(
            **db, m_saeId, j % 48, "label " + std::to_string(j), "written while the CLI imports");
        QVERIFY2(s.ok(), s.ok() ? "" : s.errorMessage().c_str());
        QVERIFY(store::listIndexes(**db).ok());
        for (const auto &p : imports)
            stillRunning += p->state() != QProcess::NotRunning;
    }
    for (int k = 0; k < kImports; ++k) {
        QProcess &p = *imports[size_t(k)];
        QVERIFY(p.waitForFinished(120000));
        const QByteArray out = p.readAllStandardOutput(), err = p.readAllStandardError();
        QVERIFY2(p.exitCode() == 0, err.constData());
        const QJsonObject result = QJsonDocument::fromJson(out).object();
        QCOMPARE(result.value(QStringLiteral("imported")).toInt(), kRecords);
    }
    qInfo("%d of %d label writes ran while an import was still running", stillRunning / kImports,
        kLabels);
    QVERIFY(stillRunning > 0); // the two sides did overlap

    // Nothing lost, nothing doubled.
    QCOMPARE(count(**db, "SELECT count(*) FROM explanations"), std::to_string(kImports * kRecords));
    QCOMPARE(count(**db, "SELECT count(DISTINCT explanation) FROM explanations"),
        std::to_string(kImports * kRecords));
    for (int f = 0; f < 48; ++f) {
        int last = f;
        while (last + 48 < kLabels)
            last += 48;
        auto label = store::label(**db, m_saeId, f);
        QVERIFY(label.ok());
        QCOMPARE(label->first, "label " + std::to_string(last));
    }
    QCOMPARE(count(**db, "PRAGMA integrity_check"), std::string("ok"));

    // Importing the same files again changes nothing: every record is already there.
    auto again = fscope::test::cli({ QStringLiteral("explain"), QString::fromStdString(m_workspace),
        QStringLiteral("--sae"), QString::number(m_indexId), QStringLiteral("--import"),
        QString::fromStdString(importFile(0)), QStringLiteral("--json") });
    QCOMPARE(again.code, 0);
    QCOMPARE(QJsonDocument::fromJson(again.out).object().value(QStringLiteral("unchanged")).toInt(),
        kRecords);
}

void TestWorkspaceConcurrency::busyWorkspaceFailsClearly()
{
    // This process holds the write lock (a long write in progress) for longer than the busy
    // timeout: the CLI's import waits, then fails naming the workspace and the way out.
    auto db = store::Database::open(m_workspace);
    QVERIFY(db.ok());
    const std::string before = count(**db, "SELECT count(*) FROM explanations");
    QVERIFY((*db)->exec("BEGIN IMMEDIATE").ok());
    QElapsedTimer waited;
    waited.start();
    auto blocked = fscope::test::cli({ QStringLiteral("explain"),
        QString::fromStdString(m_workspace), QStringLiteral("--sae"), QString::number(m_indexId),
        QStringLiteral("--import"), QString::fromStdString(importFile(1)) });
    const qint64 ms = waited.elapsed();
    QVERIFY((*db)->exec("COMMIT").ok());
    QVERIFY(blocked.code != 0);
    const QString message = QString::fromUtf8(blocked.err);
    QVERIFY2(message.contains(QString::fromStdString(m_workspace)), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("database is locked")), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("run it again when that write is done")),
        qPrintable(message));
    QVERIFY2(ms >= 4500, "it did not wait for the busy timeout"); // what the message promises
    QCOMPARE(count(**db, "SELECT count(*) FROM explanations"), before);
    QCOMPARE(count(**db, "PRAGMA integrity_check"), std::string("ok"));
}

QTEST_GUILESS_MAIN(TestWorkspaceConcurrency)
#include "tst_workspace_concurrency.moc"
