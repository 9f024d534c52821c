// featurescope-cli as a user runs it: help, version, inspect tables, and clear errors.

#include "tests/support/testsupport.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

class TestCli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void helpAndVersion();
    void inspect_data();
    void inspect();
    void errors_data();
    void errors();
    void runJsonInterface();
    void tokenizeJsonInterface();
    void generateGreedy();
    void saeJsonInterface();

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
        return { -1, {}, QStringLiteral("timeout") };
    return { p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()),
        QString::fromUtf8(p.readAllStandardError()) };
}

void TestCli::helpAndVersion()
{
    const Run help = cli({ QStringLiteral("--help") });
    QCOMPARE(help.code, 0);
    QVERIFY(help.out.contains(QLatin1String("inspect FILE")));
    const Run version = cli({ QStringLiteral("--version") });
    QCOMPARE(version.code, 0);
    const QStringList lines = version.out.trimmed().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 2);
    QCOMPARE(lines[0], QStringLiteral("featurescope-cli " FEATURESCOPE_VERSION));
    QVERIFY2(lines[1].startsWith(QStringLiteral("compute: ")), qPrintable(lines[1]));
    // ... and names the devices LibTorch sees (the CPU always).
    QVERIFY2(lines[1].contains(QStringLiteral("; devices: cpu")), qPrintable(lines[1]));
    // On a CPU with AVX2, OpenBLAS must not run its generic SSE3 kernels (it falls back to
    // them for CPU models newer than itself; the CLI then runs itself again with the right ones).
    if (lines[1].contains(QStringLiteral("OpenBLAS")) && __builtin_cpu_supports("avx2")
        && __builtin_cpu_supports("fma"))
        for (const char *generic :
            { "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom" })
            QVERIFY2(!lines[1].contains(QLatin1String(generic)), qPrintable(lines[1]));
    QCOMPARE(cli({}).code, 2);
    QCOMPARE(cli({ QStringLiteral("frobnicate") }).code, 2);
}

void TestCli::inspect_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QStringList>("expectedLines");
    QTest::newRow("safetensors") << "io/all_dtypes.safetensors"
                                 << QStringList { "bf16    BF16   [3, 5]     30", "scalar  F32",
                                        "safetensors: 12 tensors", "metadata format = pt" };
    QTest::newRow("sharded index")
        << "io/model.safetensors.index.json"
        << QStringList {
               "model.embed.weight  F32    [4, 6]     96  model-00001-of-00002.safetensors",
               "sharded safetensors: 2 tensors"
           };
    QTest::newRow("npz") << "io/gemma_scope_params.npz"
                         << QStringList { "W_enc      <f4    [8, 16]    512", "npz: 5 tensors" };
}

void TestCli::inspect()
{
    QFETCH(QString, file);
    QFETCH(QStringList, expectedLines);
    const Run r
        = cli({ QStringLiteral("inspect"), QString::fromStdString(fscope::test::fixture(file)) });
    QCOMPARE(r.code, 0);
    for (const QString &line : expectedLines)
        QVERIFY2(r.out.contains(line),
            qPrintable(QStringLiteral("missing '%1' in:\n%2").arg(line, r.out)));
}

void TestCli::errors_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("expected");
    QTest::newRow("pickle") << "io/pytorch_model.bin"
                            << "never loads pickles";
    QTest::newRow("object array") << "io/object_array.npz"
                                  << "never loaded";
    QTest::newRow("missing") << "io/nope.safetensors"
                             << "no such file";
    QTest::newRow("unknown format") << "../generators/make_io_fixtures.py"
                                    << "not a tensor file";
}

void TestCli::errors()
{
    QFETCH(QString, file);
    QFETCH(QString, expected);
    const QString path = QString::fromStdString(fscope::test::fixture(file));
    const Run r = cli({ QStringLiteral("inspect"), path });
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(expected), qPrintable(r.err));
    QVERIFY2(r.err.contains(path), qPrintable(r.err));
}

void TestCli::runJsonInterface()
{
    const QString model
        = QString::fromStdString(fscope::test::fixture(QStringLiteral("models/qwen2")));
    const Run r = cli({ QStringLiteral("run"), QStringLiteral("--model"), model,
        QStringLiteral("--ids"), QStringLiteral("5,17,3"), QStringLiteral("--json"),
        QStringLiteral("--device"), QStringLiteral("cpu") });
    QCOMPARE(r.code, 0);
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(o.value(QLatin1String("ids")).toArray().size(), 3);
    const QJsonArray logits = o.value(QLatin1String("logits_last")).toArray();
    QCOMPARE(logits.size(), 96); // the fixture's vocabulary
    // The golden logits of the same ids at the same position (first row of the fixture
    // starts 5, 17, 3 and causal attention ignores what follows).
    const QString goldenPath = QString::fromStdString(
        fscope::test::fixture(QStringLiteral("models/qwen2/golden.safetensors")));
    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"),
        { QStringLiteral("-c"),
            QStringLiteral("import json,struct,sys\n"
                           "f=open(sys.argv[1],'rb');n=struct.unpack('<Q',f.read(8))[0];h=json."
                           "loads(f.read(n))\n"
                           "b,e=h['logits']['data_offsets'];f.seek(8+n+b);raw=f.read(e-b)\n"
                           "v=struct.unpack('<%df'%(len(raw)//4),raw)\n"
                           "print(json.dumps(list(v[2*96:3*96])))"),
            goldenPath });
    QVERIFY(python.waitForFinished(30000));
    const QJsonArray expected = QJsonDocument::fromJson(python.readAllStandardOutput()).array();
    QCOMPARE(expected.size(), 96);
    for (int i = 0; i < 96; ++i)
        QVERIFY(std::abs(logits[i].toDouble() - expected[i].toDouble()) < 1e-4);
}

