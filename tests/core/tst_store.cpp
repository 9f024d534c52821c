// The workspace database: create, reopen, migrate from version 0, WAL, refusals that leave
// the file untouched; and the fingerprint helpers.

#include "core/io/torch_tensor.h"
#include "core/store/database.h"
#include "core/store/fingerprint.h"
#include "core/store/sha256.h"
#include "tests/support/testsupport.h"

#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

using namespace fscope::core;
using namespace fscope::core::store;

class TestStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void createsWithWalAndForeignKeys();
    void reopenKeepsData();
    void migratesFromVersionZero();
    void refusesNewerSchemaUntouched();
    void refusesNonDatabaseUntouched();
    void transactionRollsBack();
    void sha256KnownVectors_data();
    void sha256KnownVectors();
    void fingerprints();
};

void TestStore::createsWithWalAndForeignKeys()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("w.fsdb").toStdString();
    auto db = Database::open(path);
    QVERIFY2(db.ok(), db.ok() ? "" : db.errorMessage().c_str());
    QCOMPARE((*db)->queryText("PRAGMA journal_mode").value(), std::string("wal"));
    QCOMPARE((*db)->queryText("PRAGMA foreign_keys").value(), std::string("1"));
    QCOMPARE((*db)->schemaVersion(), Database::currentSchemaVersion());
    QVERIFY(Database::currentSchemaVersion() >= 1);
    QCOMPARE(
        (*db)->queryText("SELECT count(*) FROM sqlite_master WHERE name = 'artifacts'").value(),
        std::string("1"));
}

void TestStore::reopenKeepsData()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("w.fsdb").toStdString();
    {
        auto db = Database::open(path);
        QVERIFY(db.ok());
        QVERIFY((*db)->setMeta("title", "layer sweep").ok());
        QVERIFY((*db)->setMeta("title", "layer sweep 2").ok()); // upsert
    }
    auto db = Database::open(path);
    QVERIFY(db.ok());
    QCOMPARE((*db)->meta("title").value(), std::string("layer sweep 2"));
    QCOMPARE((*db)->meta("absent").value(), std::string());
}

void TestStore::migratesFromVersionZero()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("old.fsdb").toStdString();
    {
        // A version-0 database: SQLite's default user_version, with a table of its own.
        sqlite3 *raw = nullptr;
        QCOMPARE(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
        QCOMPARE(sqlite3_exec(raw, "CREATE TABLE notes(x TEXT); INSERT INTO notes VALUES('kept');",
                     nullptr, nullptr, nullptr),
            SQLITE_OK);
        sqlite3_close(raw);
    }
    auto db = Database::open(path);
    QVERIFY2(db.ok(), db.ok() ? "" : db.errorMessage().c_str());
    QCOMPARE((*db)->schemaVersion(), Database::currentSchemaVersion());
    QCOMPARE((*db)->queryText("SELECT x FROM notes").value(), std::string("kept"));
    QVERIFY((*db)
                ->exec("INSERT INTO artifacts(kind, fingerprint, path) VALUES('sae', 'f', '/p')")
                .ok());
    // The CHECK constraint of the schema holds.
    QVERIFY(!(*db)
                 ->exec("INSERT INTO artifacts(kind, fingerprint, path) VALUES('bogus', 'g', '/p')")
                 .ok());
}

void TestStore::refusesNewerSchemaUntouched()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("future.fsdb").toStdString();
    {
        sqlite3 *raw = nullptr;
        sqlite3_open(path.c_str(), &raw);
        sqlite3_exec(raw, "CREATE TABLE t(x); PRAGMA user_version=999;", nullptr, nullptr, nullptr);
        sqlite3_close(raw);
    }
    const std::string before = fscope::test::readFile(path);
    auto db = Database::open(path);
    QVERIFY(!db.ok());
    QVERIFY2(db.errorMessage().find("newer than this Featurescope supports") != std::string::npos,
        db.errorMessage().c_str());
    QVERIFY(db.errorMessage().find(path) != std::string::npos);
    QVERIFY(fscope::test::readFile(path) == before);
}

