// Tokenizers: GPT-2 ids against the reference implementation (gpt-3-encoder) on hard strings,
// byte spans that tile the input, decode round trips, special tokens and the BOS policy.

#include "core/demo/demo_paths.h"
#include "core/tokenize/tokenizer.h"
#include "tests/support/testsupport.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <fstream>

using namespace fscope::core::tokenize;
using nlohmann::json;

namespace {

const Tokenizer &gpt2()
{
    static auto t = loadTokenizer(fscope::test::fixture(QStringLiteral("tokenizers/gpt2")));
    if (!t)
        qFatal("%s", t.errorMessage().c_str());
    return **t;
}

json expectedCases()
{
    return json::parse(fscope::test::readFile(
        fscope::test::fixture(QStringLiteral("tokenizers/gpt2_expected.json"))));
}

void verifySpans(const std::string &text, const Encoding &e, const Tokenizer &t)
{
    QCOMPARE(e.spans.size(), e.ids.size());
    size_t cursor = 0;
    for (size_t i = 0; i < e.ids.size(); ++i) {
        QCOMPARE(e.spans[i].first, cursor); // contiguous, no gap or overlap
        QVERIFY(e.spans[i].second > e.spans[i].first);
        // Each token's bytes are exactly the text it covers.
        QCOMPARE(t.tokenBytes(e.ids[i]),
            text.substr(e.spans[i].first, e.spans[i].second - e.spans[i].first));
        cursor = e.spans[i].second;
    }
    QCOMPARE(cursor, text.size());
}

} // namespace

class TestTokenizer : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void continuationKeepsSentencePieceSpace();
    void gpt2MatchesReference_data();
    void gpt2MatchesReference();
    void multiByteCharacterSplitAcrossTokens();
    void specialTokensAndBos();
    void tokenizerJsonGivesSameIds();
    void decodeReplacesBrokenUtf8();
    void missingTokenizerIsAnError();
    void llama3MatchesReference();
    void gemmaMatchesReference();
    void sentencePieceModelMatchesReference();
};

void TestTokenizer::gpt2MatchesReference_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QList<qint64>>("ids");
    for (const auto &c : expectedCases()) {
        QList<qint64> ids;
        for (const auto &id : c["ids"])
            ids.append(id.get<qint64>());
        const QString text = QString::fromStdString(c["text"].get<std::string>());
        QTest::newRow(qPrintable(text.left(30).replace(QLatin1Char('\n'), QLatin1String("\\n"))))
            << text << ids;
    }
}

void TestTokenizer::gpt2MatchesReference()
{
    QFETCH(QString, text);
    QFETCH(QList<qint64>, ids);
    const std::string utf8 = text.toStdString();
    const Encoding e = gpt2().encode(utf8);
    QCOMPARE(QList<qint64>(e.ids.begin(), e.ids.end()), ids);
    verifySpans(utf8, e, gpt2());
    QCOMPARE(gpt2().decode(e.ids), utf8);
}

void TestTokenizer::multiByteCharacterSplitAcrossTokens()
{
    // A rare CJK character is split into byte tokens: spans cover parts of one character.
    const std::string text = "\xe9\xbe\x98"; // U+9F98
    const Encoding e = gpt2().encode(text);
    QVERIFY(e.ids.size() > 1);
    verifySpans(text, e, gpt2());
    QVERIFY(gpt2().tokenBytes(e.ids[0]).size() < 3);
}

void TestTokenizer::specialTokensAndBos()
{
    const Tokenizer &t = gpt2();
    const Encoding e = t.encode("a<|endoftext|>b");
    QCOMPARE(e.ids, (std::vector<int64_t> { 64, 50256, 65 }));
    QCOMPARE(e.spans[1], (std::pair<size_t, size_t> { 1, 14 }));
    QCOMPARE(t.bosId().value(), int64_t { 50256 });
    QVERIFY(!t.addsBosByDefault()); // HF GPT-2 adds none
    const Encoding withBos = t.encodeForModel("Hello", true);
    QCOMPARE(withBos.ids, (std::vector<int64_t> { 50256, 15496 }));
    QCOMPARE(withBos.spans[0], (std::pair<size_t, size_t> { 0, 0 }));
    QCOMPARE(t.encodeForModel("Hello").ids, (std::vector<int64_t> { 15496 }));
    QCOMPARE(t.tokenName(15496), std::string("Hello"));
    QCOMPARE(t.tokenName(995), std::string("\xc4\xa0world")); // "Ġworld"
    QCOMPARE(t.vocabSize(), int64_t { 50257 });
}

