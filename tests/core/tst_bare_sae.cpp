// An SAE file anywhere on disk: a Gemma Scope params.npz outside its release layout says no
// hook. Work on the weights alone (sae encode, decompose a vector, match) needs none; a command
// that runs the model (index) names what is missing, and --hook supplies it.

#include "core/io/npz_tensor.h"
#include "tests/support/cli_run.h"
#include "tests/support/testsupport.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <ATen/ATen.h>

#include <filesystem>

using namespace fscope::core;
using fscope::test::cli;
using fscope::test::CliRun;

namespace {

// A JumpReLU SAE in Gemma Scope's npz layout (W_enc [d, F], W_dec [F, d], b_enc, b_dec,
// threshold), written where no path names its layer.
void writeParams(const std::string &dir, int64_t d, int64_t f, int seed)
{
    std::filesystem::create_directories(dir);
    at::manual_seed(seed);
    const at::Tensor dec = at::randn({ f, d }) / std::sqrt(double(d));
    QVERIFY(io::writeNpz(dir + "/params.npz",
        { { "W_enc", dec.t().contiguous() }, { "W_dec", dec }, { "b_enc", at::zeros({ f }) },
            { "b_dec", at::zeros({ d }) }, { "threshold", at::full({ f }, 0.05) } },
        false)
                .ok());
}

} // namespace

class TestBareSae : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void weightsOnlyWorkWithoutAHook();
};

void TestBareSae::weightsOnlyWorkWithoutAHook()
{
    QTemporaryDir tmp;
    const std::string a = tmp.path().toStdString() + "/saes-a",
                      b = tmp.path().toStdString() + "/saes-b";
    writeParams(a, 32, 64, 1);
    writeParams(b, 32, 64, 2);
    const QString npzA = QString::fromStdString(a + "/params.npz"),
                  npzB = QString::fromStdString(b + "/params.npz");
    const std::string x = tmp.path().toStdString() + "/x.npy",
                      v = tmp.path().toStdString() + "/v.npy";
    QVERIFY(io::writeNpy(x, at::randn({ 4, 32 })).ok());
    QVERIFY(io::writeNpy(v, at::randn({ 32 })).ok());

    const CliRun encode
        = cli({ "sae", "encode", "--sae", npzA, "--input", QString::fromStdString(x), "--json" });
    QVERIFY2(encode.code == 0, encode.err.constData());
    QCOMPARE(QJsonDocument::fromJson(encode.out).object()["shape"].toArray()[1].toInt(), 64);

    const CliRun decompose = cli({ "decompose", "--sae", npzA, "--vector",
        QString::fromStdString(v), "--method", "omp", "--json" });
    QVERIFY2(decompose.code == 0, decompose.err.constData());
    const double fve = QJsonDocument::fromJson(decompose.out).object()["fve"].toDouble();
    QVERIFY(fve > 0.5 && fve <= 1.0 + 1e-9); // 64 random atoms in 32 dimensions, 32 picked

    const CliRun match = cli({ "match", "--sae", npzA, "--sae", npzB, "--json", "--no-pairs" });
    QVERIFY2(match.code == 0, match.err.constData());
    QCOMPARE(QJsonDocument::fromJson(match.out).object()["links"].toArray().size(), 1);

    // Running the model needs the hook: the message says which option gives it.
    const std::string corpus = tmp.path().toStdString() + "/corpus.txt";
    fscope::test::writeFile(corpus, "one two three four five six seven eight nine ten\n");
    const QString out = tmp.path() + "/ws.fsdb";
    const CliRun index = cli({ "index", "--model", "demo", "--sae", npzA, "--corpus",
        QString::fromStdString(corpus), "--tokens", "64", "--context", "8", "--out", out });
    QCOMPARE(index.code, 1);
    QVERIFY2(
        index.err.contains("--hook") && index.err.contains("params.npz"), index.err.constData());
}

QTEST_GUILESS_MAIN(TestBareSae)
#include "tst_bare_sae.moc"