void TestCli::tokenizeJsonInterface()
{
    const QString model
        = QString::fromStdString(fscope::test::fixture(QStringLiteral("tokenizers/gpt2")));
    const Run r = cli({ QStringLiteral("tokenize"), QStringLiteral("--model"), model,
        QStringLiteral("--json"), QStringLiteral("Hello world") });
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out.trimmed(), QStringLiteral(R"({"ids":[15496,995],"spans":[[0,5],[5,11]]})"));
    const Run bos = cli({ QStringLiteral("tokenize"), QStringLiteral("--model"), model,
        QStringLiteral("--json"), QStringLiteral("--bos"), QStringLiteral("Hello") });
    QCOMPARE(bos.out.trimmed(), QStringLiteral(R"({"ids":[50256,15496],"spans":[[0,0],[0,5]]})"));
}

void TestCli::generateGreedy()
{
    // A model directory with the GPT-2 tokenizer: generation prints prompt + continuation.
    QTemporaryDir dir;
    const std::string gpt2 = fscope::test::fixture(QStringLiteral("tokenizers/gpt2"));
    QVERIFY(QFile::copy(
        QString::fromStdString(gpt2 + "/vocab.json"), dir.filePath(QStringLiteral("vocab.json"))));
    QVERIFY(QFile::copy(
        QString::fromStdString(gpt2 + "/merges.txt"), dir.filePath(QStringLiteral("merges.txt"))));
    // A tiny random model whose vocabulary is the first 96 GPT-2 tokens.
    const std::string model = fscope::test::fixture(QStringLiteral("models/gpt2"));
    QVERIFY(QFile::copy(QString::fromStdString(model + "/config.json"),
        dir.filePath(QStringLiteral("config.json"))));
    QVERIFY(QFile::copy(QString::fromStdString(model + "/model.safetensors"),
        dir.filePath(QStringLiteral("model.safetensors"))));
    const Run r = cli({ QStringLiteral("generate"), QStringLiteral("--model"), dir.path(),
        QStringLiteral("--prompt"), QStringLiteral("A"), QStringLiteral("--max-tokens"),
        QStringLiteral("5"), QStringLiteral("--device"), QStringLiteral("cpu") });
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.startsWith(QLatin1String("A")), qPrintable(r.out));
    QVERIFY(r.out.trimmed().size() > 1);
    const Run again = cli({ QStringLiteral("generate"), QStringLiteral("--model"), dir.path(),
        QStringLiteral("--prompt"), QStringLiteral("A"), QStringLiteral("--max-tokens"),
        QStringLiteral("5"), QStringLiteral("--device"), QStringLiteral("cpu") });
    QCOMPARE(again.out, r.out);
}

void TestCli::saeJsonInterface()
{
    const QString sae
        = QString::fromStdString(fscope::test::fixture(QStringLiteral("sae/saelens_v5_topk")));
    const Run info = cli({ QStringLiteral("sae"), QStringLiteral("info"), QStringLiteral("--sae"),
        sae, QStringLiteral("--json") });
    QCOMPARE(info.code, 0);
    const QJsonObject i = QJsonDocument::fromJson(info.out.toUtf8()).object();
    QCOMPARE(i.value(QLatin1String("architecture")).toString(), QStringLiteral("topk"));
    QCOMPARE(i.value(QLatin1String("d_in")).toInt(), 8);
    QCOMPARE(i.value(QLatin1String("d_sae")).toInt(), 24);
    QCOMPARE(
        i.value(QLatin1String("hook_name")).toString(), QStringLiteral("blocks.0.hook_mlp_out"));
    QCOMPARE(i.value(QLatin1String("dtype")).toString(), QStringLiteral("float32"));

    const Run enc = cli({ QStringLiteral("sae"), QStringLiteral("encode"), QStringLiteral("--sae"),
        sae, QStringLiteral("--input"),
        QString::fromStdString(fscope::test::fixture(QStringLiteral("sae/saelens_v5_topk_x.npy"))),
        QStringLiteral("--json") });
    QCOMPARE(enc.code, 0);
    const QJsonObject e = QJsonDocument::fromJson(enc.out.toUtf8()).object();
    QCOMPARE(e.value(QLatin1String("shape")).toArray(), (QJsonArray { 10, 24 }));
    const QJsonArray nonzero = e.value(QLatin1String("nonzero")).toArray();
    QVERIFY(nonzero.size() <= 10 * 4 && nonzero.size() >= 10); // TopK k = 4 per row
    for (const auto &entry : nonzero) {
        const QJsonArray t = entry.toArray();
        QCOMPARE(t.size(), 3);
        QVERIFY(t[2].toDouble() > 0);
    }
    const Run bad = cli({ QStringLiteral("sae"), QStringLiteral("info"), QStringLiteral("--sae"),
        QStringLiteral("/nonexistent") });
    QCOMPARE(bad.code, 1);
    QVERIFY(bad.err.contains(QLatin1String("/nonexistent: no such file")));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