void TestTokenizer::tokenizerJsonGivesSameIds()
{
    // The same vocabulary as an HF tokenizer.json (tuple-form merges), with a BOS template.
    QTemporaryDir dir;
    const std::string base = fscope::test::fixture(QStringLiteral("tokenizers/gpt2"));
    json vocab = json::parse(fscope::test::readFile(base + "/vocab.json"));
    json merges = json::array();
    std::ifstream in(base + "/merges.txt");
    std::string line;
    while (std::getline(in, line))
        if (!line.empty() && line[0] != '#')
            merges.push_back({ line.substr(0, line.find(' ')), line.substr(line.find(' ') + 1) });
    json doc = { { "version", "1.0" },
        { "added_tokens",
            { { { "id", 50256 }, { "content", "<|endoftext|>" }, { "special", true } } } },
        { "pre_tokenizer",
            { { "type", "ByteLevel" }, { "add_prefix_space", false }, { "use_regex", true } } },
        { "post_processor",
            { { "type", "TemplateProcessing" },
                { "single",
                    { { { "SpecialToken", { { "id", "<|endoftext|>" } } } },
                        { { "Sequence", { { "id", "A" } } } } } } } },
        { "model", { { "type", "BPE" }, { "vocab", vocab }, { "merges", merges } } } };
    fscope::test::writeFile(dir.filePath("tokenizer.json").toStdString(), doc.dump());
    auto t = loadTokenizer(dir.path().toStdString());
    QVERIFY2(t.ok(), t.ok() ? "" : t.errorMessage().c_str());
    QVERIFY((*t)->addsBosByDefault());
    for (const auto &c : expectedCases()) {
        const auto ids = (*t)->encode(c["text"].get<std::string>()).ids;
        QVERIFY(ids == c["ids"].get<std::vector<int64_t>>());
    }
    QCOMPARE((*t)->encodeForModel("Hello").ids.front(), int64_t { 50256 });
}

void TestTokenizer::decodeReplacesBrokenUtf8()
{
    const Encoding e = gpt2().encode("\xe9\xbe\x98");
    const std::string partial = gpt2().decode({ e.ids[0] });
    QVERIFY(partial.find("\xEF\xBF\xBD") != std::string::npos);
    QCOMPARE(sanitizeUtf8("ok\xff"), std::string("ok\xEF\xBF\xBD"));
}

void TestTokenizer::missingTokenizerIsAnError()
{
    QTemporaryDir dir;
    auto t = loadTokenizer(dir.path().toStdString());
    QVERIFY(!t.ok());
    QVERIFY(t.errorMessage().find("no tokenizer found") != std::string::npos);
    fscope::test::writeFile(dir.filePath("tokenizer.json").toStdString(), "{\"model\": 3");
    t = loadTokenizer(dir.path().toStdString());
    QVERIFY(!t.ok());
    QVERIFY(t.errorMessage().find("tokenizer.json") != std::string::npos);
}

void TestTokenizer::llama3MatchesReference()
{
    // Llama 3: its own regex (\\p{N}{1,3}, case-insensitive contractions) and ignore_merges.
    QTemporaryDir dir;
    const std::string base = fscope::test::fixture(QStringLiteral("tokenizers/llama3"));
    QVERIFY(fscope::test::gunzip(
        base + "/tokenizer.json.gz", dir.filePath("tokenizer.json").toStdString()));
    QVERIFY(QFile::copy(QString::fromStdString(base + "/tokenizer_config.json"),
        dir.filePath("tokenizer_config.json")));
    auto t = loadTokenizer(dir.path().toStdString());
    QVERIFY2(t.ok(), t.ok() ? "" : t.errorMessage().c_str());
    QCOMPARE((*t)->bosId().value(), int64_t { 128000 }); // <|begin_of_text|>
    const json cases = json::parse(fscope::test::readFile(
        fscope::test::fixture(QStringLiteral("tokenizers/llama3_expected.json"))));
    int checked = 0;
    for (const auto &c : cases) {
        const std::string text = c["text"].get<std::string>();
        const Encoding e = (*t)->encode(text);
        const auto expected = c["ids"].get<std::vector<int64_t>>();
        QVERIFY2(e.ids == expected, text.c_str());
        verifySpans(text, e, **t);
        ++checked;
    }
    QCOMPARE(checked, 22);
    QCOMPARE((*t)->encode("<|begin_of_text|>hi").ids.front(), int64_t { 128000 });
}

