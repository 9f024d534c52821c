// Absurd sizes in outside input are refused before anything is allocated from them, with the
// limit or the mismatch named: a safetensors header or .npy claiming 10^12 elements, a model
// config claiming a vocabulary of 10^9, JSON nested 100,000 deep in every JSON reader, a corpus
// line of 65 MiB, and files larger than their reader's limit (sparse files, so the test itself
// writes almost nothing). The peak memory of the process is checked too: a parser that built
// what the header claims would show up there even where it then failed.

#include "core/corpus/corpus.h"
#include "core/corpus/corpus_scan.h"
#include "core/interp/explanation_records.h"
#include "core/io/checkpoint.h"
#include "core/io/npy.h"
#include "core/io/shard_index.h"
#include "core/model/model_config.h"
#include "core/sae/sae_io.h"
#include "core/steer/contrast_pairs.h"
#include "core/tokenize/tokenizer.h"
#include "core/util/json_file.h"
#include "tests/support/testsupport.h"

#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <fstream>
#include <sys/resource.h>

using namespace fscope::core;
namespace fs = std::filesystem;

namespace {

// The process's peak resident size so far, in MiB.
double peakMiB()
{
    rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) / 1024.0; // ru_maxrss is in KiB on Linux
}

std::string lengthPrefix(uint64_t n)
{
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i)
        s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}

std::string nested(int depth)
{
    return std::string(size_t(depth), '[') + std::string(size_t(depth), ']');
}

// A file of `bytes` bytes that occupies almost no disk: a hole after one line.
void sparseFile(const std::string &path, const std::string &start, uint64_t bytes)
{
    fscope::test::writeFile(path, start);
    fs::resize_file(path, bytes);
}

bool mentions(const std::string &message, const std::string &part)
{
    return message.find(part) != std::string::npos;
}

} // namespace

class TestResourceLimits : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { m_baseline = peakMiB(); }
    void safetensorsClaimingTerabytes();
    void npyClaimingTerabytes();
    void modelConfigVocabulary();
    void deepJsonEverywhere();
    void hugeCorpusLine();
    void filesPastTheirLimit();
    void explanationIndexIsCanonical();
    void cleanupTestCase();

private:
    QTemporaryDir m_dir;
    double m_baseline = 0;
    std::string path(const char *name) const { return m_dir.filePath(name).toStdString(); }
};

void TestResourceLimits::safetensorsClaimingTerabytes()
{
    // 10^12 float32 elements (4 TB) in a file of a few hundred bytes.
    const std::string header
        = R"({"w":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}})";
    const std::string file = path("huge.safetensors");
    fscope::test::writeFile(file, lengthPrefix(header.size()) + header + std::string(16, '\0'));
    const double before = peakMiB();
    auto opened = io::Checkpoint::open(file);
    QVERIFY(!opened);
    QVERIFY2(mentions(opened.errorMessage(), file), opened.errorMessage().c_str());
    QVERIFY2(mentions(opened.errorMessage(), "ends at byte 4000000000088 but the file has"),
        opened.errorMessage().c_str());
    QVERIFY2(peakMiB() - before < 64, "the claimed size was allocated");

    // The same claim with data_offsets agreeing is refused as past the end of the file.
    const std::string overflow
        = R"({"w":{"dtype":"F64","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}})";
    fscope::test::writeFile(file, lengthPrefix(overflow.size()) + overflow + std::string(8, '\0'));
    opened = io::Checkpoint::open(file);
    QVERIFY(!opened);
    QVERIFY2(mentions(opened.errorMessage(), "overflows"), opened.errorMessage().c_str());
}

void TestResourceLimits::npyClaimingTerabytes()
{
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }";
    header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::string bytes("\x93NUMPY\x01\x00", 8);
    bytes += static_cast<char>(header.size() & 0xff);
    bytes += static_cast<char>(header.size() >> 8);
    bytes += header + std::string(64, '\0');
    const double before = peakMiB();
    auto parsed = io::parseNpyHeader(
        reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), "huge.npy");
    QVERIFY(!parsed);
    QVERIFY2(mentions(parsed.errorMessage(), "needs 4000000000000 data bytes, 64 present"),
        parsed.errorMessage().c_str());
    QVERIFY2(peakMiB() - before < 64, "the claimed size was allocated");
}

