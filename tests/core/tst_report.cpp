// Feature reports on a workspace indexed from the planted model and SAE (feature k fires
// exactly on the k-th planted word with 1 + 0.01 * position): the report's content, our JSON
// against its published schema, Neuronpedia's upload format against its limits, HTML that is
// well-formed XML with the expected tokens, Markdown with its SVG images, and the CLI.

#include "core/report/report_html.h"
#include "core/report/report_json.h"
#include "core/report/report_markdown.h"
#include "core/report/report_writer.h"
#include "core/report/svg_chart.h"
#include "core/store/database.h"
#include "core/store/feature_lists.h"
#include "core/store/index_store.h"
#include "tests/support/planted.h"
#include "tests/support/testsupport.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

#include <cmath>
#include <filesystem>

using namespace fscope;
using nlohmann::json;

namespace {

const std::vector<std::string> kWords = { " cat", " dog", " moon", " river" };
const std::string kNotes = "Seen in <b>bold</b> & \"quotes\"; second line\nhere.";

QString schemaPath(const char *name)
{
    return QStringLiteral(FEATURESCOPE_SOURCE_DIR "/docs/schemas/") + QLatin1String(name);
}

// Validates `document` against `schema` with python3-jsonschema; the error text when invalid.
QString schemaErrors(const QString &document, const QString &schema)
{
    QProcess p;
    p.start(
        QStringLiteral("/usr/bin/python3"), // Debian's, with python3-jsonschema from scripts/setup
        { QStringLiteral("-c"),
            QStringLiteral(
                "import json,sys,jsonschema\n"
                "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))"),
            document, schema });
    if (!p.waitForFinished(60000))
        return QStringLiteral("python3 did not finish");
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return QString::fromUtf8(p.readAllStandardError()).right(600);
    return {};
}

// The XML parse error of `text`, or empty when well-formed; counts elements named `name`.
QString xmlErrors(const QByteArray &text, const QString &name = {}, int *count = nullptr)
{
    QXmlStreamReader reader(text);
    int n = 0;
    while (!reader.atEnd()) {
        reader.readNext();
        if (reader.isStartElement() && reader.name() == name)
            ++n;
    }
    if (count)
        *count = n;
    return reader.hasError()
        ? QStringLiteral("line %1: %2").arg(reader.lineNumber()).arg(reader.errorString())
        : QString();
}

json readJson(const QString &path)
{
    return json::parse(test::readFile(path.toStdString()));
}

} // namespace

class TestReport : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    test::PlantedSetup m_setup;
    std::unique_ptr<core::store::Database> m_db;
    int64_t m_index = 0;
    int64_t m_saeId = 0;
    int64_t m_dead = 0; // a feature past the planted words: never fires
    std::vector<core::report::FeatureReport> m_reports;

    QString path(const QString &name) const { return m_tmp.path() + "/" + name; }

private Q_SLOTS:
    void initTestCase();
    void reportHoldsTheDashboard();
    void jsonFollowsItsSchema();
    void neuronpediaUploadFormat();
    void htmlIsSelfContainedAndWellFormed();
    void markdownWritesItsImages();
    void errorsNameTheProblem();
    void cliWritesReports();
};

void TestReport::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    std::string error;
    m_setup = test::writePlantedSetup(m_tmp.path().toStdString(), kWords, &error);
    QVERIFY2(!m_setup.modelDir.empty(), error.c_str());
    test::writePlantedCorpus(path("corpus.txt").toStdString(), kWords, 400, 1);
    auto db = core::store::Database::open(path("w.fsdb").toStdString());
    QVERIFY2(db, db ? "" : db.errorMessage().c_str());
    m_db = std::move(db).value();
    m_index = test::indexPlanted(*m_db, m_setup, path("corpus.txt").toStdString(), &error);
    QVERIFY2(m_index > 0, error.c_str());
    auto info = core::store::indexInfo(*m_db, m_index);
    QVERIFY(info);
    m_saeId = info->saeId;
    m_dead = m_setup.features - 1;
    QVERIFY(m_dead >= static_cast<int64_t>(kWords.size()));
    QVERIFY(core::store::setLabel(*m_db, m_saeId, 1, "the word dog", kNotes));
    auto list = core::store::createFeatureList(*m_db, "Animals");
    QVERIFY(list);
    QVERIFY(core::store::addToFeatureList(*m_db, *list, m_saeId, 1));

    auto reports = core::report::buildFeatureReports(*m_db, m_index, { 0, 1, 2, 3, m_dead });
    QVERIFY2(reports, reports ? "" : reports.errorMessage().c_str());
    m_reports = std::move(reports).value();
}