void TestTokenizer::gemmaMatchesReference()
{
    // SentencePiece-style BPE from tokenizer.json: "▁" spaces, byte fallback, BOS by default.
    QTemporaryDir dir;
    const std::string base = fscope::test::fixture(QStringLiteral("tokenizers/gemma3"));
    QVERIFY(fscope::test::gunzip(
        base + "/tokenizer.json.gz", dir.filePath("tokenizer.json").toStdString()));
    QVERIFY(QFile::copy(QString::fromStdString(base + "/tokenizer_config.json"),
        dir.filePath("tokenizer_config.json")));
    auto t = loadTokenizer(dir.path().toStdString());
    QVERIFY2(t.ok(), t.ok() ? "" : t.errorMessage().c_str());
    QVERIFY((*t)->addsBosByDefault());
    // The example of HF's GemmaTokenizerFast documentation.
    QCOMPARE((*t)->encodeForModel("Hello this is a test").ids,
        (std::vector<int64_t> { 2, 9259, 672, 563, 496, 1594 }));
    const json cases = json::parse(fscope::test::readFile(
        fscope::test::fixture(QStringLiteral("tokenizers/gemma3_expected.json"))));
    for (const auto &c : cases) {
        const std::string text = c["text"].get<std::string>();
        const Encoding e = (*t)->encode(text);
        QVERIFY2(e.ids == c["ids"].get<std::vector<int64_t>>(), text.c_str());
        verifySpans(text, e, **t);
        QCOMPARE((*t)->decode(e.ids), text);
    }
}

void TestTokenizer::sentencePieceModelMatchesReference()
{
    // tokenizer.model read natively; ids as the reference spm_encode gives them.
    const std::string dir = fscope::test::fixture(QStringLiteral("tokenizers/sentencepiece"));
    auto t = loadTokenizer(dir);
    QVERIFY2(t.ok(), t.ok() ? "" : t.errorMessage().c_str());
    QVERIFY((*t)->addsBosByDefault());
    QCOMPARE((*t)->bosId().value(), int64_t { 1 });
    const json cases = json::parse(fscope::test::readFile(
        fscope::test::fixture(QStringLiteral("tokenizers/sentencepiece_expected.json"))));
    QCOMPARE(cases.size(), size_t { 7 });
    for (const auto &c : cases) {
        const std::string text = c["text"].get<std::string>();
        const Encoding e = (*t)->encode(text);
        QVERIFY2(e.ids == c["ids"].get<std::vector<int64_t>>(), text.c_str());
        QCOMPARE((*t)->decode(e.ids), text);
        QCOMPARE(e.spans.back().second, text.size());
    }
    // A damaged model file is refused with its name.
    QTemporaryDir broken;
    fscope::test::writeFile(
        broken.filePath("tokenizer.model").toStdString(), std::string("\x0a\xff\xff\xff", 4));
    auto bad = loadTokenizer(broken.path().toStdString());
    QVERIFY(!bad.ok());
    QVERIFY2(
        bad.errorMessage().find("tokenizer.model: not a SentencePiece model") != std::string::npos,
        bad.errorMessage().c_str());
}

// Decoding a SentencePiece continuation alone drops its first piece's space ("is" + "a");
// continuationText keeps it, and is the plain decode for byte-level BPE.
void TestTokenizer::continuationKeepsSentencePieceSpace()
{
    auto demo = fscope::core::demo::locateDemo();
    QVERIFY(demo.ok());
    auto tok = loadTokenizer(demo->model);
    QVERIFY(tok.ok());
    const auto prompt = (*tok)->encodeForModel("A hacker is").ids;
    // "a wizard" encodes as "▁a ▁wizard" (the dummy prefix), what a model generates after "is".
    const auto more = (*tok)->encode("a wizard").ids;
    QCOMPARE((*tok)->decode(more), std::string("a wizard")); // alone: the space is gone
    QCOMPARE(continuationText(**tok, prompt, more), std::string(" a wizard"));
}

QTEST_GUILESS_MAIN(TestTokenizer)
#include "tst_tokenizer.moc"
