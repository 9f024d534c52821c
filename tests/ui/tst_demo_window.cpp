// `featurescope` with no arguments: the demo workspace is created in the user's cache
// directory, indexed for every demo SAE as a job, labelled from the manifest, and every panel
// gets content (a labelled feature on the dashboard, the example vector in the decomposition
// panel, the steering prompt, SAE Match over the per-layer series). Reopening computes nothing.

#include "core/demo/demo_paths.h"
#include "core/match/match_series.h"
#include "core/store/index_store.h"
#include "ui/decompositionpanel.h"
#include "ui/featurebrowser.h"
#include "ui/featuredashboard.h"
#include "ui/featuretablemodel.h"
#include "ui/jobrunner.h"
#include "ui/mainwindow.h"
#include "ui/matchpanel.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"

#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using namespace fscope;

class TestDemoWindow : public QObject {
    Q_OBJECT
    QTemporaryDir m_cache;

private Q_SLOTS:
    void initTestCase();
    void firstOpenPopulatesEveryPanel();
    void reopenComesFromTheWorkspace();
};

void TestDemoWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    qputenv("XDG_CACHE_HOME", m_cache.path().toUtf8());
    // FEATURESCOPE_TEST_DEVICE=cuda: the demo indexes and runs on the GPU (scripts/test-gpu).
    if (const QString d = qEnvironmentVariable("FEATURESCOPE_TEST_DEVICE"); !d.isEmpty())
        QSettings().setValue(QStringLiteral("compute/device"),
            d == QLatin1String("cuda") ? QStringLiteral("cuda:0") : d);
    QVERIFY(core::demo::locateDemo().ok());
}

void TestDemoWindow::firstOpenPopulatesEveryPanel()
{
    ui::MainWindow window;
    window.resize(1400, 900);
    window.show();
    QElapsedTimer timer;
    timer.start();
    QSignalSpy ready(&window, &ui::MainWindow::demoReady);
    QVERIFY(window.openDemo());
    // While the demo indexes, the empty dashboard says what is computed and how far along.
    auto *activity = window.dashboard()->findChild<QLabel *>(QStringLiteral("emptyStateActivity"));
    QVERIFY(activity);
    QTRY_VERIFY_WITH_TIMEOUT(
        activity->text().contains(QStringLiteral("Index the demo corpus")) || ready.count() == 1,
        300000);
    if (ready.count() == 0) {
        QVERIFY(activity->isVisibleTo(window.dashboard()));
        QTest::qWait(100);
        QVERIFY(window.grab().save(QStringLiteral(FEATURESCOPE_ARTIFACTS "/demo-indexing.png")));
    }
    // The workspace opens, then indexing runs as a job, then SAE Match as another.
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1, 900000);
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobRunner()->busy(), 300000);
    qInfo("demo ready after %.1f s (open + first indexing + SAE Match)",
        double(timer.elapsed()) / 1000);
    const auto assets = *core::demo::locateDemo();
    QCOMPARE(QFileInfo(window.workspaceActions()->workspacePath()).absoluteFilePath(),
        QFileInfo(QString::fromStdString(core::demo::demoWorkspacePath())).absoluteFilePath());

    auto *db = window.workspaceActions()->database();
    QVERIFY(db);
    auto indexes = core::store::listIndexes(*db);
    QVERIFY(indexes.ok());
    QCOMPARE(indexes->size(), assets.saes.size());
    // The dashboard opens on the first labelled feature, label shown.
    const auto &first = assets.labels.front();
    const auto ref = window.workbench()->current();
    auto info = core::store::indexInfo(*db, ref.indexId);
    QVERIFY(info.ok());
    QVERIFY(info->saePath.find(first.sae) != std::string::npos);
    QCOMPARE(ref.feature, first.feature);
    auto stored = core::store::label(*db, info->saeId, first.feature);
    QCOMPARE(stored->first, first.label);
    QVERIFY(window.featureBrowser()->model()->rowCount() > 0);
    // Decomposition example and SAE Match over the four per-layer SAEs (three links).
    auto *vector = window.decompositionPanel()->findChild<QLineEdit *>(
        QStringLiteral("decompositionVector"));
    QVERIFY(vector);
    QCOMPARE(vector->text(), QString::fromStdString(assets.vector));
    const auto *match = window.matchPanel()->result();
    QVERIFY(match);
    QCOMPARE(match->links.size(), size_t(3));
    for (const auto &link : match->links) {
        QVERIFY(link.result.meanMse > 0.0 && std::isfinite(link.result.meanMse));
        QCOMPARE(link.result.pairs.size(), size_t(2048));
        // Independently initialised SAEs: the match is a search, not feature i -> feature i
        // (which is what SAEs trained briefly from one shared seed would give).
        size_t identity = 0;
        for (const auto &p : link.result.pairs)
            identity += p.a == p.b;
        qInfo("link %lld->%lld: %.1f%% good, %.1f%% of pairs i->i", (long long)link.from,
            (long long)link.to, 100 * link.result.goodShare,
            100.0 * double(identity) / double(link.result.pairs.size()));
        QVERIFY(identity < link.result.pairs.size() / 10);
    }

    const QString dir = QStringLiteral(FEATURESCOPE_ARTIFACTS);
    QVERIFY(QDir().mkpath(dir));
    QTest::qWait(200);
    QVERIFY(window.grab().save(dir + "/demo.png"));
    QVERIFY(window.matchPanel()->grab().save(dir + "/demo-sae-match.png"));
    // The laptop and desktop sizes people look at (docs: screenshots are looked at, not
    // asserted on).
    for (const QSize size : { QSize(1366, 768), QSize(1920, 1080) }) {
        window.resize(size);
        QTest::qWait(300);
        QVERIFY(window.grab().save(
            dir + QStringLiteral("/demo-%1x%2.png").arg(size.width()).arg(size.height())));
        // The whole window fits the laptop size (nothing sets a larger minimum).
        if (size.width() == 1366)
            QVERIFY2(window.minimumSizeHint().width() <= 1366,
                qPrintable(QString::number(window.minimumSizeHint().width())));
    }
}

void TestDemoWindow::reopenComesFromTheWorkspace()
{
    ui::MainWindow window;
    window.show();
    QSignalSpy ready(&window, &ui::MainWindow::demoReady);
    QVERIFY(window.openDemo());
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1, 300000);
    QTRY_VERIFY_WITH_TIMEOUT(!window.jobRunner()->busy(), 300000);
    QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("from the workspace"))
            || window.statusBar()->currentMessage().isEmpty(),
        qPrintable(window.statusBar()->currentMessage()));
    auto *db = window.workspaceActions()->database();
    auto indexes = core::store::listIndexes(*db);
    QCOMPARE(indexes->size(), core::demo::locateDemo()->saes.size()); // no second set of indexes
}

int main(int argc, char **argv)
{
    // The first indexing takes minutes on two cores: more than Qt Test's 5-minute default.
    qputenv("QTEST_FUNCTION_TIMEOUT", "1800000");
    QApplication app(argc, argv);
    TestDemoWindow test;
    return QTest::qExec(&test, argc, argv);
}
#include "tst_demo_window.moc"
