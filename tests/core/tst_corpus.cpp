// Corpora: formats, deterministic sampling by seed, the token budget, fingerprints, and clear
// errors for bad input (empty, non-UTF-8, a JSONL line without the field, a missing file);
// gzip and zstd files (several members or frames, directories of shards) read like the plain ones.

#include "core/corpus/corpus.h"
#include "core/store/fingerprint.h"
#include "tests/support/testsupport.h"

#include <QTemporaryDir>
#include <QtTest>

#include <zlib.h>
#include <zstd.h>

#include <filesystem>

using namespace fscope::core;
using fscope::test::fixture;
using fscope::test::writeFile;

class TestCorpus : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    std::unique_ptr<tokenize::Tokenizer> m_tok;

    std::string path(const char *name) const { return (m_tmp.path() + "/" + name).toStdString(); }
    corpus::CorpusSpec spec(
        std::vector<std::string> paths, int64_t T = 8, int64_t budget = 64) const
    {
        corpus::CorpusSpec s;
        s.paths = std::move(paths);
        s.contextLength = T;
        s.tokenBudget = budget;
        return s;
    }

private Q_SLOTS:
    void initTestCase();
    void textLinesAndBudget();
    void seedDecidesOrder();
    void jsonlAndDirectories();
    void badCorpora();
    void tokenCounts();
    void compressedCorpora();
};

namespace {

// `text` as gzip members (one per part), the way concatenating compressed files writes them.
std::string gzipMembers(const std::vector<std::string> &parts)
{
    std::string out;
    for (const auto &part : parts) {
        z_stream z {};
        deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        std::string buffer(deflateBound(&z, part.size()) + 32, '\0');
        z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(part.data()));
        z.avail_in = static_cast<uInt>(part.size());
        z.next_out = reinterpret_cast<Bytef *>(buffer.data());
        z.avail_out = static_cast<uInt>(buffer.size());
        deflate(&z, Z_FINISH);
        out.append(buffer.data(), z.total_out);
        deflateEnd(&z);
    }
    return out;
}

std::string zstdFrames(const std::vector<std::string> &parts)
{
    std::string out;
    for (const auto &part : parts) {
        // With a content checksum, as the zstd tool writes by default.
        ZSTD_CCtx *cctx = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
        std::string buffer(ZSTD_compressBound(part.size()), '\0');
        buffer.resize(ZSTD_compress2(cctx, buffer.data(), buffer.size(), part.data(), part.size()));
        ZSTD_freeCCtx(cctx);
        out += buffer;
    }
    return out;
}

} // namespace

void TestCorpus::initTestCase()
{
    auto tok = tokenize::loadTokenizer(fixture("tokenizers/gpt2"));
    QVERIFY2(tok.ok(), tok.ok() ? "" : tok.errorMessage().c_str());
    m_tok = std::move(tok).value();
    m_tok->setSpecialTokens(50256, 50256, false);
    std::string lines;
    for (int i = 0; i < 200; ++i)
        lines += "Document number " + std::to_string(i) + " says hello to the world.\n";
    writeFile(path("lines.txt"), lines);
}

void TestCorpus::textLinesAndBudget()
{
    auto c = corpus::buildCorpus(spec({ path("lines.txt") }, 16, 100), *m_tok, "tok");
    QVERIFY2(c.ok(), c.ok() ? "" : c.errorMessage().c_str());
    QCOMPARE(c->documents, int64_t(200));
    QCOMPARE(c->contexts(), int64_t(6)); // floor(100 / 16)
    for (int64_t i = 0; i < c->contexts(); ++i)
        QCOMPARE(c->context(i)[0], 50256); // BOS first
    // Documents are separated by BOS, and their text survives the round trip.
    std::vector<int64_t> body(c->context(0) + 1, c->context(0) + 16);
    const std::string text = m_tok->decode(body);
    QVERIFY2(QString::fromStdString(text).contains("says hello"), text.c_str());
    QCOMPARE(corpus::specialTokens(*m_tok), std::set<int64_t> { 50256 });
}

