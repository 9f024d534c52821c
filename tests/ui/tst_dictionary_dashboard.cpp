// A cross-layer transcoder in the workbench: one layer of a circuit-tracer CLT for the demo
// model, added as DIR#layer=L and indexed through the same job as any SAE; its feature
// dashboard shows where the feature writes (one bar per later layer, the block norms), which
// a single-hook SAE's dashboard leaves out; and a screenshot of it at laptop size. A crosscoder
// over three hooks, one bar per hook. ITDA dictionaries compared as a table and a heatmap.

#include "core/demo/demo_paths.h"
#include "core/io/torch_tensor.h"
#include "core/sae/dictionary_io.h"
#include "core/sae/itda.h"
#include "core/sae/sae_io.h"
#include "core/store/database.h"
#include "core/store/index_store.h"
#include "tests/support/testsupport.h"
#include "ui/dashboardcharts.h"
#include "ui/featuredashboard.h"
#include "ui/indexdialog.h"
#include "ui/itdasimilaritydialog.h"
#include "ui/jobrunner.h"
#include "ui/mainwindow.h"
#include "ui/qcustomplot_include.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"

#include <QAction>
#include <QDir>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

using namespace fscope;

namespace {

// Opens `workspace` in `window` (shown at 1366x768), indexes the demo corpus with `sae` and
// shows the dashboard of the feature that fires most often, so its examples are not empty
// either. `feature` receives it.
void indexAndShowBusiest(ui::MainWindow &window, const QString &workspace, const QString &sae,
    const core::demo::DemoAssets &demo, int64_t &feature)
{
    window.resize(1366, 768);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.workspaceActions()->openWorkspaceAt(workspace);
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobRunner()->busy(), 60000);
    ui::IndexSettings s;
    s.model = QString::fromStdString(demo.model);
    s.saes = { sae };
    s.corpus = { QString::fromStdString(demo.corpus) };
    s.tokens = QStringLiteral("4k");
    s.contextLength = 64;
    s.batchSize = 8;
    s.device = QStringLiteral("cpu");
    const int job = window.indexCorpus(s);
    QVERIFY(job > 0);
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobRunner()->busy(), 300000);
    QVERIFY2(
        window.jobRunner()->job(job)->succeeded, qPrintable(window.jobRunner()->job(job)->outcome));
    auto *db = window.workspaceActions()->database();
    QVERIFY(db);
    auto indexes = core::store::listIndexes(*db);
    QVERIFY(indexes.ok() && indexes->size() == 1);
    auto table = core::store::loadFeatureTable(*db, indexes->at(0).id);
    QVERIFY(table.ok());
    const auto busiest = std::max_element(table->count.begin(), table->count.end());
    QVERIFY(*busiest > 0);
    feature = table->feature[size_t(busiest - table->count.begin())];
    window.workbench()->showFeature(indexes->at(0).id, feature);
    QTest::qWait(200);
}

} // namespace

class TestDictionaryDashboard : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cltDashboardShowsWhereItWrites();
    void crosscoderDashboardShowsEachHook();
    void itdaDashboardNamesTheAtomsToken();
    void itdaSimilarityTableAndHeatmap();
};

