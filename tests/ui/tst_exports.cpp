// Exports and plugins on a workspace indexed from the planted model and SAE: every built-in
// report exporter (a plugin) writes files that parse, the PDF has the pages its layout says
// (counted by rendering it with pdftoppm) with each feature starting a page, plots export as
// PNG at a chosen DPI and as SVG at their size with title and labels, and the plugin host
// registers a valid shared plugin and refuses broken ones with a reason while the app runs on.

#include "core/store/database.h"
#include "core/store/feature_lists.h"
#include "core/store/index_store.h"
#include "plugins/api/reportexporter.h"
#include "plugins/exporters/builtinplugins.h"
#include "plugins/exporters/pdfexporter.h"
#include "plugins/host/pluginmanager.h"
#include "tests/support/planted.h"
#include "tests/support/testsupport.h"
#include "ui/featuredashboard.h"
#include "ui/jobrunner.h"
#include "ui/mainwindow.h"
#include "ui/plotstyle.h"
#include "ui/pluginmanagerdialog.h"
#include "ui/qcustomplot_include.h"
#include "ui/reportexport.h"
#include "ui/reportexportdialog.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"

#include <nlohmann/json.hpp>

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QRadioButton>
#include <QSettings>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

using namespace fscope;

namespace {

const std::vector<std::string> kWords = { " cat", " dog", " moon", " river" };

QString runTool(const QString &program, const QStringList &args, int *exitCode = nullptr)
{
    QProcess p;
    p.start(program, args);
    p.waitForFinished(60000);
    if (exitCode)
        *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return QString::fromUtf8(p.readAllStandardOutput());
}

int pdfPages(const QString &pdf)
{
    const QString info = runTool(QStringLiteral("pdfinfo"), { pdf });
    for (const QString &line : info.split(QLatin1Char('\n')))
        if (line.startsWith(QLatin1String("Pages:")))
            return line.mid(6).trimmed().toInt();
    return -1;
}

} // namespace

class TestExports : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    test::PlantedSetup m_setup;
    std::unique_ptr<ui::MainWindow> m_window;
    qint64 m_indexId = 0;

    QString path(const QString &name) const { return m_tmp.path() + QLatin1Char('/') + name; }
    void waitForJobs() { QTRY_VERIFY_WITH_TIMEOUT(!m_window->jobRunner()->busy(), 120000); }
    plugins::PluginManager *manager() const { return m_window->workbench()->plugins(); }
    const plugins::PluginSpec *spec(const QString &id) const
    {
        static QList<plugins::PluginSpec> specs;
        specs = manager()->plugins();
        for (const auto &s : specs)
            if (s.id == id)
                return &s;
        return nullptr;
    }

private Q_SLOTS:
    void initTestCase();
    void builtInExportersAreRegistered();
    void brokenPluginsAreRefusedWithAReason();
    void pluginsNeverLoadFromTheWorkingDirectory();
    void disablingAPluginRemovesItsExporter();
    void everyExporterWritesFilesThatParse();
    void pdfHasTheExpectedPages();
    void exportDialogRunsABatchJob();
    void plotsExportAsPngAndSvg();
    void screenshots();
    void cleanupTestCase();
};

void TestExports::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QSettings().clear();
    // The user's plugin directory lives in the temporary XDG data home; the test plugins go there.
    qputenv("XDG_DATA_HOME", path(QStringLiteral("data")).toUtf8());
    const QString userPlugins = path(QStringLiteral("data/featurescope/plugins"));
    QVERIFY(QDir().mkpath(userPlugins));
    for (const char *kind : { "valid", "wrongiid", "newer", "missingsymbol" }) {
        const QString name = QStringLiteral("fs_test_plugin_%1.so").arg(QLatin1String(kind));
        QVERIFY2(QFile::copy(QStringLiteral(FEATURESCOPE_TEST_PLUGINS "/") + name,
                     userPlugins + QLatin1Char('/') + name),
            qPrintable(name));
    }
    test::writeFile(
        (userPlugins + QStringLiteral("/libnotaplugin.so")).toStdString(), "not an ELF file");

    std::string error;
    m_setup = test::writePlantedSetup(m_tmp.path().toStdString(), kWords, &error);
    QVERIFY2(!m_setup.modelDir.empty(), error.c_str());
    test::writePlantedCorpus(path(QStringLiteral("corpus.txt")).toStdString(), kWords, 400, 1);
    {
        auto db = core::store::Database::open(path(QStringLiteral("w.fsdb")).toStdString());
        QVERIFY(db);
        m_indexId = test::indexPlanted(
            **db, m_setup, path(QStringLiteral("corpus.txt")).toStdString(), &error);
        QVERIFY2(m_indexId > 0, error.c_str());
        const int64_t sae = core::store::indexInfo(**db, m_indexId)->saeId;
        QVERIFY(core::store::setLabel(**db, sae, 1, "the word dog", "planted"));
        auto list = core::store::createFeatureList(**db, "Animals");
        QVERIFY(list);
        QVERIFY(core::store::addToFeatureList(**db, *list, sae, 0));
        QVERIFY(core::store::addToFeatureList(**db, *list, sae, 1));
    }

    plugins::linkBuiltinPlugins();
    m_window = std::make_unique<ui::MainWindow>();
    m_window->resize(1400, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_window->workspaceActions()->openWorkspaceAt(path(QStringLiteral("w.fsdb")));
    waitForJobs();
    QVERIFY(m_window->workspaceActions()->database());
    m_window->workbench()->showFeature(m_indexId, 1);
    QVERIFY(m_window->dashboard()->data());
}

