// Inputs the fuzzers found (scripts/fuzz, docs/fuzzing.md), cut down to their defect: each is
// refused with an error that names the file and the problem, where the parser before the fix
// converted out of range (undefined behaviour), indexed a negative id, sized an array from a
// hostile id, or let an exception escape.

#include "core/model/model_config.h"
#include "core/sae/sae_io.h"
#include "core/tokenize/tokenizer.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace fscope::core;

namespace {

const char *kLlama = R"({"model_type": "llama", "hidden_size": 128, "intermediate_size": 384,
 "num_hidden_layers": 4, "num_key_value_heads": 4, "vocab_size": 4096, "rms_norm_eps": 1e-05,
 "max_position_embeddings": 256, "num_attention_heads": %1})";

QString tokenizerJson(const QString &vocab, const QString &added = QStringLiteral("[]"))
{
    return QStringLiteral(R"({"version": "1.0", "added_tokens": %2, "normalizer": null,
 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
 "model": {"type": "BPE", "vocab": %1, "merges": []}})")
        .arg(vocab, added);
}

} // namespace

class TestFuzzRegressions : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void modelConfigs_data();
    void modelConfigs();
    void tokenizers_data();
    void tokenizers();
    void saeConfigs_data();
    void saeConfigs();
};

void TestFuzzRegressions::modelConfigs_data()
{
    QTest::addColumn<QString>("heads");
    QTest::addColumn<QString>("expected");
    // fuzz_model_config: a 36-digit integer parses as 3.3e35, and get<int64_t>() converted it
    // with undefined behaviour.
    QTest::newRow("integer beyond int64") << "333333333333333333333333333333333334"
                                          << "is not an integer in range";
    QTest::newRow("unsigned beyond int64") << "18446744073709551615"
                                           << "is too large";
    QTest::newRow("fraction") << "4.5"
                              << "is not an integer in range";
    QTest::newRow("string") << "\"4\""
                            << "expected an integer, found string";
    QTest::newRow("integral float is fine") << "4.0"
                                            << "";
    // fuzz_model_config: GPT-2's head size was hidden / n_head before n_head was checked.
    QTest::newRow("gpt2 zero heads") << "gpt2:0"
                                     << "inconsistent sizes";
    QTest::newRow("gpt2 huge width") << "gpt2-wide:4"
                                     << "inconsistent sizes";
}

void TestFuzzRegressions::modelConfigs()
{
    QFETCH(QString, heads);
    QFETCH(QString, expected);
    QString text = QString::fromUtf8(kLlama).arg(heads);
    if (heads.startsWith(QLatin1String("gpt2:"))) // n_head given, n_embd the default
        text = QStringLiteral(R"({"model_type": "gpt2", "n_head": %1})").arg(heads.mid(5));
    else if (heads.startsWith(QLatin1String("gpt2-wide:"))) // 4 * n_embd overflows int64
        text = QStringLiteral(
            R"({"model_type": "gpt2", "n_head": %1, "n_embd": 4611686018427387904})")
                   .arg(heads.mid(10));
    const auto config = model::parseModelConfig(text.toStdString(), "config.json");
    if (expected.isEmpty()) {
        QVERIFY2(config.ok(), config.ok() ? "" : config.errorMessage().c_str());
        QCOMPARE(config->heads, int64_t(4));
        return;
    }
    QVERIFY(!config.ok());
    const QString message = QString::fromStdString(config.errorMessage());
    QVERIFY2(message.contains(QStringLiteral("config.json")) && message.contains(expected),
        qPrintable(message));
}

