// Automatic interpretation on a workspace indexed from the planted model and SAE (feature k
// fires exactly on the k-th planted word), against a loopback chat-completions server with
// scripted judges (tests/core/interp/chat_server.py, 127.0.0.1 only): an oracle judge that
// knows the planted word scores 1, an always-yes judge 0.5, an inverted one 0; the explainer
// prompt holds exactly the stored examples with the firing tokens marked; faults are retried
// and stay per feature; the key never reaches the workspace; a repeated request sends
// nothing. The in-process backend: chat formats against the templates' own renderings, and a
// run end to end.

#include "core/interp/backends.h"
#include "core/interp/chat_format.h"
#include "core/interp/explain_job.h"
#include "core/interp/explanation_import.h"
#include "core/model/synthetic_model.h"
#include "core/net/http.h"
#include "core/store/database.h"
#include "core/store/index_store.h"
#include "core/store/interp_store.h"
#include "tests/support/planted.h"
#include "tests/support/testsupport.h"

#include <nlohmann/json.hpp>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <future>
#include <regex>

using namespace fscope;
using nlohmann::json;

namespace {

const std::vector<std::string> kWords = { " cat", " dog", " moon", " river" };
const char *kKey = "sk-test-8f3a1c-never-stored";

} // namespace

class TestInterp : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    test::PlantedSetup m_setup;
    std::unique_ptr<core::store::Database> m_db;
    int64_t m_index = 0;
    core::store::IndexInfo m_info;
    QProcess m_server;
    std::string m_endpoint;

    std::string path(const char *name) const { return m_tmp.path().toStdString() + "/" + name; }
    json serverLog();
    void setFaults(const json &rules);
    core::interp::OpenAiSettings settings(const std::string &model) const;
    core::Result<core::interp::ExplainResult> explain(const std::string &model,
        const std::vector<int64_t> &features, const std::vector<std::string> &scorers,
        core::interp::OpenAiSettings *custom = nullptr);

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void markingAndParsing();
    void explainerPromptHoldsTheStoredExamples();
    void scriptedJudges_data();
    void scriptedJudges();
    void repeatedRequestSendsNothing();
    void simulationUsesLogprobs();
    void interventionComparesSteeredContinuations();
    void faultsStayPerFeature();
    void keyNeverStored();
    void cliExplainAndFeature();
    void importNeuronpedia();
    void chatFormats_data();
    void chatFormats();
    void localBackendEndToEnd();
};

void TestInterp::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    std::string error;
    m_setup = test::writePlantedSetup(m_tmp.path().toStdString(), kWords, &error);
    QVERIFY2(!m_setup.modelDir.empty(), error.c_str());
    test::writePlantedCorpus(path("corpus.txt"), kWords, 400, 1);
    auto db = core::store::Database::open(path("w.fsdb"));
    QVERIFY2(db, db ? "" : db.errorMessage().c_str());
    m_db = std::move(db).value();
    m_index = test::indexPlanted(*m_db, m_setup, path("corpus.txt"), &error);
    QVERIFY2(m_index > 0, error.c_str());
    m_info = *core::store::indexInfo(*m_db, m_index);

    qputenv("FS_TEST_KEY", kKey);
    m_server.setProcessChannelMode(QProcess::SeparateChannels);
    m_server.start("/usr/bin/python3",
        { QString::fromStdString(
              std::string(FEATURESCOPE_SOURCE_DIR) + "/tests/core/interp/chat_server.py"),
            QString::fromLatin1(kKey) });
    QVERIFY(m_server.waitForStarted(10000));
    QVERIFY2(m_server.waitForReadyRead(20000), qPrintable(m_server.readAllStandardError()));
    const int port = m_server.readLine().trimmed().toInt();
    QVERIFY(port > 0);
    m_endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1";
}

void TestInterp::cleanupTestCase()
{
    m_server.kill();
    m_server.waitForFinished(5000);
}

json TestInterp::serverLog()
{
    core::net::HttpRequest r;
    r.url = m_endpoint.substr(0, m_endpoint.size() - 3) + "/_log";
    auto response = core::net::httpRequest(r);
    if (!response || response->status != 200)
        return json::object();
    return json::parse(response->body);
}

