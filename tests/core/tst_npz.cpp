// .npz: archives written by numpy (savez and savez_compressed: every dtype, big-endian,
// Fortran order, scalars, empty arrays) and our writer checked by numpy in turn.

#include "core/io/npz_tensor.h"
#include "core/io/zip_archive.h"
#include "tests/support/tensorpattern.h"
#include "tests/support/testsupport.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace fscope::core;
using namespace fscope::core::io;
using fscope::test::fixture;
using fscope::test::pattern;

Q_DECLARE_METATYPE(at::ScalarType)

namespace {

const at::Tensor *find(const NamedTensors &tensors, const std::string &name)
{
    for (const auto &[n, t] : tensors)
        if (n == name)
            return &t;
    return nullptr;
}

} // namespace

class TestNpz : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void readsNumpy_data();
    void readsNumpy();
    void readsGemmaScopeLayout();
    void headerOnlyDoesNotNeedData();
    void roundTrip_data();
    void roundTrip();
    void numpyReadsOurWriter_data();
    void numpyReadsOurWriter();
    void impossibleSizeRefusedBeforeAllocating();
};

void TestNpz::readsNumpy_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("name");
    QTest::addColumn<at::ScalarType>("type");
    QTest::addColumn<QList<qint64>>("shape");
    const QList<qint64> s { 3, 5 };
    for (const QString &file :
        { QStringLiteral("numpy_savez.npz"), QStringLiteral("numpy_savez_compressed.npz") }) {
        const QString tag = file.contains(QLatin1String("compressed")) ? QStringLiteral("deflated ")
                                                                       : QStringLiteral("stored ");
        auto row = [&](const char *name, at::ScalarType type, QList<qint64> shape) {
            QTest::newRow(qPrintable(tag + QLatin1String(name))) << file << name << type << shape;
        };
        row("f64", at::kDouble, s);
        row("f32", at::kFloat, s);
        row("f16", at::kHalf, s);
        row("i64", at::kLong, s);
        row("i32", at::kInt, s);
        row("i16", at::kShort, s);
        row("i8", at::kChar, s);
        row("u8", at::kByte, s);
        row("bool", at::kBool, s);
        row("scalar", at::kFloat, {});
        row("empty", at::kFloat, { 0, 4 });
        row("big_endian", at::kFloat, s);
        row("big_endian_i64", at::kLong, s);
        row("fortran", at::kFloat, { 2, 3, 4 });
    }
}

void TestNpz::readsNumpy()
{
    QFETCH(QString, file);
    QFETCH(QString, name);
    QFETCH(at::ScalarType, type);
    QFETCH(QList<qint64>, shape);
    auto tensors = loadNpz(fixture(QStringLiteral("io/") + file));
    QVERIFY2(tensors.ok(), tensors.ok() ? "" : tensors.errorMessage().c_str());
    const at::Tensor *t = find(*tensors, name.toStdString());
    QVERIFY(t);
    const std::vector<int64_t> dims(shape.begin(), shape.end());
    QCOMPARE(t->scalar_type(), type);
    QCOMPARE(t->sizes().vec(), dims);
    QVERIFY(t->is_contiguous());
    QVERIFY(t->equal(pattern(type, dims)));
}

void TestNpz::readsGemmaScopeLayout()
{
    auto tensors = loadNpz(fixture(QStringLiteral("io/gemma_scope_params.npz")));
    QVERIFY(tensors.ok());
    QCOMPARE(tensors->size(), size_t { 5 });
    QCOMPARE(find(*tensors, "W_enc")->sizes().vec(), (std::vector<int64_t> { 8, 16 }));
    QCOMPARE(find(*tensors, "W_dec")->sizes().vec(), (std::vector<int64_t> { 16, 8 }));
    QVERIFY(find(*tensors, "threshold")->equal(pattern(at::kFloat, { 16 }).abs()));
}

void TestNpz::headerOnlyDoesNotNeedData()
{
    auto npz = NpzFile::open(fixture(QStringLiteral("io/numpy_savez_compressed.npz")));
    QVERIFY(npz.ok());
    auto h = npz->header("fortran");
    QVERIFY(h.ok());
    QVERIFY(h->fortranOrder);
    QCOMPARE(h->shape, (std::vector<int64_t> { 2, 3, 4 }));
    QCOMPARE(h->dataBytes, uint64_t { 96 });
    QVERIFY(!npz->header("nope").ok());
}

void TestNpz::roundTrip_data()
{
    QTest::addColumn<bool>("compressed");
    QTest::newRow("stored") << false;
    QTest::newRow("deflated") << true;
}