void TestDictionaryDashboard::cltDashboardShowsWhereItWrites()
{
    QTemporaryDir tmp;
    QSettings().clear();
    auto demo = core::demo::locateDemo();
    QVERIFY2(demo.ok(), demo.ok() ? "" : demo.errorMessage().c_str());
    const std::string dir = tmp.path().toStdString() + "/clt";
    std::filesystem::create_directories(dir);
    at::manual_seed(3);
    const int64_t d = 128, f = 16, layers = 4;
    at::Tensor layer1Blocks;
    for (int64_t l = 0; l < layers; ++l) {
        const std::string L = std::to_string(l);
        QVERIFY(core::io::writeSafetensors(dir + "/W_enc_" + L + ".safetensors",
            { { "W_enc_" + L, at::randn({ f, d }) / std::sqrt(double(d)) },
                { "b_enc_" + L, at::zeros({ f }) }, { "b_dec_" + L, at::zeros({ d }) } })
                    .ok());
        // Feature writes fall off with distance, so the bars have a shape to look at.
        const at::Tensor falloff
            = at::pow(at::full({ layers - l }, 0.5), at::arange(layers - l)).view({ 1, -1, 1 });
        const at::Tensor blocks = at::randn({ f, layers - l, d }) * 0.05 * falloff;
        if (l == 1)
            layer1Blocks = blocks;
        QVERIFY(core::io::writeSafetensors(
            dir + "/W_dec_" + L + ".safetensors", { { "W_dec_" + L, blocks } })
                    .ok());
    }

    ui::MainWindow window;
    int64_t feature = -1;
    indexAndShowBusiest(window, tmp.path() + "/clt.fsdb",
        QString::fromStdString(core::sae::layerSelector(dir, 1)), *demo, feature);
    if (QTest::currentTestFailed())
        return;

    auto *writes = window.dashboard()->findChild<QCustomPlot *>(QStringLiteral("writesPlot"));
    QVERIFY(writes);
    QVERIFY(writes->isVisible());
    QCOMPARE(writes->plottableCount(), 1);
    auto *bars = qobject_cast<QCPBars *>(writes->plottable(0));
    QVERIFY(bars);
    QCOMPARE(bars->data()->size(), 3); // layers 1, 2 and 3
    for (int b = 0; b < 3; ++b)
        QVERIFY(std::abs((bars->data()->begin() + b)->value
                    - layer1Blocks[feature][b].norm().item<double>())
            < 1e-5);

    // A learned dictionary's feature is no token's activation: no origin line.
    QVERIFY(!window.dashboard()->headerText().contains(QStringLiteral("ITDA atom")));

    const QString artifacts = QStringLiteral(FEATURESCOPE_ARTIFACTS);
    QVERIFY(QDir().mkpath(artifacts));
    QVERIFY(window.grab().save(artifacts + "/clt-dashboard-1366x768.png"));
}

void TestDictionaryDashboard::crosscoderDashboardShowsEachHook()
{
    QTemporaryDir tmp;
    QSettings().clear();
    auto demo = core::demo::locateDemo();
    QVERIFY(demo.ok());
    // A crosscoder over three of the demo model's residual hooks, written as SAELens writes
    // one; hook l's decoder slice shrinks with l, so the bars have a shape.
    at::manual_seed(4);
    const int64_t d = 128, f = 24, n = 3;
    core::sae::SaeConfig c;
    c.kind = core::sae::DictionaryKind::Crosscoder;
    c.hooksIn
        = { "blocks.0.hook_resid_pre", "blocks.1.hook_resid_post", "blocks.3.hook_resid_post" };
    c.hooksOut = c.hooksIn;
    c.hookName = c.hooksIn.front();
    c.dIn = n * d;
    c.dSae = f;
    core::sae::SaeWeights w;
    w.W_enc = at::randn({ n * d, f }) / std::sqrt(double(n * d));
    w.b_enc = at::full({ f }, 0.02);
    const at::Tensor falloff = at::tensor({ 1.0f, 0.6f, 0.3f }).repeat_interleave(d);
    w.W_dec = at::randn({ f, n * d }) * 0.05 * falloff;
    w.b_dec = at::zeros({ n * d });
    const std::string dir = tmp.path().toStdString() + "/crosscoder";
    QVERIFY(core::sae::saveSaeLens(core::sae::Sae(c, w), dir).ok());

    ui::MainWindow window;
    int64_t feature = -1;
    indexAndShowBusiest(
        window, tmp.path() + "/cc.fsdb", QString::fromStdString(dir), *demo, feature);
    if (QTest::currentTestFailed())
        return;

    auto *writes = window.dashboard()->findChild<QCustomPlot *>(QStringLiteral("writesPlot"));
    QVERIFY(writes && writes->isVisible());
    auto *bars = qobject_cast<QCPBars *>(writes->plottable(0));
    QVERIFY(bars);
    QCOMPARE(bars->data()->size(), 3);
    for (int b = 0; b < 3; ++b)
        QVERIFY(std::abs((bars->data()->begin() + b)->value
                    - w.W_dec[feature].narrow(0, b * d, d).norm().item<double>())
            < 1e-5);
    // Two hook points on the axis: each bar says which.
    auto ticker = writes->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
    QVERIFY(ticker);
    QCOMPARE(ticker->ticks().value(1.0), QStringLiteral("0\npre"));
    QCOMPARE(ticker->ticks().value(3.0), QStringLiteral("3\npost"));

    const QString artifacts = QStringLiteral(FEATURESCOPE_ARTIFACTS);
    QVERIFY(QDir().mkpath(artifacts));
    QVERIFY(window.grab().save(artifacts + "/crosscoder-dashboard-1366x768.png"));
    window.resize(1920, 1080);
    QTest::qWait(200);
    QVERIFY(window.grab().save(artifacts + "/crosscoder-dashboard-1920x1080.png"));
}