void TestInterp::setFaults(const json &rules)
{
    core::net::HttpRequest r;
    r.method = "POST";
    r.url = m_endpoint.substr(0, m_endpoint.size() - 3) + "/_faults";
    r.body = json { { "rules", rules } }.dump();
    r.headers = { "Content-Type: application/json" };
    auto response = core::net::httpRequest(r);
    QVERIFY(response && response->status == 200);
}

core::interp::OpenAiSettings TestInterp::settings(const std::string &model) const
{
    core::interp::OpenAiSettings s;
    s.endpoint = m_endpoint;
    s.model = model;
    s.apiKeyEnv = "FS_TEST_KEY";
    s.concurrency = 4;
    s.retries = 2;
    s.backoffSeconds = 0.05;
    s.timeoutSeconds = 20;
    return s;
}

core::Result<core::interp::ExplainResult> TestInterp::explain(const std::string &model,
    const std::vector<int64_t> &features, const std::vector<std::string> &scorers,
    core::interp::OpenAiSettings *custom)
{
    auto backend = core::interp::makeOpenAiBackend(custom ? *custom : settings(model));
    if (!backend)
        return backend.error();
    core::interp::ExplainRequest r;
    r.indexId = m_index;
    r.features = features;
    r.scorers = scorers;
    r.backend = backend->get();
    r.device = "cpu";
    return core::interp::runExplainJob(*m_db, r);
}

void TestInterp::markingAndParsing()
{
    using namespace core::interp;
    TextExample e;
    e.tokens = { "The", " big", " cat", " sat", "\n", " down" };
    e.activations = { 0, 0.2f, 2.0f, 1.0f, 0, 0.5f };
    const auto marks = firingTokens(e, 0.3); // > 0.6
    QCOMPARE(markedText(e, marks), std::string("The big<< cat sat>>  down"));
    QCOMPARE(plainText(e), std::string("The big cat sat  down"));
    QCOMPARE(activationLevel(1.0f, 2.0f), 5);
    QCOMPARE(activationLevel(0.01f, 2.0f), 1); // ceil
    QCOMPARE(activationLevel(3.0f, 2.0f), 10);

    QCOMPARE(parseBinaryList("[1, 0, 1]", 3).value(), (std::vector<int> { 1, 0, 1 }));
    QCOMPARE(parseBinaryList("thinking [2] ... answer: [0,0,1,1]", 4).value(),
        (std::vector<int> { 0, 0, 1, 1 }));
    QVERIFY(!parseBinaryList("[1, 0]", 3));
    QVERIFY(!parseBinaryList("[1, 10, 0]", 3));
    QVERIFY(!parseBinaryList("yes", 1));

    QCOMPARE(parseExplanation("Reasoning...\n[EXPLANATION]: the word cat\n").value(),
        std::string("the word cat"));
    QCOMPARE(parseExplanation("  nouns for animals ").value(), std::string("nouns for animals"));
    QVERIFY(!parseExplanation("line one\nline two"));
    QVERIFY(!parseExplanation("[EXPLANATION]:   "));

    std::vector<ScoredItem> items(4);
    items[0] = { true, 0, "", 1 };
    items[1] = { true, 0, "", 0 };
    items[2] = { false, -1, "", 0 };
    items[3] = { false, -1, "", -1 }; // unanswered: left out
    QCOMPARE(balancedAccuracy(items).value(), 0.75); // (1/2 + 1/1) / 2
    items[2].prediction = -1;
    QVERIFY(!balancedAccuracy(items)); // no answered negative

    QCOMPARE(parseRetryAfter("3", 0), 3.0);
    QCOMPARE(parseRetryAfter("Thu, 01 Jan 1970 00:01:40 GMT", 40), 60.0);
    QCOMPARE(parseRetryAfter("soon", 0), -1.0);
    QCOMPARE(pearson({ 1, 2, 3 }, { 2, 4, 6 }).value(), 1.0);
    QVERIFY(!pearson({ 1, 1, 1 }, { 2, 4, 6 }));
}