void TestReport::reportHoldsTheDashboard()
{
    QCOMPARE(m_reports.size(), size_t(5));
    for (size_t k = 0; k < kWords.size(); ++k) {
        const auto &r = m_reports[k];
        QCOMPARE(r.feature, int64_t(k));
        QVERIFY(!r.dead());
        QVERIFY(!r.top.empty());
        uint64_t sum = 0;
        for (uint32_t c : r.histogram)
            sum += c;
        QCOMPARE(int64_t(sum), r.count);
        // The planted answer: every top example peaks on word k, at 1 + 0.01 * position.
        for (const auto &e : r.top) {
            QCOMPARE(e.tokens.size(), e.values.size());
            QCOMPARE(e.tokens[size_t(e.maxPos)], kWords[k]);
            QVERIFY(e.value >= 1.0f && e.value < 1.0f + 0.01f * 64);
            QVERIFY(std::abs(e.values[size_t(e.maxPos)] - e.value) < 1e-2f); // stored as float16
        }
        QVERIFY(!r.logitTop.empty());
        QCOMPARE(r.modelName, std::filesystem::path(m_setup.modelDir).filename().string());
    }
    QCOMPARE(m_reports[1].label, std::string("the word dog"));
    QCOMPARE(m_reports[1].notes, kNotes);
    QVERIFY(std::find(m_reports[1].lists.begin(), m_reports[1].lists.end(), "Animals")
        != m_reports[1].lists.end());
    QVERIFY(m_reports[0].lists.empty());
    QVERIFY(m_reports[4].dead());
    QVERIFY(m_reports[4].top.empty());
}

void TestReport::jsonFollowsItsSchema()
{
    auto written = core::report::writeReports(
        m_reports, core::report::ReportFormat::Json, path("r.json").toStdString());
    QVERIFY2(written, written ? "" : written.errorMessage().c_str());
    QCOMPARE(written->size(), size_t(1));
    const QString errors = schemaErrors(path("r.json"), schemaPath("feature-report.schema.json"));
    QVERIFY2(errors.isEmpty(), qPrintable(errors));

    const json j = readJson(path("r.json"));
    QCOMPARE(j["schema"].get<std::string>(), std::string("featurescope.feature-report"));
    QCOMPARE(j["features"].size(), size_t(5));
    const json &dog = j["features"][1];
    QCOMPARE(dog["label"].get<std::string>(), std::string("the word dog"));
    QCOMPARE(dog["top_examples"][0]["tokens"][dog["top_examples"][0]["max_position"].get<size_t>()]
                 .get<std::string>(),
        kWords[1]);
    QVERIFY(j["features"][4]["stats"]["dead"].get<bool>());

    // The validator can fail: a document without "stats" is refused.
    json broken = j;
    broken["features"][0].erase("stats");
    test::writeFile(path("broken.json").toStdString(), broken.dump());
    QVERIFY(!schemaErrors(path("broken.json"), schemaPath("feature-report.schema.json")).isEmpty());
}