void TestResourceLimits::modelConfigVocabulary()
{
    const std::string config = R"({"model_type": "llama", "vocab_size": 1000000000,
        "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 4, "intermediate_size": 128})";
    auto parsed = model::parseModelConfig(config, "config.json");
    QVERIFY(!parsed);
    QVERIFY2(mentions(parsed.errorMessage(), "vocab_size 1000000000 is past the limit of 16777216"),
        parsed.errorMessage().c_str());
    // Inside the limit the same config reads (the check is the limit, not the key).
    std::string fine = config;
    fine.replace(fine.find("1000000000"), 10, "262144");
    QVERIFY2(model::parseModelConfig(fine, "config.json").ok(), "a 262k vocabulary was refused");
    std::string wide = fine;
    wide.replace(wide.find("\"hidden_size\": 64"), 17, "\"hidden_size\": 1048576");
    parsed = model::parseModelConfig(wide, "config.json");
    QVERIFY(!parsed);
    QVERIFY2(mentions(parsed.errorMessage(), "hidden size 1048576 is past the limit"),
        parsed.errorMessage().c_str());
}

void TestResourceLimits::deepJsonEverywhere()
{
    const std::string deep = nested(100000);
    const std::string limit = "nested deeper than 128 levels";
    // Just inside the limit is still JSON (and then refused for what it is, not its depth).
    auto inside = parseJson(nested(kMaxJsonDepth), "x.json");
    QVERIFY2(inside.ok(), inside.ok() ? "" : inside.errorMessage().c_str());
    auto outside = parseJson(nested(kMaxJsonDepth + 1), "x.json");
    QVERIFY(!outside);
    QVERIFY2(mentions(outside.errorMessage(), limit), outside.errorMessage().c_str());
    // Brackets inside strings (escaped quotes too) do not count.
    QVERIFY(parseJson("{\"a\": \"" + std::string(1000, '[') + "\\\"[[[\"}", "x.json").ok());

    auto check = [&](const char *what, const std::string &message) {
        QVERIFY2(mentions(message, limit), (std::string(what) + ": " + message).c_str());
    };
    check("model config", model::parseModelConfig(deep, "config.json").errorMessage());
    check("shard index", io::parseShardIndex(deep, "index.json").errorMessage());
    check("prompt pairs", steer::parseContrastPairs(deep + "\n", "pairs.jsonl").errorMessage());
    check("explanations", interp::parseExplanationRecords(deep, "e.json").errorMessage());
    check("explanation lines",
        interp::parseExplanationRecords(
            "{\"index\": 1, \"description\": \"d\"}\n" + deep, "e.jsonl")
            .errorMessage());
    std::vector<corpus::Document> docs;
    check("corpus line",
        corpus::scanCorpusText("c.jsonl", 0, "{\"text\": \"a\"}\n" + deep, {}, docs)
            .errorMessage());

    // Files: an SAE's cfg.json and a tokenizer.json.
    const std::string sae = path("deep-sae");
    fs::create_directories(sae);
    fscope::test::writeFile(sae + "/cfg.json", "{\"d_in\": " + deep + "}");
    fscope::test::writeFile(sae + "/sae_weights.safetensors", "");
    auto loaded = sae::loadSae(sae);
    QVERIFY(!loaded);
    check("SAE cfg.json", loaded.errorMessage());
    QVERIFY2(mentions(loaded.errorMessage(), sae + "/cfg.json"), loaded.errorMessage().c_str());
    const std::string tok = path("deep-tokenizer");
    fs::create_directories(tok);
    fscope::test::writeFile(tok + "/tokenizer.json", "{\"model\": " + deep + "}");
    auto tokenizer = tokenize::loadTokenizer(tok);
    QVERIFY(!tokenizer);
    check("tokenizer.json", tokenizer.errorMessage());
}