void TestInterp::explainerPromptHoldsTheStoredExamples()
{
    using namespace core::interp;
    auto tokenizer = core::tokenize::loadTokenizer(m_setup.modelDir);
    QVERIFY(tokenizer);
    auto d = core::store::loadFeatureDashboard(*m_db, m_index, 0);
    QVERIFY(d);
    QVERIFY(!d->top.empty());
    auto examples = textExamples(d->top, **tokenizer);
    auto templates = loadTemplates("");
    QVERIFY(templates);
    ExplainerSettings settings;
    const auto messages = explainerPrompt(examples, d->max, {}, *templates, settings);
    QCOMPARE(messages.front().role, std::string("system"));
    const std::string user = messages.back().content;
    // One line per stored example, in order: its own tokens, the firing ones marked and only
    // those (the planted word), one pair of marks per run of firing tokens.
    std::vector<std::string> lines;
    std::istringstream in(user);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    QCOMPARE(lines.size(), examples.size());
    const std::regex mark("<<(.*?)>>");
    for (size_t i = 0; i < examples.size(); ++i) {
        const std::string prefix = "Example " + std::to_string(i + 1) + ": ";
        QVERIFY(lines[i].rfind(prefix, 0) == 0);
        std::string body = lines[i].substr(prefix.size());
        int runs = 0;
        for (size_t t = 0; t < examples[i].activations.size(); ++t)
            if (examples[i].activations[t] > 0 && (t == 0 || examples[i].activations[t - 1] <= 0))
                ++runs;
        int marks = 0;
        for (auto it = std::sregex_iterator(body.begin(), body.end(), mark);
             it != std::sregex_iterator(); ++it, ++marks) {
            std::string inside = (*it)[1];
            while (inside.find(" cat") == 0)
                inside = inside.substr(4);
            QVERIFY2(inside.empty(), (*it)[1].str().c_str());
        }
        QCOMPARE(marks, runs);
        std::string unmarked = std::regex_replace(body, std::regex("<<|>>"), "");
        std::vector<int64_t> ids(d->top[i].ids.begin(), d->top[i].ids.end());
        std::string text;
        for (int64_t id : ids)
            text += core::tokenize::sanitizeUtf8((*tokenizer)->tokenBytes(id));
        for (char &c : text)
            if (c == '\n' || c == '\r' || c == '\t')
                c = ' ';
        QCOMPARE(unmarked, text);
    }
    // The promoted tokens and the activation levels appear only when asked for.
    settings.showActivations = true;
    const auto withLevels = explainerPrompt(examples, d->max, { " purr" }, *templates, settings);
    QVERIFY(withLevels.back().content.find("Example 1 activations: ' cat' ") != std::string::npos);
    QVERIFY(withLevels.back().content.find("promotes next: ' purr'") != std::string::npos);
}

void TestInterp::scriptedJudges_data()
{
    QTest::addColumn<QString>("model");
    QTest::addColumn<double>("expected");
    QTest::newRow("oracle") << "oracle" << 1.0;
    QTest::newRow("always yes") << "always-yes" << 0.5;
    QTest::newRow("inverted") << "inverted" << 0.0;
}

void TestInterp::scriptedJudges()
{
    QFETCH(QString, model);
    QFETCH(double, expected);
    auto r = explain(model.toStdString(), { 0, 1, 2, 3 }, { "detection", "fuzzing" });
    QVERIFY2(r, r ? "" : r.errorMessage().c_str());
    QCOMPARE(r->features.size(), size_t(4));
    for (const auto &f : r->features) {
        QVERIFY2(f.error.empty(), f.error.c_str());
        const std::string word = kWords[size_t(f.feature)].substr(1);
        QCOMPARE(f.explanation, "the word \"" + word + "\"");
        QVERIFY(f.scores.at("detection").has_value());
        QCOMPARE(*f.scores.at("detection"), expected);
        QCOMPARE(*f.scores.at("fuzzing"), expected);
        QVERIFY(!f.explanationCached);
        // Stored with its prompt, answer and each scored text with the judge's answer.
        auto stored = core::store::latestExplanation(*m_db, m_info.saeId, f.feature);
        QVERIFY(stored && *stored);
        QCOMPARE((*stored)->explanation.explanation, f.explanation);
        QVERIFY((*stored)->explanation.origin.find(model.toStdString()) != std::string::npos);
        QVERIFY((*stored)->explanation.promptJson.find("<< " + word + ">>") != std::string::npos);
        QCOMPARE((*stored)->scores.size(), size_t(2));
        const json details = json::parse((*stored)->scores[0].detailsJson);
        int activating = 0, negative = 0;
        for (const auto &item : details["items"]) {
            (item["activating"].get<bool>() ? activating : negative)++;
            QVERIFY(item["prediction"].get<int>() >= 0);
            // Non-activating texts were checked with the model: the word is never in them.
            if (!item["activating"].get<bool>())
                QVERIFY(item["text"].get<std::string>().find(" " + word) == std::string::npos);
        }
        QVERIFY(activating >= 10);
        QVERIFY(negative >= 20 && negative <= 50);
        QCOMPARE(details["exchanges"].size(), size_t((activating + negative + 4) / 5));
    }
    QCOMPARE(r->failed(), int64_t(0));
    // A dead feature is reported, not explained.
    auto dead = explain(model.toStdString(), { m_setup.features - 1 }, { "detection" });
    QVERIFY(dead);
    QVERIFY(dead->features[0].error.find("never fired") != std::string::npos);
}

