// safetensors: fixtures written by an independent generator, our writer's round trip for
// every dtype, zero-copy views, sharded checkpoints, and a 4 GiB file opened by header only.

#include "core/io/inspect.h"
#include "core/io/torch_tensor.h"
#include "tests/support/tensorpattern.h"
#include "tests/support/testsupport.h"

#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <unistd.h>

using namespace fscope::core;
using namespace fscope::core::io;
using fscope::test::fixture;
using fscope::test::pattern;

Q_DECLARE_METATYPE(at::ScalarType)

class TestSafetensors : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void readsGeneratorFixture_data();
    void readsGeneratorFixture();
    void fixtureScalarEmptyAndMetadata();
    void roundTrip_data();
    void roundTrip();
    void viewIsZeroCopyAndCopyOnWrite();
    void writerFollowsReferenceLayout();
    void shardedCheckpoint();
    void directoryCheckpoint();
    void inspectReportsTensors();
    void hugeSparseFileOpensWithoutReadingData();
};

void TestSafetensors::readsGeneratorFixture_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<at::ScalarType>("type");
    QTest::newRow("F64") << "f64" << at::kDouble;
    QTest::newRow("F32") << "f32" << at::kFloat;
    QTest::newRow("F16") << "f16" << at::kHalf;
    QTest::newRow("BF16") << "bf16" << at::kBFloat16;
    QTest::newRow("I64") << "i64" << at::kLong;
    QTest::newRow("I32") << "i32" << at::kInt;
    QTest::newRow("I16") << "i16" << at::kShort;
    QTest::newRow("I8") << "i8" << at::kChar;
    QTest::newRow("U8") << "u8" << at::kByte;
    QTest::newRow("BOOL") << "bool" << at::kBool;
}

void TestSafetensors::readsGeneratorFixture()
{
    QFETCH(QString, name);
    QFETCH(at::ScalarType, type);
    auto checkpoint = Checkpoint::open(fixture("io/all_dtypes.safetensors"));
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : checkpoint.errorMessage().c_str());
    auto t = loadTensor(*checkpoint, name.toStdString());
    QVERIFY2(t.ok(), t.ok() ? "" : t.errorMessage().c_str());
    QCOMPARE(t->scalar_type(), type);
    QCOMPARE(t->sizes().vec(), (std::vector<int64_t> { 3, 5 }));
    QVERIFY(t->equal(pattern(type, { 3, 5 })));
}

void TestSafetensors::fixtureScalarEmptyAndMetadata()
{
    auto file = SafetensorsFile::open(fixture("io/all_dtypes.safetensors"));
    QVERIFY(file.ok());
    QCOMPARE(file->header().metadata.at("format"), std::string("pt"));
    const TensorEntry *scalar = file->find("scalar");
    QVERIFY(scalar);
    QVERIFY(scalar->shape.empty());
    auto s = tensorFromFile(*file, *scalar);
    QVERIFY(s.ok());
    QCOMPARE(s->dim(), 0);
    QCOMPARE(s->item<float>(), -12.0f); // ((0 % 97) - 48) / 4
    auto e = tensorFromFile(*file, *file->find("empty"));
    QVERIFY(e.ok());
    QCOMPARE(e->sizes().vec(), (std::vector<int64_t> { 0, 4 }));
}

void TestSafetensors::roundTrip_data()
{
    QTest::addColumn<at::ScalarType>("type");
    QTest::newRow("BF16") << at::kBFloat16;
    QTest::newRow("F16") << at::kHalf;
    QTest::newRow("F32") << at::kFloat;
    QTest::newRow("F64") << at::kDouble;
    QTest::newRow("I64") << at::kLong;
    QTest::newRow("I32") << at::kInt;
    QTest::newRow("I16") << at::kShort;
    QTest::newRow("I8") << at::kChar;
    QTest::newRow("U8") << at::kByte;
    QTest::newRow("BOOL") << at::kBool;
}

void TestSafetensors::roundTrip()
{
    QFETCH(at::ScalarType, type);
    QTemporaryDir dir;
    const std::string path = dir.filePath("rt.safetensors").toStdString();
    // Odd sizes next to each other exercise alignment of the following tensors.
    const at::Tensor a = pattern(type, { 7, 3, 2 });
    const at::Tensor b = pattern(at::kByte, { 5 });
    const at::Tensor c = pattern(type, { 1 }).reshape({});
    auto written = writeSafetensors(path, { { "a", a }, { "b", b }, { "c", c } }, { { "k", "v" } });
    QVERIFY2(written.ok(), written.ok() ? "" : written.errorMessage().c_str());
    auto checkpoint = Checkpoint::open(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : checkpoint.errorMessage().c_str());
    QVERIFY(loadTensor(*checkpoint, "a")->equal(a));
    QVERIFY(loadTensor(*checkpoint, "b")->equal(b));
    QVERIFY(loadTensor(*checkpoint, "c")->equal(c));
    QCOMPARE(checkpoint->files().front().header().metadata.at("k"), std::string("v"));
}