void TestExports::builtInExportersAreRegistered()
{
    QStringList formats;
    for (auto *e : manager()->objects<plugins::ReportExporter>())
        formats << e->formatId();
    for (const char *f : { "html", "markdown", "json", "neuronpedia", "pdf", "tsv" })
        QVERIFY2(formats.contains(QLatin1String(f)), qPrintable(formats.join(QLatin1Char(' '))));
    const auto *html = spec(QStringLiteral("org.featurescope.exporter.html"));
    QVERIFY(html);
    QVERIFY(html->builtIn);
    QVERIFY(html->loaded);
    QCOMPARE(html->version, QStringLiteral("1.0.0"));
    const auto *tsv = spec(QStringLiteral("org.featurescope.test.tsv"));
    QVERIFY(tsv);
    QVERIFY(!tsv->builtIn);
    QVERIFY(tsv->loaded);
    QVERIFY(tsv->filePath.startsWith(path(QStringLiteral("data/featurescope/plugins"))));
}

void TestExports::brokenPluginsAreRefusedWithAReason()
{
    const auto *wrong = spec(QStringLiteral("org.featurescope.test.wrongiid"));
    QVERIFY(wrong);
    QVERIFY(!wrong->loaded);
    QVERIFY2(wrong->error.contains(QLatin1String("org.example.SomethingElse/1")),
        qPrintable(wrong->error));
    const auto *newer = spec(QStringLiteral("org.featurescope.test.newer"));
    QVERIFY(newer);
    QVERIFY(!newer->loaded);
    QVERIFY2(newer->error.contains(QLatin1String("needs plugin API 99")), qPrintable(newer->error));
    const auto *missing = spec(QStringLiteral("org.featurescope.test.missingsymbol"));
    QVERIFY(missing);
    QVERIFY(!missing->loaded);
    QVERIFY2(missing->error.contains(QLatin1String("fs_test_symbol_nobody_defines")),
        qPrintable(missing->error));
    const auto *junk = spec(QStringLiteral("libnotaplugin.so"));
    QVERIFY(junk);
    QVERIFY2(
        junk->error.contains(QLatin1String("not a Featurescope plugin")), qPrintable(junk->error));
    QCOMPARE(manager()->errors().size(), 4);
    // Nothing of the refused plugins is registered, and the app carries on.
    for (auto *e : manager()->objects<plugins::ReportExporter>())
        QVERIFY(e->formatId() != QLatin1String("tsv")
            || spec(QStringLiteral("org.featurescope.test.tsv"))->loaded);
    QVERIFY(m_window->isVisible());
    // The refusals are shown in the plugin manager.
    ui::PluginManagerDialog dialog(manager());
    int errorRows = 0;
    for (int row = 0; row < dialog.table()->rowCount(); ++row)
        errorRows += dialog.table()->item(row, 3)->text().startsWith(QLatin1String("Not loaded"));
    QCOMPARE(errorRows, 4);
}

void TestExports::pluginsNeverLoadFromTheWorkingDirectory()
{
    plugins::PluginManager local;
    local.setSearchPaths(
        { QStringLiteral("."), QStringLiteral("plugins"), path(QStringLiteral("nowhere")) });
    QCOMPARE(local.searchPaths(), QStringList { path(QStringLiteral("nowhere")) });
    // A plugin in the working directory is not found with the default paths.
    const QString old = QDir::currentPath();
    QVERIFY(QDir().mkpath(path(QStringLiteral("cwd"))));
    QVERIFY(QFile::copy(QStringLiteral(FEATURESCOPE_TEST_PLUGINS "/fs_test_plugin_valid.so"),
        path(QStringLiteral("cwd/fs_cwd_plugin.so"))));
    QVERIFY(QDir::setCurrent(path(QStringLiteral("cwd"))));
    plugins::PluginManager fresh;
    fresh.loadPlugins();
    QDir::setCurrent(old);
    for (const auto &s : fresh.plugins())
        QVERIFY2(!s.filePath.contains(QLatin1String("fs_cwd_plugin")), qPrintable(s.filePath));
    for (const QString &p : fresh.searchPaths())
        QVERIFY(QDir::isAbsolutePath(p));
}