void TestResourceLimits::hugeCorpusLine()
{
    // One line a byte past the limit, between two ordinary lines.
    const std::string file = path("huge-line.txt");
    {
        std::ofstream out(file, std::ios::binary);
        out << "a first line\n" << std::string(corpus::kMaxDocumentBytes + 1, 'x') << "\nlast\n";
    }
    auto tok = tokenize::loadTokenizer(fscope::test::fixture(QStringLiteral("tokenizers/gpt2")));
    QVERIFY(tok);
    corpus::CorpusSpec spec;
    spec.paths = { file };
    spec.contextLength = 8;
    spec.tokenBudget = 64;
    auto built = corpus::buildCorpus(spec, **tok, "tok");
    QVERIFY(!built);
    QVERIFY2(mentions(built.errorMessage(), file + ":2"), built.errorMessage().c_str());
    QVERIFY2(mentions(built.errorMessage(), "past the 64 MiB a document may be"),
        built.errorMessage().c_str());
    // A line at the limit is a document.
    std::vector<corpus::Document> docs;
    const std::string atLimit(corpus::kMaxDocumentBytes, 'y');
    QVERIFY(corpus::scanCorpusText("c.txt", 0, atLimit, spec, docs).ok());
    QCOMPARE(docs.size(), size_t(1));
    // A whole file as one document is held to the same limit.
    spec.split = corpus::Split::Files;
    built = corpus::buildCorpus(spec, **tok, "tok");
    QVERIFY(!built);
    QVERIFY2(mentions(built.errorMessage(), "the file is 64.0 MiB"), built.errorMessage().c_str());
    fs::remove(file);
}

void TestResourceLimits::filesPastTheirLimit()
{
    // Sparse files: their size is what stat reports, and the readers refuse them from it.
    const std::string json = path("big.json");
    sparseFile(json, "{\"a\": 1}\n", kMaxJsonFileBytes + 1);
    auto read = readJsonFile(json);
    QVERIFY(!read);
    QVERIFY2(mentions(read.errorMessage(), "more than the 1 GiB this reads"),
        read.errorMessage().c_str());
    QVERIFY2(mentions(read.errorMessage(), json), read.errorMessage().c_str());

    const std::string pairs = path("big-pairs.jsonl");
    sparseFile(pairs,
        R"({"prompt": "a", "positive": "b", "negative": "c"})"
        "\n",
        steer::kMaxContrastPairsBytes + 1);
    auto loaded = steer::readContrastPairs(pairs);
    QVERIFY(!loaded);
    QVERIFY2(mentions(loaded.errorMessage(), "more than the 256 MiB this reads"),
        loaded.errorMessage().c_str());

    const std::string model = path("big-model");
    fs::create_directories(model);
    sparseFile(model + "/config.json", "{}", kMaxJsonFileBytes + 1);
    auto config = model::readModelConfig(model);
    QVERIFY(!config);
    QVERIFY2(mentions(config.errorMessage(), "more than the 1 GiB"), config.errorMessage().c_str());
    fs::remove(json);
    fs::remove(pairs);
    fs::remove(model + "/config.json");
}

void TestResourceLimits::explanationIndexIsCanonical()
{
    for (const char *index :
        { "\" 5\"", "\"+5\"", "\"5x\"", "\"-1\"", "\"99999999999999999999\"" }) {
        const std::string line = std::string("{\"index\": ") + index + ", \"description\": \"d\"}";
        auto records = interp::parseExplanationRecords(line, "e.jsonl");
        QVERIFY2(!records, index);
        QVERIFY2(mentions(records.errorMessage(), "is not a feature id"),
            records.errorMessage().c_str());
    }
    auto records = interp::parseExplanationRecords(
        "{\"index\": \"007\", \"description\": \"d\"}\n{\"index\": 12, \"description\": \"e\"}",
        "e.jsonl");
    QVERIFY(records);
    QCOMPARE(records->size(), size_t(2));
    QCOMPARE((*records)[0].feature, int64_t(7));
    QCOMPARE((*records)[1].feature, int64_t(12));
    QCOMPARE((*records)[1].where, std::string("line 2"));
}

void TestResourceLimits::cleanupTestCase()
{
    // Over the whole run (a 64 MiB line was scanned twice, as mapped file and as a string) the
    // peak stayed far below what building any claimed size would take.
    qInfo("peak memory grew by %.0f MiB over the run", peakMiB() - m_baseline);
    QVERIFY(peakMiB() - m_baseline < 512);
}

QTEST_APPLESS_MAIN(TestResourceLimits)
#include "tst_resource_limits.moc"
