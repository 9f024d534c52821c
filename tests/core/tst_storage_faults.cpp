// Storage faults: a workspace whose disk fills up (SQLite's max_page_count, which fails writes
// with SQLITE_FULL exactly as a full file system does) during an index's checkpoints and during
// label writes, and a disk that starts failing writes with EIO (a VFS that injects SQLITE_IOERR
// into every write, truncate and sync past a chosen point) during an index's writes, label
// writes, cached results and session saves. The operation fails with a message naming the
// workspace and the cause, the file stays consistent (integrity_check, through a fresh
// connection as a relaunched app would see it), nothing stored before is lost, and once the
// fault clears the job resumes to the result of an uninterrupted run. A read-only workspace
// browses and refuses writes by name.

#include "core/index/indexer.h"
#include "core/model/decoder.h"
#include "core/store/index_store.h"
#include "core/store/result_cache.h"
#include "tests/support/faulty_vfs.h"
#include "tests/support/index_fixtures.h"
#include "tests/support/result_text.h"
#include "tests/support/testsupport.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <functional>

using namespace fscope::core;
using fscope::test::dumpIndex;
using fscope::test::fixture;

namespace {

int64_t pages(store::Database &db)
{
    return std::stoll(db.queryText("PRAGMA page_count").value());
}

// Room for `extra` more pages of the workspace, for this connection (max_page_count is not
// stored in the file: a reopened workspace has the whole disk again).
void limitPages(store::Database &db, int64_t extra)
{
    const int64_t limit = pages(db) + extra;
    QCOMPARE(db.queryText("PRAGMA max_page_count = " + std::to_string(limit)).value(),
        std::to_string(limit));
}

} // namespace

class TestStorageFaults : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void fullDiskDuringIndexingResumes();
    void fullDiskDuringLabelWrites();
    void readOnlyWorkspaceBrowsesAndRefusesWrites();
    void ioErrorDuringIndexingResumes();
    void ioErrorDuringSmallWrites();

private:
    QTemporaryDir m_tmp;
    fscope::test::TwoSaeRequest m_request;
    std::string path(const char *name) const { return m_tmp.path().toStdString() + "/" + name; }
    index::IndexInputs inputs() const { return m_request.inputs(); }
    static index::IndexOptions options() { return fscope::test::TwoSaeRequest::options(); }
};

void TestStorageFaults::initTestCase()
{
    fscope::test::FaultyVfs::install(); // before any workspace is opened
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    m_request.decoder = std::move(decoder).value();
}

void TestStorageFaults::fullDiskDuringIndexingResumes()
{
    auto reference = store::Database::open(path("reference.fsdb"));
    QVERIFY(reference.ok());
    const int64_t empty = pages(**reference);
    auto whole = index::indexCorpus(**reference, inputs(), options(), nullptr);
    QVERIFY2(whole.ok(), whole.ok() ? "" : whole.errorMessage().c_str());
    const int64_t needed = pages(**reference) - empty;
    QVERIFY(needed > 8);

    // The disk fills at several points of the index's writes: before any checkpoint, between
    // checkpoints, at the final write. Each run fails cleanly and resumes to the same index.
    int midRun = 0;
    for (int eighths = 1; eighths <= 7; ++eighths) {
        const std::string name = "full-" + std::to_string(eighths) + ".fsdb";
        auto db = store::Database::open(path(name.c_str()));
        QVERIFY(db.ok());
        limitPages(**db, needed * eighths / 8);
        auto failed = index::indexCorpus(**db, inputs(), options(), nullptr);
        QVERIFY(!failed.ok());
        const QString message = QString::fromStdString(failed.errorMessage());
        QVERIFY2(message.contains(QString::fromStdString(path(name.c_str()))), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("full")), qPrintable(message));
        QCOMPARE((*db)->queryText("PRAGMA integrity_check").value(), std::string("ok"));
        QCOMPARE(
            (*db)->queryText("SELECT count(*) FROM feature_indexes WHERE status = 'done'").value(),
            std::string("0"));

        // Space freed: the same request resumes from what was committed, to the same index.
        QVERIFY((*db)->exec("PRAGMA max_page_count = 1073741823").ok());
        auto resumed = index::indexCorpus(**db, inputs(), options(), nullptr);
        QVERIFY2(resumed.ok(), resumed.ok() ? "" : resumed.errorMessage().c_str());
        qInfo("disk full at %d/8 of the writes: %s; resumed with %lld of 10 batches to run",
            eighths, qPrintable(message.section(QStringLiteral(": "), 1)),
            (long long)resumed->batchesRun);
        midRun += resumed->batchesRun > 0 && resumed->batchesRun < 10;
        QCOMPARE((*db)->queryText("PRAGMA integrity_check").value(), std::string("ok"));
        for (size_t i = 0; i < 2; ++i)
            QCOMPARE(
                dumpIndex(**db, resumed->indexIds[i]), dumpIndex(**reference, whole->indexIds[i]));
    }
    QVERIFY(midRun > 0); // at least one fault fell between two checkpoints
}