void TestExports::disablingAPluginRemovesItsExporter()
{
    const QString id = QStringLiteral("org.featurescope.test.tsv");
    QVERIFY(ui::reportExporter(m_window->workbench(), QStringLiteral("tsv")));
    QVERIFY(manager()->setEnabled(id, false));
    QVERIFY(!ui::reportExporter(m_window->workbench(), QStringLiteral("tsv")));
    QVERIFY(QSettings().value(QStringLiteral("plugins/disabled")).toStringList().contains(id));
    // A new host (the next start) reads the choice and does not load it.
    plugins::PluginManager next;
    next.loadPlugins();
    bool seen = false;
    for (const auto &s : next.plugins())
        if (s.id == id) {
            seen = true;
            QVERIFY(!s.enabled);
            QVERIFY(!s.loaded);
        }
    QVERIFY(seen);
    QVERIFY(manager()->setEnabled(id, true));
    QVERIFY(ui::reportExporter(m_window->workbench(), QStringLiteral("tsv")));
    QVERIFY(!manager()->setEnabled(
        QStringLiteral("org.featurescope.test.newer"), true)); // refused stays refused
}

void TestExports::everyExporterWritesFilesThatParse()
{
    const std::vector<qint64> features = { 0, 1, 2, 3 };
    auto exportAs = [&](const QString &format, const QString &file) {
        auto *exporter = ui::reportExporter(m_window->workbench(), format);
        QVERIFY2(exporter, qPrintable(format));
        bool ok = false;
        QString message;
        const int job = ui::startReportExport(m_window->workbench(), exporter, m_indexId, features,
            path(file), [&](bool success, const QString &text) {
                ok = success;
                message = text;
            });
        QVERIFY(job > 0);
        waitForJobs();
        QVERIFY2(ok, qPrintable(message));
        QVERIFY2(QFile::exists(path(file)), qPrintable(file));
    };
    exportAs(QStringLiteral("html"), QStringLiteral("out.html"));
    {
        QFile f(path(QStringLiteral("out.html")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QXmlStreamReader reader(&f);
        int sections = 0;
        while (!reader.atEnd())
            if (reader.readNext() == QXmlStreamReader::StartElement
                && reader.name() == QLatin1String("div")
                && reader.attributes().value(QLatin1String("class")) == QLatin1String("feature"))
                ++sections;
        QVERIFY2(!reader.hasError(), qPrintable(reader.errorString()));
        QCOMPARE(sections, 4);
        QVERIFY(test::readFile(path(QStringLiteral("out.html")).toStdString()).find("the word dog")
            != std::string::npos);
    }
    exportAs(QStringLiteral("markdown"), QStringLiteral("out.md"));
    QCOMPARE(QDir(path(QStringLiteral("out_files"))).entryList(QDir::Files).size(), 8);
    exportAs(QStringLiteral("json"), QStringLiteral("out.json"));
    {
        const auto j
            = nlohmann::json::parse(test::readFile(path(QStringLiteral("out.json")).toStdString()));
        QCOMPARE(j["features"].size(), size_t(4));
        QCOMPARE(j["features"][1]["label"].get<std::string>(), std::string("the word dog"));
    }
    exportAs(QStringLiteral("neuronpedia"), QStringLiteral("np.json"));
    {
        const auto j
            = nlohmann::json::parse(test::readFile(path(QStringLiteral("np.json")).toStdString()));
        QCOMPARE(j["features"].size(), size_t(4));
        QVERIFY(!j["features"][0]["activations"].empty());
    }
    exportAs(QStringLiteral("tsv"), QStringLiteral("out.tsv"));
    QCOMPARE(QString::fromStdString(test::readFile(path(QStringLiteral("out.tsv")).toStdString()))
                 .count(QLatin1Char('\n')),
        5);
    exportAs(QStringLiteral("pdf"), QStringLiteral("out.pdf"));
    QVERIFY(pdfPages(path(QStringLiteral("out.pdf"))) >= 5);

    // A failed export says which file and why, and leaves nothing behind.
    auto *html = ui::reportExporter(m_window->workbench(), QStringLiteral("html"));
    bool ok = true;
    QString message;
    ui::startReportExport(m_window->workbench(), html, m_indexId, { m_setup.features + 3 },
        path(QStringLiteral("bad.html")), [&](bool success, const QString &text) {
            ok = success;
            message = text;
        });
    waitForJobs();
    QVERIFY(!ok);
    QVERIFY2(message.contains(QString::number(m_setup.features + 3)), qPrintable(message));
    QVERIFY(!QFile::exists(path(QStringLiteral("bad.html"))));
}

void TestExports::pdfHasTheExpectedPages()
{
    auto db = core::store::Database::open(path(QStringLiteral("w.fsdb")).toStdString());
    QVERIFY(db);
    auto reports
        = core::report::buildFeatureReports(**db, m_indexId, { 0, 1, 2, 3, m_setup.features - 1 });
    QVERIFY(reports);
    const QString pdf = path(QStringLiteral("pages.pdf"));
    auto pages = plugins::writeReportPdf(*reports, pdf);
    QVERIFY2(pages, pages ? "" : pages.errorMessage().c_str());
    // A contents page, then every feature from a new page.
    QVERIFY2(*pages >= 6, qPrintable(QString::number(*pages)));
    QCOMPARE(pdfPages(pdf), *pages);
    // Rendering it gives one image per page.
    QVERIFY(QDir().mkpath(path(QStringLiteral("render"))));
    int code = -1;
    runTool(QStringLiteral("pdftoppm"),
        { QStringLiteral("-r"), QStringLiteral("40"), QStringLiteral("-png"), pdf,
            path(QStringLiteral("render/page")) },
        &code);
    QCOMPARE(code, 0);
    const QStringList images
        = QDir(path(QStringLiteral("render")))
              .entryList({ QStringLiteral("page-*.png") }, QDir::Files, QDir::Name);
    QCOMPARE(images.size(), *pages);
    const QImage first(path(QStringLiteral("render/")) + images.first());
    QVERIFY(!first.isNull());
    QVERIFY(first.height() > first.width()); // portrait A4
    // Each feature starts a page: its heading is the page's first text.
    QStringList starts;
    for (int p = 1; p <= *pages; ++p)
        starts << runTool(QStringLiteral("pdftotext"),
            { QStringLiteral("-f"), QString::number(p), QStringLiteral("-l"), QString::number(p),
                QStringLiteral("-layout"), pdf, QStringLiteral("-") })
                      .trimmed()
                      .section(QLatin1Char('\n'), 0, 0);
    for (long long f : { 0LL, 1LL, 2LL, 3LL, m_setup.features - 1 }) {
        const QString heading = QStringLiteral("Feature %1 ").arg(f);
        QVERIFY2(std::any_of(starts.begin(), starts.end(),
                     [&](const QString &s) { return s.startsWith(heading); }),
            qPrintable(starts.join(QLatin1String(" | "))));
    }
    const QString dog = runTool(QStringLiteral("pdftotext"), { pdf, QStringLiteral("-") });
    QVERIFY(dog.contains(QLatin1String("the word dog")));
    // A copy of two pages for people to look at.
    if (QDir().mkpath(QStringLiteral(FEATURESCOPE_ARTIFACTS)))
        for (int p = 0; p < 2 && p < images.size(); ++p) {
            runTool(QStringLiteral("pdftoppm"),
                { QStringLiteral("-r"), QStringLiteral("80"), QStringLiteral("-png"),
                    QStringLiteral("-f"), QString::number(p + 2), QStringLiteral("-l"),
                    QString::number(p + 2), QStringLiteral("-singlefile"), pdf,
                    QStringLiteral(FEATURESCOPE_ARTIFACTS "/report-pdf-page%1").arg(p + 2) });
        }
}

void TestExports::exportDialogRunsABatchJob()
{
    ui::ReportExportDialog dialog(m_window->workbench());
    QVERIFY(dialog.currentButton()->isEnabled()); // feature 1 is on screen
    dialog.listButton()->setChecked(true);
    const int animals = dialog.listChoice()->findData(QStringLiteral("Animals"));
    QVERIFY(animals >= 0);
    dialog.listChoice()->setCurrentIndex(animals);
    QString error;
    QCOMPARE(dialog.chosenFeatures(&error), (std::vector<qint64> { 0, 1 }));
    dialog.formatChoice()->setCurrentIndex(dialog.formatChoice()->findData(QStringLiteral("json")));
    dialog.pathEdit()->setText(path(QStringLiteral("dialog.anything")));
    // Changing the format fixes the extension.
    dialog.formatChoice()->setCurrentIndex(dialog.formatChoice()->findData(QStringLiteral("html")));
    QCOMPARE(dialog.pathEdit()->text(), path(QStringLiteral("dialog.html")));
    const int job = dialog.startExport();
    QVERIFY(job > 0);
    waitForJobs();
    QVERIFY(m_window->jobRunner()->job(job)->succeeded);
    QVERIFY(test::readFile(path(QStringLiteral("dialog.html")).toStdString()).find("Feature 0")
        != std::string::npos);

    dialog.idsButton()->setChecked(true);
    dialog.idsEdit()->setText(QStringLiteral("2, 5-x"));
    QCOMPARE(dialog.startExport(), 0);
    QVERIFY(dialog.findChild<QLabel *>() != nullptr);
    dialog.idsEdit()->setText(QStringLiteral("0-2, 3"));
    error.clear();
    QCOMPARE(dialog.chosenFeatures(&error), (std::vector<qint64> { 0, 1, 2, 3 }));
    dialog.idsEdit()->setText(QStringLiteral("%1").arg(m_setup.features));
    error.clear();
    QVERIFY(dialog.chosenFeatures(&error).empty());
    QVERIFY2(error.contains(QLatin1String("outside")), qPrintable(error));
    dialog.labelledButton()->setChecked(true);
    error.clear();
    QCOMPARE(dialog.chosenFeatures(&error), (std::vector<qint64> { 1 }));
}

void TestExports::plotsExportAsPngAndSvg()
{
    auto *plot = m_window->dashboard()->findChild<QCustomPlot *>(QStringLiteral("histogramPlot"));
    QVERIFY(plot);
    QVERIFY(plot->width() > 50 && plot->height() > 50);
    const QSize size = plot->size();
    QVERIFY(ui::exportPlot(plot, path(QStringLiteral("hist.png")), 300));
    const QImage png(path(QStringLiteral("hist.png")));
    QCOMPARE(png.width(), qRound(size.width() * 300 / 96.0));
    QCOMPARE(png.height(), qRound(size.height() * 300 / 96.0));
    QCOMPARE(qRound(png.dotsPerMeterX() * 0.0254), 300);

    QVERIFY(ui::exportPlot(plot, path(QStringLiteral("hist.svg"))));
    QFile svgFile(path(QStringLiteral("hist.svg")));
    QVERIFY(svgFile.open(QIODevice::ReadOnly));
    const QByteArray svg = svgFile.readAll();
    QXmlStreamReader reader(svg);
    QVERIFY(reader.readNextStartElement());
    QCOMPARE(reader.name().toString(), QStringLiteral("svg"));
    QCOMPARE(reader.attributes().value(QStringLiteral("viewBox")).toString(),
        QStringLiteral("0 0 %1 %2").arg(size.width()).arg(size.height()));
    while (!reader.atEnd())
        reader.readNext();
    QVERIFY2(!reader.hasError(), qPrintable(reader.errorString()));
    auto *title = qobject_cast<QCPTextElement *>(plot->plotLayout()->element(0, 0));
    QVERIFY(title);
    QVERIFY2(svg.contains(title->text().toUtf8()), "the title is in the SVG");
    QVERIFY2(svg.contains(plot->xAxis->label().toUtf8()), "the x label is in the SVG");
    QVERIFY(ui::exportPlot(plot, path(QStringLiteral("hist.pdf"))));
    QCOMPARE(pdfPages(path(QStringLiteral("hist.pdf"))), 1);
    QString error;
    QVERIFY(!ui::exportPlot(plot, path(QStringLiteral("nodir/hist.svg")), 96, &error));
    QVERIFY2(error.contains(QLatin1String("nodir")), qPrintable(error));
}

void TestExports::screenshots()
{
    if (!QDir().mkpath(QStringLiteral(FEATURESCOPE_ARTIFACTS)))
        QFAIL("cannot create the artifacts folder");
    ui::PluginManagerDialog plugins(manager());
    plugins.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plugins));
    QVERIFY(plugins.grab().save(QStringLiteral(FEATURESCOPE_ARTIFACTS "/plugins.png")));
    ui::ReportExportDialog dialog(m_window->workbench());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QVERIFY(dialog.grab().save(QStringLiteral(FEATURESCOPE_ARTIFACTS "/report-export.png")));
}

void TestExports::cleanupTestCase()
{
    if (m_window)
        m_window->jobRunner()->waitForAll();
    m_window.reset();
}

QTEST_MAIN(TestExports)
#include "tst_exports.moc"