void TestStore::refusesNonDatabaseUntouched()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("notes.fsdb").toStdString();
    const std::string text(4096, 'x');
    fscope::test::writeFile(path, text);
    auto db = Database::open(path);
    QVERIFY(!db.ok());
    QVERIFY2(db.errorMessage().find("not a Featurescope workspace") != std::string::npos,
        db.errorMessage().c_str());
    QVERIFY(fscope::test::readFile(path) == text);
}

void TestStore::transactionRollsBack()
{
    QTemporaryDir dir;
    auto db = Database::open(dir.filePath("t.fsdb").toStdString());
    QVERIFY(db.ok());
    Status s = (*db)->transaction([&]() -> Status {
        if (auto r = (*db)->setMeta("a", "1"); !r)
            return r;
        return Error { "stop" };
    });
    QVERIFY(!s.ok());
    QCOMPARE((*db)->meta("a").value(), std::string());
    QVERIFY((*db)->transaction([&] { return (*db)->setMeta("a", "2"); }).ok());
    QCOMPARE((*db)->meta("a").value(), std::string("2"));
}

void TestStore::sha256KnownVectors_data()
{
    // FIPS 180-4 examples and the empty string.
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("digest");
    QTest::newRow("empty") << QByteArray()
                           << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    QTest::newRow("abc") << QByteArray("abc")
                         << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    QTest::newRow("two blocks")
        << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    QTest::newRow("million a") << QByteArray(
        1000000, 'a') << "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
}

void TestStore::sha256KnownVectors()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, digest);
    QCOMPARE(QString::fromStdString(sha256Hex(input.toStdString())), digest);
    // Fed in uneven pieces, the digest is the same.
    Sha256 h;
    for (qsizetype i = 0; i < input.size(); i += 37)
        h.update(
            input.constData() + i, static_cast<size_t>(std::min<qsizetype>(37, input.size() - i)));
    QCOMPARE(QString::fromStdString(h.hexDigest()), digest);
}

void TestStore::fingerprints()
{
    QCOMPARE(fingerprintJson(R"({"b": 1, "a": [1, 2]})", "x").value(),
        fingerprintJson(R"({"a":[1,2],"b":1})", "y").value());
    QVERIFY(
        fingerprintJson(R"({"a":1})", "x").value() != fingerprintJson(R"({"a":2})", "x").value());
    auto bad = fingerprintJson("{", "cfg.json");
    QVERIFY(!bad.ok());
    QVERIFY(bad.errorMessage().find("cfg.json") != std::string::npos);

    QTemporaryDir dir;
    const std::string a = dir.filePath("a.safetensors").toStdString();
    const std::string b = dir.filePath("b.safetensors").toStdString();
    QVERIFY(io::writeSafetensors(a, { { "w", at::zeros({ 100, 100 }) } }).ok());
    QVERIFY(io::writeSafetensors(b, { { "w", at::ones({ 100, 100 }) } }).ok());
    const auto ca = io::Checkpoint::open(a), cb = io::Checkpoint::open(b);
    // Same names, shapes and dtypes, different weights: different fingerprints.
    QVERIFY(fingerprintCheckpoint(*ca) != fingerprintCheckpoint(*cb));
    QCOMPARE(fingerprintCheckpoint(*ca), fingerprintCheckpoint(*io::Checkpoint::open(a)));
    QCOMPARE(fingerprintFile(a).value(), sha256Hex(fscope::test::readFile(a)));
    QVERIFY(!fingerprintFile(dir.filePath("missing").toStdString()).ok());
    QVERIFY(combineFingerprints({ "ab", "c" }) != combineFingerprints({ "a", "bc" }));
}

QTEST_APPLESS_MAIN(TestStore)
#include "tst_store.moc"