void TestFuzzRegressions::tokenizers_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("content");
    QTest::addColumn<QString>("expected");
    // fuzz_tokenizer: a negative id indexed the id -> text table before its start.
    QTest::newRow("negative id") << "tokenizer.json"
                                 << tokenizerJson(QStringLiteral(R"({"a": 0, "b": -64})"))
                                 << "token 'b' has id -64, outside 0..16777215";
    QTest::newRow("huge id sizes nothing")
        << "tokenizer.json" << tokenizerJson(QStringLiteral(R"({"a": 1000000000000})"))
        << "has id 1000000000000, outside";
    QTest::newRow("added token id")
        << "tokenizer.json"
        << tokenizerJson(QStringLiteral(R"({"a": 0})"),
               QStringLiteral(R"([{"id": -1, "content": "<s>", "special": true}])"))
        << "token '<s>' has id -1";
    QTest::newRow("float id") << "tokenizer.json"
                              << tokenizerJson(QStringLiteral(R"({"a": 1e300})"))
                              << "is not an integer in range";
    QTest::newRow("vocab.json id out of range")
        << "vocab.json" << QStringLiteral(R"({"a": 0, "b": 99999999999})") << "has id 99999999999";
    // Before the fix a string id threw out of loadTokenizer (vocab.json had no handler).
    QTest::newRow("vocab.json string id")
        << "vocab.json" << QStringLiteral(R"({"a": "zero"})") << "unexpected structure";
    QTest::newRow("vocab.json not an object")
        << "vocab.json" << QStringLiteral("[1, 2]") << "is not a JSON object";
}

void TestFuzzRegressions::tokenizers()
{
    QFETCH(QString, file);
    QFETCH(QString, content);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    const auto write = [&](const QString &name, const QByteArray &bytes) {
        QFile f(dir.filePath(name));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
    };
    write(file, content.toUtf8());
    if (file == QLatin1String("vocab.json"))
        write(QStringLiteral("merges.txt"), "#version: 0.2\n");
    auto tokenizer = tokenize::loadTokenizer(dir.path().toStdString());
    QVERIFY(!tokenizer.ok());
    const QString message = QString::fromStdString(tokenizer.errorMessage());
    QVERIFY2(message.contains(file) && message.contains(expected), qPrintable(message));
}

void TestFuzzRegressions::saeConfigs_data()
{
    QTest::addColumn<QString>("weights"); // the file that makes the folder SAELens or sparsify
    QTest::addColumn<QString>("cfg");
    QTest::addColumn<QString>("expected");
    // The same integer conversions in SAE configs, and configs of the wrong shape, which threw
    // out of the sparsify loader before.
    QTest::newRow("saelens d_sae beyond int64") << "sae_weights.safetensors"
                                                << R"({"d_in": 64, "d_sae": 1e300})"
                                                << "is not an integer in range";
    QTest::newRow("saelens negative d_in") << "sae_weights.safetensors"
                                           << R"({"d_in": -64, "d_sae": 128})"
                                           << "d_in -64 and d_sae 128 must be positive";
    QTest::newRow("saelens cfg is an array") << "sae_weights.safetensors"
                                             << "[1, 2]"
                                             << "cfg.json: not a JSON object";
    QTest::newRow("sparsify cfg is an array") << "sae.safetensors"
                                              << "[1, 2]"
                                              << "cfg.json: not a JSON object";
    QTest::newRow("sparsify activation is a number") << "sae.safetensors"
                                                     << R"({"activation": 7})"
                                                     << "cfg.json: missing or mistyped key";
}

void TestFuzzRegressions::saeConfigs()
{
    QFETCH(QString, weights);
    QFETCH(QString, cfg);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    for (const auto &[name, bytes] : { std::pair { QStringLiteral("cfg.json"), cfg.toUtf8() },
             std::pair { weights, QByteArray("not read before the config") } }) {
        QFile f(dir.filePath(name));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(bytes);
    }
    auto sae = sae::loadSae(dir.path().toStdString());
    QVERIFY(!sae.ok());
    const QString message = QString::fromStdString(sae.errorMessage());
    QVERIFY2(message.contains(dir.path()) && message.contains(expected), qPrintable(message));
}

QTEST_GUILESS_MAIN(TestFuzzRegressions)
#include "tst_fuzz_regressions.moc"