void TestDictionaryDashboard::itdaDashboardNamesTheAtomsToken()
{
    QTemporaryDir tmp;
    QSettings().clear();
    auto demo = core::demo::locateDemo();
    QVERIFY(demo.ok());
    // An ITDA dictionary for the demo model: atom i came from token 100 + i at position i + 1
    // of context 7 + i of the corpus it was built from.
    at::manual_seed(5);
    core::sae::ItdaDictionary d;
    d.atoms = at::randn({ 24, 128 });
    d.atoms = d.atoms / d.atoms.norm(2, 1, true);
    for (int64_t i = 0; i < 24; ++i)
        d.origins.push_back({ 7 + i, i + 1, 100 + i });
    d.k = 4;
    d.hookName = "blocks.1.hook_resid_post";
    const std::string dir = tmp.path().toStdString() + "/itda";
    QVERIFY(core::sae::saveItda(d, dir).ok());

    ui::MainWindow window;
    window.resize(1366, 768);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.workspaceActions()->openWorkspaceAt(tmp.path() + "/itda.fsdb");
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobRunner()->busy(), 60000);
    ui::IndexSettings s;
    s.model = QString::fromStdString(demo->model);
    s.saes = { QString::fromStdString(dir) };
    s.corpus = { QString::fromStdString(demo->corpus) };
    s.tokens = QStringLiteral("2k");
    s.contextLength = 64;
    s.batchSize = 8;
    s.device = QStringLiteral("cpu");
    const int job = window.indexCorpus(s);
    QVERIFY(job > 0);
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobRunner()->busy(), 300000);
    QVERIFY2(
        window.jobRunner()->job(job)->succeeded, qPrintable(window.jobRunner()->job(job)->outcome));
    auto indexes = core::store::listIndexes(*window.workspaceActions()->database());
    QVERIFY(indexes.ok() && indexes->size() == 1);
    window.workbench()->showFeature(indexes->at(0).id, 3);
    QTest::qWait(100);
    auto *stats = window.dashboard()->findChild<QLabel *>(QStringLiteral("dashboardStats"));
    QVERIFY(stats);
    const QString expected = QStringLiteral("ITDA atom: the activation of '%1' at position 4 of "
                                            "context 10")
                                 .arg(ui::tokenName(demo->model, 103));
    QVERIFY2(stats->text().contains(expected), qPrintable(stats->text()));
    QVERIFY(window.grab().save(
        QStringLiteral(FEATURESCOPE_ARTIFACTS) + "/itda-dashboard-1366x768.png"));
}

