// Malformed containers: each is rejected with a specific message naming the file, never a
// crash. Cases are built from valid bytes with one defect each.

#include "core/io/inspect.h"
#include "core/io/npz_tensor.h"
#include "core/io/torch_tensor.h"
#include "tests/support/testsupport.h"

#include <QTemporaryDir>
#include <QTest>

using namespace fscope::core;
using namespace fscope::core::io;

namespace {

std::string lengthPrefix(uint64_t n)
{
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i)
        s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}

// A safetensors image with the given header text and `dataBytes` bytes of data.
QByteArray safetensors(const std::string &header, size_t dataBytes, char fill = '\0')
{
    const std::string s = lengthPrefix(header.size()) + header + std::string(dataBytes, fill);
    return QByteArray(s.data(), static_cast<qsizetype>(s.size()));
}

// The bytes of a zip holding `members` (name, content) written by our ZipWriter.
QByteArray zipOf(const std::vector<std::pair<std::string, std::string>> &members, bool deflate)
{
    QTemporaryDir dir;
    const std::string path = dir.filePath("z.zip").toStdString();
    ZipWriter zip(path);
    for (const auto &[name, content] : members)
        (void)zip.add(name, content, deflate);
    (void)zip.finish();
    const std::string bytes = fscope::test::readFile(path);
    return QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size()));
}

std::string npy(const std::string &dict, size_t dataBytes)
{
    std::string header = dict;
    header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::string s("\x93NUMPY\x01\x00", 8);
    s += static_cast<char>(header.size() & 0xff);
    s += static_cast<char>(header.size() >> 8);
    return s + header + std::string(dataBytes, '\0');
}

const std::string kF32x2 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";

} // namespace

class TestMalformed : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void rejected_data();
    void rejected();
    void objectArrayFromNumpyRejected();
    void pickleRefusedByInspect();
};

void TestMalformed::rejected_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("extension");
    QTest::addColumn<QString>("expected");

    const std::string ok = R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})";
    QTest::newRow("empty file") << QByteArray() << "safetensors"
                                << "too small";
    QTest::newRow("header length past EOF")
        << QByteArray::fromStdString(lengthPrefix(500) + "{}") << "safetensors"
        << "runs past the end";
    QTest::newRow("huge header length")
        << QByteArray::fromStdString(lengthPrefix(1ull << 40) + "{}") << "safetensors"
        << "exceeds the 100000000-byte limit";
    QTest::newRow("non-JSON header") << safetensors("{not json", 0) << "safetensors"
                                     << "not valid JSON";
    QTest::newRow("header not an object") << safetensors("[1, 2]", 0) << "safetensors"
                                          << "does not start with '{'";
    QTest::newRow("truncated data") << safetensors(ok, 20) << "safetensors"
                                    << "truncated: tensor data ends";
    QTest::newRow("trailing bytes") << safetensors(ok, 30) << "safetensors"
                                    << "6 unexpected bytes after the last tensor";
    QTest::newRow("overlapping offsets")
        << safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
               12)
        << "safetensors"
        << "overlaps the previous tensor";
    QTest::newRow("gap between tensors")
        << safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
               20)
        << "safetensors"
        << "gap of 4 bytes before tensor 'b'";
    QTest::newRow("gap at start") << safetensors(
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", 16)
                                  << "safetensors"
                                  << "gap of 8 bytes";
    QTest::newRow("dtype/shape mismatch")
        << safetensors(R"({"a":{"dtype":"F16","shape":[2,3],"data_offsets":[0,24]}})", 24)
        << "safetensors"
        << "needs 12 bytes but data_offsets span 24";
    QTest::newRow("unknown dtype")
        << safetensors(R"({"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})", 16)
        << "safetensors"
        << "unknown dtype \"F128\"";
    QTest::newRow("duplicate names")
        << safetensors(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                       R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
               2)
        << "safetensors"
        << "names tensor 'a' more than once";
    QTest::newRow("negative extent")
        << safetensors(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", 1)
        << "safetensors"
        << "non-integer or negative";
    QTest::newRow("offsets reversed")
        << safetensors(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[4,0]}})", 4)
        << "safetensors"
        << "end before they begin";
    QTest::newRow("shape overflow") << safetensors(
        R"({"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,4]}})", 4)
                                    << "safetensors"
                                    << "overflows";
    QTest::newRow("metadata not strings")
        << safetensors(R"({"__metadata__":{"n":1}})", 0) << "safetensors"
        << "__metadata__ value 'n' is not a string";
    QTest::newRow("missing dtype")
        << safetensors(R"({"a":{"shape":[1],"data_offsets":[0,1]}})", 1) << "safetensors"
        << "missing \"dtype\"";
    QTest::newRow("bool byte not 0/1")
        << safetensors(R"({"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", 2, '\x07')
        << "safetensors"
        << "BOOL data holds a byte other than 0 or 1";

    // .npz
    QTest::newRow("not a zip") << QByteArray(100, 'x') << "npz"
                               << "no end-of-central-directory";
    QByteArray badDirectory = zipOf({ { "a.npy", npy(kF32x2, 8) } }, false);
    badDirectory.replace(QByteArray("PK\x01\x02", 4), QByteArray("PK\x09\x09", 4));
    QTest::newRow("bad zip directory") << badDirectory << "npz"
                                       << "central directory entry 0 is damaged";
    QByteArray cutMember = zipOf({ { "a.npy", npy(kF32x2, 8) } }, false);
    {
        // Central directory claims a compressed size far past the end of the file.
        const qsizetype central = cutMember.indexOf(QByteArray("PK\x01\x02", 4));
        cutMember[central + 20] = '\xff';
        cutMember[central + 21] = '\xff';
        cutMember[central + 22] = '\x0f';
    }
    QTest::newRow("zip member truncated") << cutMember << "npz"
                                          << "member 'a.npy' is truncated";
    QByteArray flipped = zipOf({ { "a.npy", npy(kF32x2, 8) } }, false);
    flipped[30 + 5 + 64 + 2] = '\x55'; // a data byte of the stored member
    QTest::newRow("crc mismatch") << flipped << "npz"
                                  << "fails its CRC-32 check";
    QByteArray garbage = zipOf({ { "a.npy", npy(kF32x2, 8) } }, true);
    for (int i = 0; i < 20; ++i)
        garbage[30 + 5 + i] = static_cast<char>(0xff - i);
    QTest::newRow("corrupt deflate") << garbage << "npz"
                                     << "is corrupt";
    QTest::newRow("npy data truncated") << zipOf(
        { { "a.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100,), }", 8) } },
        false) << "npz"
                                        << "<f4 [100] needs 400 data bytes, 8 present";
    QTest::newRow("npy bad magic") << zipOf({ { "a.npy", "NOTNUMPY0123456789" } }, false) << "npz"
                                   << "magic \\x93NUMPY missing";
    QTest::newRow("npy structured dtype") << zipOf(
        { { "a.npy",
            npy("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }", 4) } },
        false) << "npz"
                                          << "structured (record) arrays";
    QTest::newRow("npy string dtype") << zipOf(
        { { "a.npy", npy("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", 20) } },
        false) << "npz"
                                      << "unsupported dtype '<U5'";
    QTest::newRow("npy object dtype") << zipOf(
        { { "a.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", 8) } }, false)
                                      << "npz"
                                      << "pickled Python objects";
    QTest::newRow("npy header missing key")
        << zipOf({ { "a.npy", npy("{'descr': '<f4', 'shape': (2,), }", 8) } }, false) << "npz"
        << "descr, fortran_order and shape are all required";
}