void TestInterp::repeatedRequestSendsNothing()
{
    const size_t before = serverLog()["requests"].size();
    QVERIFY(before > 0);
    auto r = explain("oracle", { 0, 1, 2, 3 }, { "detection", "fuzzing" });
    QVERIFY(r);
    QCOMPARE(serverLog()["requests"].size(), before);
    for (const auto &f : r->features) {
        QVERIFY(f.explanationCached);
        QCOMPARE(f.scoresCached, int64_t(2));
        QCOMPARE(*f.scores.at("fuzzing"), 1.0);
    }
    QCOMPARE(r->requests, int64_t(0));
    // A new scorer for the same explanation asks only for that score.
    auto more = explain("oracle", { 0 }, { "detection", "fuzzing", "simulation" });
    QVERIFY(more);
    QVERIFY(more->features[0].explanationCached);
    const json log = serverLog()["requests"];
    for (size_t i = before; i < log.size(); ++i) {
        QVERIFY(!log[i]["explainer"].get<bool>());
        QVERIFY(log[i]["logprobs"].get<bool>());
    }
}

void TestInterp::simulationUsesLogprobs()
{
    // A judge name of its own: the newest explanation of the feature is this run's.
    auto r = explain("oracle-simulation", { 1 }, { "simulation" });
    QVERIFY(r);
    const auto &f = r->features[0];
    QVERIFY2(f.error.empty(), f.error.c_str());
    QVERIFY(f.scores.at("simulation").has_value());
    // The judge's levels (10 on the word) against 1 + 0.01 * position on it, 0 elsewhere.
    QVERIFY2(*f.scores.at("simulation") > 0.95, std::to_string(*f.scores.at("simulation")).c_str());
    auto stored = core::store::latestExplanation(*m_db, m_info.saeId, 1);
    QVERIFY(stored && *stored);
    QVERIFY((*stored)->score("simulation").has_value());
    for (const auto &s : (*stored)->scores)
        if (s.scorer == "simulation") {
            const json d = json::parse(s.detailsJson);
            QCOMPARE(d["extra"]["expected_values_from_logprobs"].get<int64_t>(),
                d["prompts"].get<int64_t>());
            QCOMPARE(d["prompts"].get<int64_t>(), int64_t(10));
        }
}

void TestInterp::interventionComparesSteeredContinuations()
{
    auto r = explain("oracle-intervention", { 2 }, { "intervention" });
    QVERIFY(r);
    const auto &f = r->features[0];
    QVERIFY2(f.error.empty(), f.error.c_str());
    for (const auto &[scorer, e] : f.scoreErrors)
        QVERIFY2(false, (scorer + ": " + e).c_str());
    auto stored = core::store::latestExplanation(*m_db, m_info.saeId, 2);
    QVERIFY(stored && *stored);
    bool found = false;
    for (const auto &s : (*stored)->scores)
        if (s.scorer == "intervention") {
            found = true;
            const json d = json::parse(s.detailsJson);
            // At least one steered continuation differs from the plain one and was judged.
            QVERIFY(d["prompts"].get<int64_t>() >= 1);
            QVERIFY(d["extra"]["unchanged"].get<int64_t>() < 3);
            int steeredA = 0;
            for (const auto &e : d["exchanges"]) {
                QVERIFY(e["messages"].back()["content"].get<std::string>().find("Continuation B:")
                    != std::string::npos);
                steeredA += e["steered"] == "A" ? 1 : 0;
            }
            // The oracle answers A: its score is the share of prompts steered as A.
            QVERIFY(s.score.has_value());
            QCOMPARE(*s.score, double(steeredA) / double(d["exchanges"].size()));
        }
    QVERIFY(found);
}