void TestCorpus::seedDecidesOrder()
{
    auto s0 = spec({ path("lines.txt") });
    auto a = corpus::buildCorpus(s0, *m_tok, "tok");
    auto b = corpus::buildCorpus(s0, *m_tok, "tok");
    QVERIFY(a.ok() && b.ok());
    QCOMPARE(a->ids, b->ids);
    QCOMPARE(a->fingerprint, b->fingerprint);
    auto s1 = s0;
    s1.seed = 7;
    auto c = corpus::buildCorpus(s1, *m_tok, "tok");
    QVERIFY(c.ok());
    QVERIFY(c->ids != a->ids);
    QVERIFY(c->fingerprint != a->fingerprint);
    // The tokenizer and the budget are part of the key too.
    QVERIFY(store::corpusFingerprint(s0, "tok").value()
        != store::corpusFingerprint(s0, "other").value());
    auto s2 = s0;
    s2.tokenBudget = 128;
    QVERIFY(store::corpusFingerprint(s2, "tok").value() != a->fingerprint);
    // The same content at another path is the same corpus.
    writeFile(path("copy.txt"), fscope::test::readFile(path("lines.txt")));
    QCOMPARE(store::corpusFingerprint(spec({ path("copy.txt") }), "tok").value(), a->fingerprint);
}

void TestCorpus::jsonlAndDirectories()
{
    QVERIFY(QDir(m_tmp.path()).mkpath("dir/sub"));
    writeFile(path("dir/a.jsonl"),
        "{\"text\": \"alpha beta gamma delta\", \"id\": 1}\n\n{\"text\": \"epsilon zeta eta "
        "theta\"}\n");
    writeFile(path("dir/sub/b.txt"), "iota kappa lambda mu nu xi omicron pi\nrho sigma tau\n");
    writeFile(path("dir/ignored.csv"), "not,a,corpus\n");
    auto files = corpus::corpusFiles(spec({ path("dir") }));
    QVERIFY(files.ok());
    QCOMPARE(files->size(), size_t(2));
    auto c = corpus::buildCorpus(spec({ path("dir") }, 4, 16), *m_tok, "tok");
    QVERIFY2(c.ok(), c.ok() ? "" : c.errorMessage().c_str());
    QCOMPARE(c->documents, int64_t(4));
    // Whole files as documents.
    auto s = spec({ path("dir/sub/b.txt") }, 4, 16);
    s.split = corpus::Split::Files;
    auto whole = corpus::buildCorpus(s, *m_tok, "tok");
    QVERIFY(whole.ok());
    QCOMPARE(whole->documents, int64_t(1));
}

void TestCorpus::badCorpora()
{
    auto expectError = [&](const corpus::CorpusSpec &s, const QString &fileName,
                           const QString &problem) {
        auto c = corpus::buildCorpus(s, *m_tok, "tok");
        QVERIFY(!c.ok());
        const QString message = QString::fromStdString(c.errorMessage());
        QVERIFY2(message.contains(fileName) && message.contains(problem), qPrintable(message));
    };
    writeFile(path("empty.txt"), "\n \n\n");
    expectError(spec({ path("empty.txt") }), "empty.txt", "empty");
    writeFile(path("latin1.txt"), "fine line\ncaf\xe9 au lait\n");
    expectError(spec({ path("latin1.txt") }), "latin1.txt:2", "not valid UTF-8");
    writeFile(path("nofield.jsonl"), "{\"text\": \"ok\"}\n{\"body\": \"no text here\"}\n");
    expectError(spec({ path("nofield.jsonl") }), "nofield.jsonl:2", "no \"text\" field");
    writeFile(path("broken.jsonl"), "{\"text\": \"ok\"}\n{\"text\": \n");
    expectError(spec({ path("broken.jsonl") }), "broken.jsonl:2", "not a JSON object");
    expectError(spec({ path("missing.txt") }), "missing.txt", "no such corpus file");
    writeFile(path("short.txt"), "hi\n");
    expectError(spec({ path("short.txt") }, 64, 128), "short.txt", "too short");
    expectError(spec({ path("lines.txt") }, 64, 10), "", "smaller than one context");
}