void TestMalformed::rejected()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, extension);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("case.") + extension).toStdString();
    fscope::test::writeFile(path, bytes.toStdString());

    std::string message;
    if (extension == QLatin1String("npz")) {
        auto loaded = loadNpz(path);
        QVERIFY2(!loaded.ok(), "malformed npz was accepted");
        message = loaded.errorMessage();
    } else {
        auto checkpoint = Checkpoint::open(path);
        if (checkpoint.ok()) {
            for (const auto &[name, t] : checkpoint->tensors())
                if (auto loaded = loadTensor(*checkpoint, name); !loaded.ok())
                    message = loaded.errorMessage();
            QVERIFY2(!message.empty(), "malformed safetensors was accepted");
        } else {
            message = checkpoint.errorMessage();
        }
    }
    QVERIFY2(message.find(expected.toStdString()) != std::string::npos, message.c_str());
    QVERIFY2(message.find(path) != std::string::npos, "message does not name the file");
}

void TestMalformed::objectArrayFromNumpyRejected()
{
    auto loaded = loadNpz(fscope::test::fixture(QStringLiteral("io/object_array.npz")));
    QVERIFY(!loaded.ok());
    QVERIFY2(loaded.errorMessage().find("never loaded") != std::string::npos,
        loaded.errorMessage().c_str());
    QVERIFY(loaded.errorMessage().find("obj.npy") != std::string::npos);
}

void TestMalformed::pickleRefusedByInspect()
{
    const std::string path = fscope::test::fixture(QStringLiteral("io/pytorch_model.bin"));
    QVERIFY(looksLikePickle(path));
    auto report = inspectFile(path);
    QVERIFY(!report.ok());
    QVERIFY(report.errorMessage().find("never loads pickles") != std::string::npos);
    // Content, not just the name: a pickle renamed to .safetensors is caught too.
    QTemporaryDir dir;
    const std::string renamed = dir.filePath("weights.safetensors").toStdString();
    fscope::test::writeFile(renamed, fscope::test::readFile(path));
    QVERIFY(looksLikePickle(renamed));
}

QTEST_APPLESS_MAIN(TestMalformed)
#include "tst_malformed.moc"