void TestInterp::faultsStayPerFeature()
{
    const size_t before = serverLog()["requests"].size();
    setFaults(json::array({
        { { "contains", "<< dog>>" }, { "status", 500 }, { "times", 100 } },
        { { "contains", "<< moon>>" }, { "status", 429 }, { "retry_after", "1" }, { "times", 1 } },
        { { "contains", "<< river>>" }, { "status", "malformed" }, { "times", 1 } },
    }));
    auto r = explain("oracle-faults", { 0, 1, 2, 3 }, { "detection", "fuzzing" });
    setFaults(json::array());
    QVERIFY2(r, r ? "" : r.errorMessage().c_str());
    QVERIFY(r->features[0].error.empty());
    QVERIFY2(
        r->features[1].error.find("HTTP 500") != std::string::npos, r->features[1].error.c_str());
    QVERIFY(r->features[1].error.find("after 3 attempts") != std::string::npos);
    for (int f : { 2, 3 }) {
        QVERIFY2(r->features[size_t(f)].error.empty(), r->features[size_t(f)].error.c_str());
        QCOMPARE(*r->features[size_t(f)].scores.at("detection"), 1.0);
    }
    // The 429 was retried after the server's Retry-After (1 s), not the 0.05 s backoff.
    const json log = serverLog()["requests"];
    std::vector<double> moon;
    for (size_t i = before; i < log.size(); ++i)
        if (log[i]["explainer"].get<bool>() && log[i]["marks"] == json::array({ "moon" }))
            moon.push_back(log[i]["at"].get<double>());
    QCOMPARE(moon.size(), size_t(2));
    QVERIFY2(moon[1] - moon[0] >= 0.95, std::to_string(moon[1] - moon[0]).c_str());
    // Nothing stored was lost: feature 1 keeps the oracle's explanation of the earlier run.
    auto kept = core::store::latestExplanation(*m_db, m_info.saeId, 1);
    QVERIFY(kept && *kept);
    QCOMPARE((*kept)->explanation.explanation, std::string("the word \"dog\""));
    QCOMPARE(m_db->queryText("PRAGMA integrity_check").value(), std::string("ok"));

    // A server slower than the timeout, then one that is not there: clear errors.
    setFaults(json::array({ { { "contains", "<< cat>>" }, { "status", "timeout" }, { "seconds", 3 },
        { "times", 100 } } }));
    auto slow = settings("oracle-timeout");
    slow.timeoutSeconds = 1;
    slow.retries = 1;
    auto timedOut = explain("", { 0 }, { "detection" }, &slow);
    setFaults(json::array());
    QVERIFY(timedOut);
    QVERIFY2(timedOut->features[0].error.find("timed out") != std::string::npos,
        timedOut->features[0].error.c_str());
    auto gone = settings("oracle-gone");
    gone.endpoint = "http://127.0.0.1:1/v1";
    auto refused = explain("", { 0, 3 }, { "detection" }, &gone);
    QVERIFY(refused);
    for (const auto &f : refused->features)
        QVERIFY2(f.error.find("127.0.0.1:1") != std::string::npos, f.error.c_str());
}