void TestStorageFaults::fullDiskDuringLabelWrites()
{
    auto db = store::Database::open(path("reference.fsdb"));
    QVERIFY(db.ok());
    auto indexes = store::listIndexes(**db);
    QVERIFY(indexes.ok() && !indexes->empty());
    const int64_t sae = indexes->front().saeId;
    QVERIFY(store::setLabel(**db, sae, 3, "kept", "written before the disk filled").ok());

    // Notes too long for the room left: refused, named, and the earlier label is intact.
    // (The index's finished checkpoints left free pages; the notes are longer than all of them.)
    const int64_t freePages = std::stoll((*db)->queryText("PRAGMA freelist_count").value());
    const int64_t pageSize = std::stoll((*db)->queryText("PRAGMA page_size").value());
    limitPages(**db, 1);
    const std::string longNotes(size_t((freePages + 8) * pageSize), 'n');
    auto refused = store::setLabel(**db, sae, 4, "lost?", longNotes);
    QVERIFY(!refused.ok());
    const QString message = QString::fromStdString(refused.errorMessage());
    QVERIFY2(message.contains(QString::fromStdString(path("reference.fsdb"))), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("full")), qPrintable(message));
    QCOMPARE((*db)->queryText("PRAGMA integrity_check").value(), std::string("ok"));
    auto kept = store::label(**db, sae, 3);
    QVERIFY(kept.ok());
    QCOMPARE(kept->first, std::string("kept"));
    auto none = store::label(**db, sae, 4);
    QVERIFY(none.ok());
    QVERIFY(none->first.empty());

    // Room again: the same write goes through, and is found by search as any label.
    QVERIFY((*db)->exec("PRAGMA max_page_count = 1073741823").ok());
    QVERIFY(store::setLabel(**db, sae, 4, "written", longNotes).ok());
    auto written = store::label(**db, sae, 4);
    QVERIFY(written.ok());
    QCOMPARE(written->second.size(), longNotes.size());
}