void TestNpz::roundTrip()
{
    QFETCH(bool, compressed);
    QTemporaryDir dir;
    const std::string path = dir.filePath("rt.npz").toStdString();
    NamedTensors in;
    for (auto type : { at::kDouble, at::kFloat, at::kHalf, at::kLong, at::kInt, at::kShort,
             at::kChar, at::kByte, at::kBool })
        in.emplace_back(std::string(c10::toString(type)), pattern(type, { 4, 7 }));
    in.emplace_back("scalar", pattern(at::kFloat, {}));
    in.emplace_back("transposed", pattern(at::kFloat, { 3, 5 }).t()); // non-contiguous input
    QVERIFY(writeNpz(path, in, compressed).ok());
    auto out = loadNpz(path);
    QVERIFY2(out.ok(), out.ok() ? "" : out.errorMessage().c_str());
    QCOMPARE(out->size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        QCOMPARE((*out)[i].first, in[i].first);
        QVERIFY2((*out)[i].second.equal(in[i].second), in[i].first.c_str());
    }
    QVERIFY(!writeNpz(path, { { "bf", at::zeros({ 2 }, at::kBFloat16) } }, compressed).ok());
}

void TestNpz::numpyReadsOurWriter_data()
{
    roundTrip_data();
}

void TestNpz::numpyReadsOurWriter()
{
    QFETCH(bool, compressed);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("ours.npz"));
    QVERIFY(writeNpz(path.toStdString(),
        { { "w", pattern(at::kFloat, { 3, 4 }) }, { "b", pattern(at::kBool, { 5 }) },
            { "s", pattern(at::kLong, {}) } },
        compressed)
                .ok());
    // numpy (python3-numpy, installed by the set-up script) must read what we write.
    const QString script = QStringLiteral(
        "import numpy as np, sys\n"
        "z = np.load(sys.argv[1], allow_pickle=False)\n"
        "i = np.arange(12)\n"
        "assert sorted(z.files) == ['b', 's', 'w'], z.files\n"
        "assert z['w'].dtype == np.float32 and z['w'].shape == (3, 4)\n"
        "assert (z['w'] == (((i % 97) - 48) / 4).reshape(3, 4)).all()\n"
        "assert z['b'].dtype == np.bool_ and (z['b'] == (np.arange(5) % 3 == 0)).all()\n"
        "assert z['s'].shape == () and z['s'] == -48\n"
        "print('ok')\n");
    QProcess python;
    python.start(QStringLiteral("/usr/bin/python3"), { QStringLiteral("-c"), script, path });
    QVERIFY2(python.waitForFinished(60000), "python3 did not finish");
    const QByteArray out = python.readAllStandardOutput() + python.readAllStandardError();
    QVERIFY2(python.exitCode() == 0 && out.contains("ok"), out.constData());
}

void TestNpz::impossibleSizeRefusedBeforeAllocating()
{
    // A deflated member whose directory claims 4 GiB from a few compressed bytes (a zip bomb's
    // header, or a corrupt one): refused with the numbers, before the 4 GiB is allocated.
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("bomb.npz")).toStdString();
    {
        ZipWriter zip(path);
        QVERIFY(zip.add("a.npy", std::string(1000, 'x'), true).ok());
        QVERIFY(zip.finish().ok());
    }
    QFile file(QString::fromStdString(path));
    QVERIFY(file.open(QIODevice::ReadWrite));
    QByteArray bytes = file.readAll();
    const auto patch = [&](const char *signature, int offset) {
        const int at = bytes.indexOf(QByteArray(signature, 4));
        QVERIFY(at >= 0);
        for (int i = 0; i < 4; ++i)
            bytes[at + offset + i] = char(i == 0 ? 0xF0 : 0xFF); // 0xFFFFFFF0
    };
    patch("PK\x03\x04", 22); // local header: uncompressed size
    patch("PK\x01\x02", 24); // central directory: uncompressed size
    file.seek(0);
    file.write(bytes);
    file.close();
    auto archive = ZipArchive::open(path);
    QVERIFY2(archive.ok(), archive.ok() ? "" : archive.errorMessage().c_str());
    auto member = archive->read(archive->entries().at(0));
    QVERIFY(!member.ok());
    QVERIFY2(member.errorMessage().find("claims 4294967280 bytes") != std::string::npos
            && member.errorMessage().find("more than deflate can produce") != std::string::npos
            && member.errorMessage().find("bomb.npz") != std::string::npos,
        member.errorMessage().c_str());
}

QTEST_GUILESS_MAIN(TestNpz)
#include "tst_npz.moc"