void TestInterp::keyNeverStored()
{
    const json log = serverLog()["requests"];
    QVERIFY(!log.empty());
    for (const auto &entry : log)
        QVERIFY(entry["auth_ok"].get<bool>());
    QVERIFY(m_db->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    for (const char *suffix : { "", "-wal", "-shm" }) {
        const std::string file = path("w.fsdb") + suffix;
        if (!std::filesystem::exists(file))
            continue;
        QVERIFY2(test::readFile(file).find(kKey) == std::string::npos, suffix);
    }
}

void TestInterp::cliExplainAndFeature()
{
    auto run = [&](const QStringList &args, QString *out, QString *err) {
        QProcess p;
        p.start(QStringLiteral(FEATURESCOPE_CLI), args);
        p.waitForFinished(180000);
        *out = QString::fromUtf8(p.readAllStandardOutput());
        *err = QString::fromUtf8(p.readAllStandardError());
        return p.exitCode();
    };
    const QString sae = QString::fromStdString(m_info.saeLabel);
    const QStringList args = { "explain", QString::fromStdString(path("w.fsdb")), "--sae", sae,
        "--ids", "0-1", "--backend", "openai", "--endpoint", QString::fromStdString(m_endpoint),
        "--llm", "cli-oracle", "--api-key-env", "FS_TEST_KEY", "--device", "cpu", "--json" };
    QString out, err;
    QCOMPARE(run(args, &out, &err), 0);
    QVERIFY(!out.contains(kKey) && !err.contains(kKey));
    json j = json::parse(out.toStdString());
    QCOMPARE(j["features"].size(), size_t(2));
    QCOMPARE(j["features"][0]["id"].get<int64_t>(), int64_t(0));
    QCOMPARE(j["features"][0]["explanation"].get<std::string>(), std::string("the word \"cat\""));
    QCOMPARE(j["features"][1]["scores"]["detection"].get<double>(), 1.0);
    QCOMPARE(j["features"][1]["scores"]["fuzzing"].get<double>(), 1.0);
    QVERIFY(!j["features"][0]["cached"].get<bool>());
    const size_t sent = serverLog()["requests"].size();
    QCOMPARE(run(args, &out, &err), 0);
    QCOMPARE(serverLog()["requests"].size(), sent);
    j = json::parse(out.toStdString());
    QVERIFY(j["features"][0]["cached"].get<bool>());

    QCOMPARE(run({ "feature", QString::fromStdString(path("w.fsdb")), "--sae", sae, "--id", "1",
                     "--json" },
                 &out, &err),
        0);
    j = json::parse(out.toStdString());
    QCOMPARE(j["explanation"].get<std::string>(), std::string("the word \"dog\""));
    QCOMPARE(j["scores"]["fuzzing"].get<double>(), 1.0);

    // Bad requests name their problem.
    QCOMPARE(run({ "explain", QString::fromStdString(path("w.fsdb")), "--sae", sae, "--ids", "0",
                     "--backend", "openai", "--endpoint", "ftp://x", "--llm", "m" },
                 &out, &err),
        1);
    QVERIFY2(err.contains("not an http:// or https:// URL"), qPrintable(err));
    QCOMPARE(run({ "explain", QString::fromStdString(path("w.fsdb")), "--sae", sae, "--ids", "0",
                     "--endpoint", QString::fromStdString(m_endpoint), "--llm", "m", "--score",
                     "vibes" },
                 &out, &err),
        1);
    QVERIFY2(err.contains("unknown scorer 'vibes'"), qPrintable(err));
}

void TestInterp::importNeuronpedia()
{
    auto identity = core::store::indexIdentity(*m_db, m_index);
    QVERIFY(identity);
    // JSON lines as Neuronpedia's exports name the fields; gzipped like its bulk files.
    const std::string lines
        = R"({"modelId": "planted", "layer": "0-res", "index": "3", "description": "river banks", "typeName": "oai_token-act-pair", "explanationModelName": "gpt-4o-mini"})"
          "\n"
          R"({"modelId": "planted", "layer": "0-res", "index": 2, "description": "the moon"})"
          "\n\n"
          R"({"modelId": "other", "layer": "0-res", "index": "1", "description": "elsewhere"})"
          "\n"
          R"({"modelId": "planted", "layer": "0-res", "index": "999999", "description": "too far"})"
          "\n";
    test::writeFile(path("np.jsonl"), lines);
    QVERIFY(QProcess::execute("gzip", { "-kf", QString::fromStdString(path("np.jsonl")) }) == 0);
    core::interp::ImportFilter filter { "planted", "" };
    auto r = core::interp::importExplanations(
        *m_db, m_info.saeId, identity->saeFingerprint, m_info.dSae, path("np.jsonl.gz"), filter);
    QVERIFY2(r, r ? "" : r.errorMessage().c_str());
    QCOMPARE(r->imported, int64_t(2));
    QCOMPARE(r->skipped, int64_t(2)); // another model, a feature outside the SAE
    auto again = core::interp::importExplanations(
        *m_db, m_info.saeId, identity->saeFingerprint, m_info.dSae, path("np.jsonl"), filter);
    QVERIFY(again);
    QCOMPARE(again->imported, int64_t(0));
    QCOMPARE(again->unchanged, int64_t(2));
    auto river = core::store::latestExplanation(*m_db, m_info.saeId, 3);
    QVERIFY(river && *river);
    QCOMPARE((*river)->explanation.explanation, std::string("river banks"));
    QCOMPARE((*river)->explanation.origin, std::string("neuronpedia:oai_token-act-pair"));
    QCOMPARE((*river)->explanation.llm, std::string("gpt-4o-mini"));
    // Searchable like labels.
    auto hits = core::store::searchExplanations(*m_db, m_info.saeId, "riv");
    QVERIFY(hits);
    QCOMPARE(*hits, std::vector<int64_t> { 3 });
    // A bad record names the file and its line; nothing of the file is stored.
    test::writeFile(path("bad.jsonl"),
        "{\"index\": \"1\", \"description\": \"ok\"}\n{\"index\": \"x\", \"description\": "
        "\"no\"}\n");
    auto bad = core::interp::importExplanations(
        *m_db, m_info.saeId, identity->saeFingerprint, m_info.dSae, path("bad.jsonl"));
    QVERIFY(!bad);
    QVERIFY2(bad.errorMessage().find("bad.jsonl: line 2") != std::string::npos,
        bad.errorMessage().c_str());
    auto one = core::store::latestExplanation(*m_db, m_info.saeId, 1);
    QVERIFY(one && *one);
    QVERIFY((*one)->explanation.explanation != "ok");
}

void TestInterp::chatFormats_data()
{
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("format");
    QTest::newRow("llama3") << "llama3"
                            << "llama3";
    QTest::newRow("gemma3") << "gemma3"
                            << "gemma";
    QTest::newRow("qwen2_5") << "qwen2_5"
                             << "chatml";
}

void TestInterp::chatFormats()
{
    QFETCH(QString, family);
    QFETCH(QString, format);
    // The expected text and ids are the tokenizer_config.json's own Jinja template rendered by
    // @huggingface/jinja and tokenized by @lenml/tokenizers (tests/generators/
    // make_chat_fixtures.js).
    const std::string dir = path("chat-") + family.toStdString();
    std::filesystem::create_directories(dir);
    QVERIFY(test::gunzip(
        test::fixture("tokenizers/" + family + "/tokenizer.json.gz"), dir + "/tokenizer.json"));
    std::filesystem::copy_file(test::fixture("tokenizers/" + family + "/tokenizer_config.json"),
        dir + "/tokenizer_config.json", std::filesystem::copy_options::overwrite_existing);
    auto tokenizer = core::tokenize::loadTokenizer(dir);
    QVERIFY2(tokenizer, tokenizer ? "" : tokenizer.errorMessage().c_str());
    auto detected = core::interp::detectChatFormat(**tokenizer, dir);
    QVERIFY(detected);
    QCOMPARE(QString::fromStdString(core::interp::chatFormatName(*detected)), format);
    const json expected
        = json::parse(test::readFile(test::fixture("tokenizers/chat_expected.json")));
    QVERIFY(expected.contains(family.toStdString()));
    for (const auto &c : expected[family.toStdString()]) {
        std::vector<core::interp::ChatMessage> messages;
        for (const auto &m : c["messages"])
            messages.push_back({ m["role"], m["content"] });
        std::string text = c["text"];
        for (const char *bos : { "<bos>", "<|begin_of_text|>" })
            if (text.rfind(bos, 0) == 0)
                text = text.substr(std::strlen(bos));
        QCOMPARE(core::interp::renderChat(*detected, messages), text);
        QCOMPARE(core::interp::chatTokenIds(*detected, **tokenizer, messages),
            c["ids"].get<std::vector<int64_t>>());
    }
    QVERIFY(!core::interp::chatStopTokens(*detected, **tokenizer).empty());
}

void TestInterp::localBackendEndToEnd()
{
    // A model without a chat format is refused, pointing to the server backend.
    core::interp::LocalSettings plain;
    plain.modelDir = m_setup.modelDir;
    plain.device = "cpu";
    auto refused = core::interp::makeLocalBackend(plain);
    QVERIFY(!refused);
    QVERIFY(refused.errorMessage().find("no known chat format") != std::string::npos);
    QVERIFY(refused.errorMessage().find("--backend openai") != std::string::npos);

    // A tiny random model that speaks Llama 3's tokenizer: the text means nothing, the
    // plumbing (chat format, batched generation, the job) is what is checked.
    const std::string dir = path("tiny-instruct");
    core::model::Gpt2Shape shape;
    shape.vocab = 128256;
    shape.hidden = 16;
    shape.layers = 1;
    shape.heads = 2;
    shape.positions = 4096;
    shape.bos = 128000;
    QVERIFY(core::model::writeRandomGpt2(dir, shape, 3));
    QVERIFY(test::gunzip(
        test::fixture("tokenizers/llama3/tokenizer.json.gz"), dir + "/tokenizer.json"));
    std::filesystem::copy_file(test::fixture("tokenizers/llama3/tokenizer_config.json"),
        dir + "/tokenizer_config.json", std::filesystem::copy_options::overwrite_existing);
    core::interp::LocalSettings ls;
    ls.modelDir = dir;
    ls.device = "cpu";
    ls.batch = 4;
    auto backend = core::interp::makeLocalBackend(ls);
    QVERIFY2(backend, backend ? "" : backend.errorMessage().c_str());
    auto tokenizer = core::tokenize::loadTokenizer(dir);
    QVERIFY(tokenizer);
    core::interp::ChatFormat format { core::interp::ChatFormat::Llama3, {} };

    std::vector<core::interp::ChatRequest> requests(4);
    for (size_t i = 0; i < requests.size(); ++i) {
        requests[i].messages = { { "system", "Label features." },
            { "user", "Example " + std::to_string(i) + ": a" + std::string(i * 3, 'b') } };
        requests[i].maxTokens = 3 + int64_t(i);
    }
    std::vector<std::string> serial;
    for (const auto &r : requests) {
        auto reply = (*backend)->complete(r, nullptr);
        QVERIFY2(reply, reply ? "" : reply.errorMessage().c_str());
        QCOMPARE(reply->promptTokens,
            int64_t(core::interp::chatTokenIds(format, **tokenizer, r.messages).size()));
        QVERIFY(reply->completionTokens >= 1 && reply->completionTokens <= r.maxTokens);
        serial.push_back(reply->text);
    }
    // Requests from several threads are generated as one batch; greedy answers do not change.
    std::vector<std::future<core::Result<core::interp::ChatReply>>> parallel;
    for (const auto &r : requests)
        parallel.push_back(std::async(
            std::launch::async, [&backend, &r] { return (*backend)->complete(r, nullptr); }));
    for (size_t i = 0; i < parallel.size(); ++i) {
        auto reply = parallel[i].get();
        QVERIFY(reply);
        QCOMPARE(reply->text, serial[i]);
    }

    // The whole job on it: each feature explained (its short answer taken as the
    // explanation) or failed with the reason; what was explained is stored as local.
    core::interp::ExplainRequest r;
    r.indexId = m_index;
    r.features = { 0, 1 };
    r.scorers = { "detection" };
    r.explainer.maxTokens = 4;
    r.backend = backend->get();
    r.device = "cpu";
    auto result = core::interp::runExplainJob(*m_db, r);
    QVERIFY2(result, result ? "" : result.errorMessage().c_str());
    for (const auto &f : result->features) {
        if (!f.error.empty()) {
            QVERIFY2(f.error.find("explainer") != std::string::npos, f.error.c_str());
            continue;
        }
        auto stored = core::store::latestExplanation(*m_db, m_info.saeId, f.feature);
        QVERIFY(stored && *stored);
        QVERIFY((*stored)->explanation.origin.rfind("local:", 0) == 0);
        QVERIFY((*stored)->explanation.completionTokens <= 4);
    }
    QVERIFY(result->completionTokens > 0 || result->failed() == 2);
}

QTEST_GUILESS_MAIN(TestInterp)
#include "tst_interp.moc"