void TestStorageFaults::readOnlyWorkspaceBrowsesAndRefusesWrites()
{
    // A copy of the indexed workspace, opened read-only (what a file this user cannot write
    // opens as): everything reads, nothing writes, the file is untouched.
    const std::string file = path("readonly.fsdb");
    {
        auto source = store::Database::open(path("reference.fsdb"));
        QVERIFY(source.ok());
        QVERIFY((*source)->exec("VACUUM INTO '" + file + "'").ok());
    }
    auto bytes = [&file] {
        std::ifstream in(file, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    const std::string before = bytes();
    {
        auto db = store::Database::open(file, store::Database::Mode::ReadOnly);
        QVERIFY2(db.ok(), db.ok() ? "" : db.errorMessage().c_str());
        QVERIFY((*db)->readOnly());
        auto indexes = store::listIndexes(**db);
        QVERIFY(indexes.ok() && indexes->size() == 2);
        auto dash = store::loadFeatureDashboard(**db, indexes->front().id, 0);
        QVERIFY2(dash.ok(), dash.ok() ? "" : dash.errorMessage().c_str());
        QCOMPARE(store::label(**db, indexes->front().saeId, 4)->first, std::string("written"));
        auto refused = store::setLabel(**db, indexes->front().saeId, 5, "no", "");
        QVERIFY(!refused.ok());
        QVERIFY2(refused.errorMessage().find(file) != std::string::npos
                && refused.errorMessage().find("readonly") != std::string::npos,
            refused.errorMessage().c_str());
    }
    QVERIFY(bytes() == before);
    QVERIFY(!std::filesystem::exists(file + "-wal"));

    // An older schema cannot migrate in place: refused, saying what to do.
    {
        auto db = store::Database::open(file);
        QVERIFY(db.ok());
        QVERIFY((*db)->exec("PRAGMA user_version = 1").ok());
    }
    auto old = store::Database::open(file, store::Database::Mode::ReadOnly);
    QVERIFY(!old.ok());
    QVERIFY2(old.errorMessage().find("copy it somewhere writable") != std::string::npos,
        old.errorMessage().c_str());
}

namespace {

// What a relaunched app finds: a fresh connection's integrity check.
std::string integrityAfterReopen(const std::string &workspace)
{
    auto db = store::Database::open(workspace);
    return db ? fscope::test::textOr((*db)->queryText("PRAGMA integrity_check"), "unreadable")
              : "cannot open: " + db.errorMessage();
}

} // namespace

void TestStorageFaults::ioErrorDuringIndexingResumes()
{
    using fscope::test::FaultyVfs;
    // How many write-side calls an uninterrupted index makes, to place the faults among them.
    auto counted = store::Database::open(path("io-count.fsdb"));
    QVERIFY(counted.ok());
    const int64_t before = FaultyVfs::writesSeen();
    auto whole = index::indexCorpus(**counted, inputs(), options(), nullptr);
    QVERIFY2(whole.ok(), whole.ok() ? "" : whole.errorMessage().c_str());
    const int64_t writes = FaultyVfs::writesSeen() - before;
    QVERIFY(writes > 12);

    int midRun = 0;
    for (int sixths = 1; sixths <= 5; ++sixths) {
        const std::string name = path(("io-" + std::to_string(sixths) + ".fsdb").c_str());
        {
            auto db = store::Database::open(name);
            QVERIFY(db.ok());
            FaultyVfs::arm(writes * sixths / 6);
            auto failed = index::indexCorpus(**db, inputs(), options(), nullptr);
            FaultyVfs::disarm();
            QVERIFY2(!failed.ok(), "the index finished through a failing disk");
            QVERIFY(FaultyVfs::failures() > 0);
            const QString message = QString::fromStdString(failed.errorMessage());
            QVERIFY2(message.contains(QString::fromStdString(name)), qPrintable(message));
            QVERIFY2(message.contains(QStringLiteral("disk I/O error")), qPrintable(message));
            qInfo("I/O error at %d/6 of the writes: %s", sixths,
                qPrintable(message.section(QStringLiteral(": "), 1)));
        }
        QCOMPARE(integrityAfterReopen(name), std::string("ok"));
        auto db = store::Database::open(name);
        QVERIFY(db.ok());
        QCOMPARE(
            (*db)->queryText("SELECT count(*) FROM feature_indexes WHERE status = 'done'").value(),
            std::string("0"));
        auto resumed = index::indexCorpus(**db, inputs(), options(), nullptr);
        QVERIFY2(resumed.ok(), resumed.ok() ? "" : resumed.errorMessage().c_str());
        midRun += resumed->batchesRun > 0 && resumed->batchesRun < 10;
        QCOMPARE((*db)->queryText("PRAGMA integrity_check").value(), std::string("ok"));
        for (size_t i = 0; i < 2; ++i)
            QCOMPARE(
                dumpIndex(**db, resumed->indexIds[i]), dumpIndex(**counted, whole->indexIds[i]));
    }
    QVERIFY(midRun > 0); // some fault fell after a checkpoint, so the resume had less to do
}

void TestStorageFaults::ioErrorDuringSmallWrites()
{
    using fscope::test::FaultyVfs;
    const std::string name = path("io-count.fsdb"); // indexed by the test above
    int64_t sae = 0;
    {
        auto db = store::Database::open(name);
        QVERIFY(db.ok());
        auto indexes = store::listIndexes(**db);
        QVERIFY(indexes.ok() && !indexes->empty());
        sae = indexes->front().saeId;
        QVERIFY(store::setLabel(**db, sae, 3, "kept", "before the fault").ok());
        QVERIFY(store::storeResult(**db, "steer:kept", "steer", "{\"kept\": true}").ok());
        QVERIFY((*db)->setMeta("ui.session", "{\"version\": 1}").ok());
    }
    struct Write {
        const char *what;
        std::function<Status(store::Database &)> run;
    };
    const std::vector<Write> writes = {
        { "label", [&](store::Database &db) { return store::setLabel(db, sae, 3, "lost", "n"); } },
        { "cached result",
            [](store::Database &db) {
                return store::storeResult(db, "steer:kept", "steer", "{\"kept\": false}");
            } },
        { "session",
            [](store::Database &db) { return db.setMeta("ui.session", "{\"version\": 2}"); } },
    };
    // The fault at the first write-side call, and a few calls later (after the WAL frames
    // started, before the commit's sync).
    int faulted = 0;
    for (const Write &w : writes) {
        for (int64_t allowed : { 0, 1, 2 }) {
            {
                auto db = store::Database::open(name);
                QVERIFY(db.ok());
                FaultyVfs::arm(allowed);
                const Status failed = w.run(**db);
                FaultyVfs::disarm();
                if (failed.ok()) // the whole write took fewer calls than allowed
                    continue;
                ++faulted;
                const QString message = QString::fromStdString(failed.errorMessage());
                QVERIFY2(message.contains(QString::fromStdString(name)), qPrintable(message));
                QVERIFY2(message.contains(QStringLiteral("disk I/O error")), qPrintable(message));
                qInfo("%s, I/O error after %lld write calls: %s", w.what, (long long)allowed,
                    qPrintable(message.section(QStringLiteral(": "), 1)));
            }
            QCOMPARE(integrityAfterReopen(name), std::string("ok"));
            auto db = store::Database::open(name);
            QVERIFY(db.ok());
            // What was stored before is what a fresh connection reads.
            auto kept = store::label(**db, sae, 3);
            QVERIFY(kept.ok());
            QCOMPARE(kept->first, std::string("kept"));
            auto result = store::cachedResult(**db, "steer:kept");
            QVERIFY(result.ok() && result->has_value());
            QCOMPARE(**result, std::string("{\"kept\": true}"));
            QCOMPARE((*db)->meta("ui.session").value(), std::string("{\"version\": 1}"));
        }
    }
    QVERIFY(faulted >= 3); // each write failed at least at its first call
    // The fault cleared: each write goes through.
    auto db = store::Database::open(name);
    QVERIFY(db.ok());
    for (const Write &w : writes)
        QVERIFY2(w.run(**db).ok(), w.what);
    QCOMPARE(store::label(**db, sae, 3)->first, std::string("lost"));
    QCOMPARE((*db)->meta("ui.session").value(), std::string("{\"version\": 2}"));
}

QTEST_GUILESS_MAIN(TestStorageFaults)
#include "tst_storage_faults.moc"