void TestCorpus::tokenCounts()
{
    QCOMPARE(corpus::parseTokenCount("3M").value(), int64_t(3000000));
    QCOMPARE(corpus::parseTokenCount("100k").value(), int64_t(100000));
    QCOMPARE(corpus::parseTokenCount("2.5m").value(), int64_t(2500000));
    QCOMPARE(corpus::parseTokenCount("4096").value(), int64_t(4096));
    QVERIFY(!corpus::parseTokenCount("lots").ok());
    QVERIFY(!corpus::parseTokenCount("3X").ok());
    QVERIFY(!corpus::parseTokenCount("-5").ok());
}

void TestCorpus::compressedCorpora()
{
    std::string jsonl, text;
    for (int i = 0; i < 300; ++i) {
        jsonl += "{\"text\": \"Shard line " + std::to_string(i) + " of a shipped dataset.\"}\n";
        text += "Plain line " + std::to_string(i) + " about compressed corpora.\n";
    }
    const std::string half = jsonl.substr(0, jsonl.size() / 2),
                      rest = jsonl.substr(jsonl.size() / 2);
    std::filesystem::create_directories(path("plain"));
    std::filesystem::create_directories(path("packed"));
    writeFile(path("plain/a.jsonl"), jsonl);
    writeFile(path("plain/b.txt"), text);
    // Two members and two frames, split in the middle of a line.
    writeFile(path("packed/a.jsonl.gz"), gzipMembers({ half, rest }));
    writeFile(path("packed/b.txt.zst"), zstdFrames({ text.substr(0, 100), text.substr(100) }));
    auto plain = corpus::buildCorpus(spec({ path("plain") }, 8, 4000), *m_tok, "tok");
    auto packed = corpus::buildCorpus(spec({ path("packed") }, 8, 4000), *m_tok, "tok");
    QVERIFY2(plain.ok() && packed.ok(), packed.ok() ? "" : packed.errorMessage().c_str());
    QCOMPARE(packed->documents, int64_t(600));
    QCOMPARE(packed->contexts(), plain->contexts());
    QVERIFY(packed->ids == plain->ids);
    // One compressed file on its own, JSONL recognised under the .zst.
    writeFile(path("one.jsonl.zst"), zstdFrames({ jsonl }));
    writeFile(path("one.jsonl"), jsonl);
    auto z = corpus::buildCorpus(spec({ path("one.jsonl.zst") }, 8, 400), *m_tok, "tok");
    auto u = corpus::buildCorpus(spec({ path("one.jsonl") }, 8, 400), *m_tok, "tok");
    QVERIFY2(z.ok(), z.ok() ? "" : z.errorMessage().c_str());
    QVERIFY(z->ids == u->ids);

    // Cut or corrupt files are refused by name, never read as a shorter corpus.
    const std::string gz = gzipMembers({ jsonl }), zs = zstdFrames({ jsonl });
    writeFile(path("cut.jsonl.gz"), gz.substr(0, gz.size() / 2));
    writeFile(path("cut.jsonl.zst"), zs.substr(0, zs.size() / 2));
    std::string bad = zs;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5A);
    writeFile(path("bad.jsonl.zst"), bad);
    writeFile(path("fake.txt.gz"), "not gzip at all\n");
    for (const char *name : { "cut.jsonl.gz", "cut.jsonl.zst", "bad.jsonl.zst", "fake.txt.gz" }) {
        const auto c = corpus::buildCorpus(spec({ path(name) }, 8, 400), *m_tok, "tok");
        QVERIFY2(!c.ok(), name);
        QVERIFY2(c.errorMessage().find(path(name)) != std::string::npos, c.errorMessage().c_str());
        QVERIFY2(c.errorMessage().find("gzip") != std::string::npos
                || c.errorMessage().find("zstd") != std::string::npos,
            c.errorMessage().c_str());
    }
}

QTEST_GUILESS_MAIN(TestCorpus)
#include "tst_corpus.moc"