void TestReport::neuronpediaUploadFormat()
{
    core::report::WriteOptions options;
    options.neuronpedia.modelId = "planted-gpt2";
    auto written = core::report::writeReports(
        m_reports, core::report::ReportFormat::Neuronpedia, path("np.json").toStdString(), options);
    QVERIFY2(written, written ? "" : written.errorMessage().c_str());
    QCOMPARE(written->size(), size_t(1));
    const QString errors
        = schemaErrors(path("np.json"), schemaPath("neuronpedia-upload-batch.schema.json"));
    QVERIFY2(errors.isEmpty(), qPrintable(errors));
    const json j = readJson(path("np.json"));
    QCOMPARE(j["modelId"].get<std::string>(), std::string("planted-gpt2"));
    QVERIFY(j["source"].get<std::string>().rfind("0-", 0) == 0); // the planted hook is layer 0
    // The dead feature has no activation to upload and is left out.
    QCOMPARE(j["features"].size(), size_t(4));
    const json &dog = j["features"][1];
    QCOMPARE(dog["index"].get<int>(), 1);
    QCOMPARE(dog["explanations"][0]["text"].get<std::string>(), std::string("the word dog"));
    bool sawQuantile = false;
    for (const auto &a : dog["activations"]) {
        QCOMPARE(a["tokens"].size(), a["values"].size());
        if (a.contains("quantileFraction")) {
            sawQuantile = true;
            QVERIFY(a["quantileMin"].get<double>() <= a["quantileMax"].get<double>());
        }
    }
    QVERIFY(sawQuantile);

    // More than 128 features of one source split into upload batches.
    std::vector<core::report::FeatureReport> many;
    for (int i = 0; i < 130; ++i) {
        many.push_back(m_reports[size_t(i % 4)]);
        many.back().feature = i;
    }
    auto batches = core::report::writeReports(
        many, core::report::ReportFormat::Neuronpedia, path("many.json").toStdString());
    QVERIFY(batches);
    QCOMPARE(batches->size(), size_t(2));
    QCOMPARE(readJson(QString::fromStdString((*batches)[0]))["features"].size(), size_t(128));
    QCOMPARE(readJson(QString::fromStdString((*batches)[1]))["features"].size(), size_t(2));
    QVERIFY(!QFile::exists(path("many.json")));
}

