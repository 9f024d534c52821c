// A cross-layer transcoder in the workbench: one layer of a circuit-tracer CLT for the demo
// model, added as DIR#layer=L and indexed through the same job as any SAE; its feature
// dashboard shows where the feature writes (one bar per later layer, the block norms), which
// a single-hook SAE's dashboard leaves out; and a screenshot of it at laptop size.

#include "core/demo/demo_paths.h"
#include "core/io/torch_tensor.h"
#include "core/sae/dictionary_io.h"
#include "core/sae/itda.h"
#include "core/store/database.h"
#include "core/store/index_store.h"
#include "ui/dashboardcharts.h"
#include "ui/featuredashboard.h"
#include "ui/indexdialog.h"
#include "ui/jobrunner.h"
#include "ui/mainwindow.h"
#include "ui/qcustomplot_include.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"

#include <QDir>
#include <QLabel>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

using namespace fscope;

class TestDictionaryDashboard : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cltDashboardShowsWhereItWrites();
    void itdaDashboardNamesTheAtomsToken();
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
    window.resize(1366, 768);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.workspaceActions()->openWorkspaceAt(tmp.path() + "/clt.fsdb");
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobRunner()->busy(), 60000);
    ui::IndexSettings s;
    s.model = QString::fromStdString(demo->model);
    s.saes = { QString::fromStdString(core::sae::layerSelector(dir, 1)) };
    s.corpus = { QString::fromStdString(demo->corpus) };
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
    // The feature that fires most often, so the examples are not empty either.
    auto table = core::store::loadFeatureTable(*db, indexes->at(0).id);
    QVERIFY(table.ok());
    const auto busiest = std::max_element(table->count.begin(), table->count.end());
    QVERIFY(*busiest > 0);
    const int64_t feature = table->feature[size_t(busiest - table->count.begin())];
    window.workbench()->showFeature(indexes->at(0).id, feature);
    QTest::qWait(200);

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

QTEST_MAIN(TestDictionaryDashboard)
#include "tst_dictionary_dashboard.moc"