// Four layers' dictionaries on one corpus and one on another, compared from the File menu: the
// table holds the Jaccard values, the heatmap the same values cell by cell, the pair across
// corpora is marked; and a screenshot of the dialog.
void TestDictionaryDashboard::itdaSimilarityTableAndHeatmap()
{
    QTemporaryDir tmp;
    QSettings().clear();
    QStringList folders;
    // Layer l's atoms come from contexts 4l .. 4l+11: neighbouring layers share 8 of 16, layers
    // two apart 4 of 20, three apart none.
    for (int l = 0; l < 5; ++l) {
        core::sae::ItdaDictionary d;
        d.atoms = at::zeros({ 12, 8 });
        d.atoms.select(1, 0).fill_(1.0);
        for (int64_t i = 0; i < 12; ++i)
            d.origins.push_back({ (l == 4 ? 0 : 4 * l) + i, 5, 42 });
        d.hookName = "blocks." + std::to_string(l == 4 ? 0 : l) + ".hook_resid_post";
        d.modelName = "gpt2";
        d.corpusFingerprint = l == 4 ? "corpus-two" : "corpus-one";
        const std::string dir = tmp.path().toStdString() + "/itda" + std::to_string(l);
        QVERIFY(core::sae::saveItda(d, dir).ok());
        folders << QString::fromStdString(dir);
    }
    ui::MainWindow window;
    window.resize(1366, 768);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto *action = window.findChild<QAction *>(QStringLiteral("actionCompareItda"));
    QVERIFY(action);
    action->trigger();
    auto *dialog = window.findChild<ui::ItdaSimilarityDialog *>();
    QVERIFY(dialog);
    QVERIFY(QTest::qWaitForWindowExposed(dialog));
    dialog->setFolders(folders);
    QSignalSpy compared(dialog, &ui::ItdaSimilarityDialog::compared);
    QTest::mouseClick(
        dialog->findChild<QPushButton *>(QStringLiteral("itdaCompare")), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(compared.count(), 1, 30000);
    QVERIFY(compared.at(0).at(0).toBool());
    QTableWidget *table = dialog->table();
    QCOMPARE(table->rowCount(), 5);
    QCOMPARE(table->item(0, 0)->text(), QStringLiteral("1.000"));
    QCOMPARE(table->item(0, 1)->text(), QString::number(8.0 / 16.0, 'f', 3));
    QCOMPARE(table->item(2, 0)->text(), QString::number(4.0 / 20.0, 'f', 3));
    QCOMPARE(table->item(0, 3)->text(), QStringLiteral("0.000"));
    QCOMPARE(table->item(0, 4)->text(), QStringLiteral("other corpus"));
    QCOMPARE(table->horizontalHeaderItem(1)->text(), QStringLiteral("1.resid_post (gpt2)"));
    // The heatmap holds the same numbers; the pair across corpora is left blank.
    QCPColorMap *map = nullptr;
    for (int i = 0; i < dialog->heatmap()->plottableCount(); ++i)
        if (auto *m = qobject_cast<QCPColorMap *>(dialog->heatmap()->plottable(i)))
            map = m;
    QVERIFY(map);
    QCOMPARE(map->data()->keySize(), 5);
    QCOMPARE(map->data()->cell(1, 0), 0.5);
    QCOMPARE(map->data()->cell(0, 2), 0.2);
    QVERIFY(qIsNaN(map->data()->cell(4, 0)));
    auto *status = dialog->findChild<QLabel *>(QStringLiteral("itdaSimilarityStatus"));
    QVERIFY2(status->text().contains(QLatin1String("4 pair(s) built on different corpora")),
        qPrintable(status->text()));
    QVERIFY(dialog->width() <= 1366 && dialog->height() <= 768);
    QVERIFY(dialog->grab().save(
        QStringLiteral(FEATURESCOPE_ARTIFACTS) + "/itda-similarity-1000x640.png"));
    // A folder that is not ITDA: the job fails with its name, the results stay.
    dialog->setFolders({ folders[0],
        QString::fromStdString(fscope::test::fixture(QStringLiteral("sae/saelens_v6_jumprelu"))) });
    dialog->compare();
    QTRY_COMPARE_WITH_TIMEOUT(compared.count(), 2, 30000);
    QVERIFY(!compared.at(1).at(0).toBool());
    QVERIFY2(status->text().contains(QLatin1String("not an ITDA dictionary")),
        qPrintable(status->text()));
    QCOMPARE(table->rowCount(), 5);
}

QTEST_MAIN(TestDictionaryDashboard)
#include "tst_dictionary_dashboard.moc"