void TestReport::htmlIsSelfContainedAndWellFormed()
{
    auto written = core::report::writeReports(
        m_reports, core::report::ReportFormat::Html, path("r.html").toStdString());
    QVERIFY(written);
    QFile f(path("r.html"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray html = f.readAll();
    int svgs = 0;
    const QString errors = xmlErrors(html, QStringLiteral("svg"), &svgs);
    QVERIFY2(errors.isEmpty(), qPrintable(errors));
    // Histogram + logits for the four live features, logits only for the dead one.
    QCOMPARE(svgs, 4 * 2 + 1);
    QVERIFY(html.contains("the word dog"));
    QVERIFY(html.contains("Seen in &lt;b&gt;bold&lt;/b&gt; &amp;")); // notes escaped, not markup
    QVERIFY(html.contains("<span class=\"max\" style=\"background-color:#ff8"));
    QVERIFY(html.contains(">" + QByteArray::fromStdString(kWords[2]) + "</span>"));
    QVERIFY(html.contains("never fired"));
    QVERIFY(!html.contains("<script"));
    QVERIFY(!html.contains("src=\"http"));

    // Paged HTML (for PDF) references the charts by name and breaks pages between features.
    core::report::HtmlOptions paged;
    paged.paged = true;
    const std::string pagedHtml = core::report::reportsHtml(m_reports, paged);
    int imgs = 0;
    QVERIFY(
        xmlErrors(QByteArray::fromStdString(pagedHtml), QStringLiteral("img"), &imgs).isEmpty());
    QCOMPARE(imgs, 9);
    QCOMPARE(QString::fromStdString(pagedHtml).count(QStringLiteral("page-break-before")), 5);
}

void TestReport::markdownWritesItsImages()
{
    auto written = core::report::writeReports(
        m_reports, core::report::ReportFormat::Markdown, path("r.md").toStdString());
    QVERIFY2(written, written ? "" : written.errorMessage().c_str());
    QCOMPARE(written->size(), size_t(1 + 9));
    const std::string md = test::readFile(path("r.md").toStdString());
    QVERIFY(md.find("## Feature 1") != std::string::npos);
    QVERIFY(md.find("**dog**") != std::string::npos);
    size_t links = 0;
    for (size_t at = md.find("](r_files/"); at != std::string::npos;
         at = md.find("](r_files/", at + 1)) {
        const size_t end = md.find(')', at);
        const QString image = path(QString::fromStdString(md.substr(at + 2, end - at - 2)));
        QVERIFY2(QFile::exists(image), qPrintable(image));
        QFile svg(image);
        QVERIFY(svg.open(QIODevice::ReadOnly));
        QXmlStreamReader reader(&svg);
        QVERIFY(reader.readNextStartElement());
        QCOMPARE(reader.name().toString(), QStringLiteral("svg"));
        QCOMPARE(
            reader.attributes().value(QStringLiteral("width")).toInt(), core::report::kChartWidth);
        ++links;
    }
    QCOMPARE(links, size_t(9));
}

void TestReport::errorsNameTheProblem()
{
    auto outside = core::report::buildFeatureReports(*m_db, m_index, { m_setup.features + 5 });
    QVERIFY(!outside);
    QVERIFY2(outside.errorMessage().find(std::to_string(m_setup.features + 5)) != std::string::npos,
        outside.errorMessage().c_str());
    const std::string bad = path("no-such-dir/r.html").toStdString();
    auto unwritable = core::report::writeReports(m_reports, core::report::ReportFormat::Html, bad);
    QVERIFY(!unwritable);
    QVERIFY2(unwritable.errorMessage().find("no-such-dir") != std::string::npos,
        unwritable.errorMessage().c_str());
    auto empty = core::report::writeReports(
        {}, core::report::ReportFormat::Json, path("e.json").toStdString());
    QVERIFY(!empty);
    std::vector<core::report::FeatureReport> deadOnly = { m_reports[4] };
    QVERIFY(!core::report::writeReports(
        deadOnly, core::report::ReportFormat::Neuronpedia, path("d.json").toStdString()));
}

void TestReport::cliWritesReports()
{
    QString stdoutText;
    auto run = [&](const QStringList &args, QString *out) {
        QProcess p;
        p.start(QStringLiteral(FEATURESCOPE_CLI), args);
        p.waitForFinished(120000);
        stdoutText = QString::fromUtf8(p.readAllStandardOutput());
        *out = stdoutText + QString::fromUtf8(p.readAllStandardError());
        return p.exitCode();
    };
    QString out;
    const QString sae = QString::fromStdString(core::store::indexInfo(*m_db, m_index)->saeLabel);
    QCOMPARE(run({ QStringLiteral("report"), path("w.fsdb"), QStringLiteral("--sae"), sae,
                     QStringLiteral("--labelled"), QStringLiteral("--out"), path("cli.json"),
                     QStringLiteral("--json") },
                 &out),
        0);
    const json summary = json::parse(stdoutText.trimmed().toStdString());
    QCOMPARE(summary["features"].get<int>(), 1);
    const json j = readJson(path("cli.json"));
    QCOMPARE(j["features"][0]["feature"].get<int>(), 1);
    QVERIFY(schemaErrors(path("cli.json"), schemaPath("feature-report.schema.json")).isEmpty());

    QCOMPARE(run({ QStringLiteral("report"), path("w.fsdb"), QStringLiteral("--sae"), sae,
                     QStringLiteral("--list"), QStringLiteral("Animals"), QStringLiteral("--out"),
                     path("cli.html") },
                 &out),
        0);
    QVERIFY(
        test::readFile(path("cli.html").toStdString()).find("the word dog") != std::string::npos);

    QVERIFY(run({ QStringLiteral("report"), path("w.fsdb"), QStringLiteral("--sae"), sae,
                    QStringLiteral("--id"), QStringLiteral("1"), QStringLiteral("--out"),
                    path("x.pdf") },
                &out)
        != 0);
    QVERIFY2(out.contains(QStringLiteral("use html, md, json or neuronpedia")), qPrintable(out));
    QVERIFY(run({ QStringLiteral("report"), path("w.fsdb"), QStringLiteral("--sae"), sae,
                    QStringLiteral("--list"), QStringLiteral("Nope"), QStringLiteral("--out"),
                    path("x.json") },
                &out)
        != 0);
    QVERIFY2(out.contains(QStringLiteral("no feature list named 'Nope'")), qPrintable(out));
}

QTEST_GUILESS_MAIN(TestReport)
#include "tst_report.moc"
