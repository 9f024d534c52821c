// featurescope-cli as a user runs it: help, version, inspect tables, and clear errors.

#include "tests/support/testsupport.h"

#include <QProcess>
#include <QTest>

class TestCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void helpAndVersion();
    void inspect_data();
    void inspect();
    void errors_data();
    void errors();

private:
    struct Run {
        int code;
        QString out;
        QString err;
    };
    static Run cli(const QStringList &args);
};

TestCli::Run TestCli::cli(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral(FEATURESCOPE_CLI), args);
    if (!p.waitForFinished(60000))
        return {-1, {}, QStringLiteral("timeout")};
    return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

void TestCli::helpAndVersion()
{
    const Run help = cli({QStringLiteral("--help")});
    QCOMPARE(help.code, 0);
    QVERIFY(help.out.contains(QLatin1String("inspect FILE")));
    const Run version = cli({QStringLiteral("--version")});
    QCOMPARE(version.code, 0);
    QCOMPARE(version.out.trimmed(), QStringLiteral("featurescope-cli " FEATURESCOPE_VERSION));
    QCOMPARE(cli({}).code, 2);
    QCOMPARE(cli({QStringLiteral("frobnicate")}).code, 2);
}

void TestCli::inspect_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("expectedLines");
    QTest::newRow("safetensors") << "io/all_dtypes.safetensors"
                                 << QStringList{"bf16    BF16   [3, 5]     30", "scalar  F32", "safetensors: 12 tensors",
                                                "metadata format = pt"};
    QTest::newRow("sharded index")
        << "io/model.safetensors.index.json"
        << QStringList{"model.embed.weight  F32    [4, 6]     96  model-00001-of-00002.safetensors",
                       "sharded safetensors: 2 tensors"};
    QTest::newRow("npz") << "io/gemma_scope_params.npz"
                         << QStringList{"W_enc      <f4    [8, 16]    512", "npz: 5 tensors"};
}

void TestCli::inspect()
{
    QFETCH(QString, file);
    QFETCH(QStringList, expectedLines);
    const Run r = cli({QStringLiteral("inspect"), QString::fromStdString(fscope::test::fixture(file))});
    QCOMPARE(r.code, 0);
    for (const QString &line : expectedLines)
        QVERIFY2(r.out.contains(line), qPrintable(QStringLiteral("missing '%1' in:\n%2").arg(line, r.out)));
}

void TestCli::errors_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("expected");
    QTest::newRow("pickle") << "io/pytorch_model.bin" << "never loads pickles";
    QTest::newRow("object array") << "io/object_array.npz" << "never loaded";
    QTest::newRow("missing") << "io/nope.safetensors" << "no such file";
    QTest::newRow("unknown format") << "../generators/make_io_fixtures.py" << "not a tensor file";
}

void TestCli::errors()
{
    QFETCH(QString, file);
    QFETCH(QString, expected);
    const QString path = QString::fromStdString(fscope::test::fixture(file));
    const Run r = cli({QStringLiteral("inspect"), path});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(expected), qPrintable(r.err));
    QVERIFY2(r.err.contains(path), qPrintable(r.err));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