void TestSafetensors::viewIsZeroCopyAndCopyOnWrite()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("view.safetensors").toStdString();
    QVERIFY(writeSafetensors(path, { { "w", at::ones({ 64, 64 }) } }).ok());
    const std::string before = fscope::test::readFile(path);
    {
        auto file = SafetensorsFile::open(path);
        QVERIFY(file.ok());
        auto t = tensorFromFile(*file, *file->find("w"));
        QVERIFY(t.ok());
        const auto *p = static_cast<const uint8_t *>(t->data_ptr());
        const uint8_t *base = file->mapping()->data();
        QVERIFY(p >= base && p < base + file->mapping()->size()); // a view, not a copy
        t->mul_(3); // private mapping: allowed, and never written back
        QCOMPARE(t->sum().item<float>(), 3.0f * 64 * 64);
    }
    QVERIFY(fscope::test::readFile(path) == before);
}

void TestSafetensors::writerFollowsReferenceLayout()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("layout.safetensors").toStdString();
    QVERIFY(writeSafetensors(path,
        { { "z_byte", at::zeros({ 3 }, at::kByte) }, { "a_half", at::zeros({ 3 }, at::kHalf) },
            { "m_double", at::zeros({ 2 }, at::kDouble) } })
                .ok());
    auto file = SafetensorsFile::open(path);
    QVERIFY(file.ok());
    // Descending alignment then name: double, half, byte.
    QCOMPARE(file->tensors()[0].name, std::string("m_double"));
    QCOMPARE(file->tensors()[1].name, std::string("a_half"));
    QCOMPARE(file->tensors()[2].name, std::string("z_byte"));
    QCOMPARE(file->header().dataStart % 8, uint64_t { 0 });
}

void TestSafetensors::shardedCheckpoint()
{
    auto checkpoint = Checkpoint::open(fixture("io/model.safetensors.index.json"));
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : checkpoint.errorMessage().c_str());
    QCOMPARE(checkpoint->files().size(), size_t { 2 });
    QCOMPARE(checkpoint->tensors().size(), size_t { 2 });
    QVERIFY(loadTensor(*checkpoint, "model.embed.weight")->equal(pattern(at::kFloat, { 4, 6 })));
    QVERIFY(loadTensor(*checkpoint, "model.norm.weight")->equal(pattern(at::kHalf, { 6 })));
    auto missing = loadTensor(*checkpoint, "lm_head.weight");
    QVERIFY(!missing.ok());
    QVERIFY(missing.errorMessage().find("lm_head.weight") != std::string::npos);
}

void TestSafetensors::directoryCheckpoint()
{
    QTemporaryDir dir;
    QVERIFY(writeSafetensors(
        dir.filePath("model.safetensors").toStdString(), { { "x", at::ones({ 2 }) } })
                .ok());
    auto checkpoint = Checkpoint::open(dir.path().toStdString());
    QVERIFY(checkpoint.ok());
    QCOMPARE(checkpoint->tensors().count("x"), size_t { 1 });
    // The fixture directory holds an index, which wins over single files.
    auto sharded = Checkpoint::open(fixture("io"));
    QVERIFY(sharded.ok());
    QCOMPARE(sharded->files().size(), size_t { 2 });
}

void TestSafetensors::inspectReportsTensors()
{
    auto report = inspectFile(fixture("io/all_dtypes.safetensors"));
    QVERIFY(report.ok());
    QCOMPARE(report->format, std::string("safetensors"));
    QCOMPARE(report->tensors.size(), size_t { 12 });
    // 15 elements each: 8+4+2+2+8+4+2+1+1+1 bytes per element, plus the 4-byte scalar.
    QCOMPARE(report->totalBytes(), uint64_t { 15 * 33 + 4 });
    auto npz = inspectFile(fixture("io/gemma_scope_params.npz"));
    QVERIFY(npz.ok());
    QCOMPARE(npz->tensors.size(), size_t { 5 });
    QCOMPARE(npz->tensors[0].name, std::string("W_enc"));
    QCOMPARE(npz->tensors[0].shape, (std::vector<int64_t> { 8, 16 }));
}

void TestSafetensors::hugeSparseFileOpensWithoutReadingData()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("huge.safetensors").toStdString();
    const uint64_t numel = 1ull << 30; // 4 GiB of F32
    std::string header = "{\"huge\":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(numel)
        + "],\"data_offsets\":[0," + std::to_string(numel * 4) + "]}}";
    header.append((8 - header.size() % 8) % 8, ' ');
    std::string prefix(8, '\0');
    for (int i = 0; i < 8; ++i)
        prefix[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    fscope::test::writeFile(path, prefix + header);
    // Extend to full size without writing: a sparse file of holes.
    QCOMPARE(::truncate(path.c_str(), static_cast<off_t>(8 + header.size() + numel * 4)), 0);

    const uint64_t rssBefore = fscope::test::residentBytes();
    auto checkpoint = Checkpoint::open(path);
    QVERIFY2(checkpoint.ok(), checkpoint.ok() ? "" : checkpoint.errorMessage().c_str());
    auto t = loadTensor(*checkpoint, "huge");
    QVERIFY(t.ok());
    QCOMPARE(t->numel(), static_cast<int64_t>(numel));
    QCOMPARE(t->data_ptr<float>()[numel - 1], 0.0f); // touches one page only
    const uint64_t grown
        = fscope::test::residentBytes() - std::min(rssBefore, fscope::test::residentBytes());
    // Reading the data would make 4 GiB resident; the mapping touched a few pages.
    QVERIFY2(grown < 64ull << 20, qPrintable(QStringLiteral("RSS grew by %1 bytes").arg(grown)));
}

QTEST_APPLESS_MAIN(TestSafetensors)
#include "tst_safetensors.moc"
