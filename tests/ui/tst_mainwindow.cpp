// The main window on the offscreen platform: docks, actions, the job runner and its
// progress surface, opening workspaces (and refusing a bad one without losing the open one).

#include "core/store/database.h"
#include "tests/support/testsupport.h"
#include "ui/jobrunner.h"
#include "ui/jobspanel.h"
#include "ui/mainwindow.h"
#include "ui/progresssurface.h"
#include "ui/workspaceactions.h"

#include <QAction>
#include <QDockWidget>
#include <QLabel>
#include <QMessageBox>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QTreeWidget>

#include <algorithm>
#include <atomic>
#include <thread>

using namespace fscope::ui;

class TestMainWindow : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void docksExist();
    void toggleActionHidesDock();
    void jobShowsProgressAndCancels();
    void failedJobIsReported();
    void openWorkspaceCreatesDatabase();
    void badWorkspaceKeepsCurrent();
    void geometryPersists();
    void openModelAndSaeReport();
};

void TestMainWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("FeaturescopeTests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_mainwindow"));
    QSettings().clear();
}

void TestMainWindow::docksExist()
{
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    for (const char *role :
        { "features", "prompt", "steering", "decomposition", "saeMatch", "jobs" }) {
        QDockWidget *d = w.dock(QLatin1String(role));
        QVERIFY2(d, role);
        QVERIFY2(d->widget(), role);
    }
    QVERIFY(w.findChild<QWidget *>(QStringLiteral("dashboardPanel")));
    QCOMPARE(w.centralWidget()->objectName(), QStringLiteral("dashboardPanel"));
    for (const char *name : { "actionNewWorkspace", "actionOpenWorkspace", "actionOpenModel",
             "actionAddSae", "actionAbout", "actionQuit" })
        QVERIFY2(w.findChild<QAction *>(QLatin1String(name)), name);
    QVERIFY(!w.progressSurface()->isVisible());
}

void TestMainWindow::toggleActionHidesDock()
{
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QDockWidget *features = w.dock(QStringLiteral("features"));
    QVERIFY(features->isVisible());
    auto *toggle = w.findChild<QAction *>(QStringLiteral("actionToggle_featuresDock"));
    QVERIFY(toggle);
    toggle->trigger();
    QVERIFY(!features->isVisible());
    toggle->trigger();
    QVERIFY(features->isVisible());

    w.findChild<QAction *>(QStringLiteral("actionAbout"))->trigger();
    QTRY_VERIFY(w.findChild<QDialog *>() && w.findChild<QDialog *>()->isVisible());
    // The About box says what runs the computation: the thread count (and the BLAS kernels).
    auto *about = w.findChild<QDialog *>()->findChild<QLabel *>(QStringLiteral("aboutText"));
    QVERIFY(about);
    QVERIFY2(
        about->text().contains(
            QStringLiteral("%1 threads").arg(std::max(1u, std::thread::hardware_concurrency()))),
        qPrintable(about->text()));
    w.findChild<QDialog *>()->close();
}

void TestMainWindow::jobShowsProgressAndCancels()
{
    MainWindow w;
    w.show();
    std::atomic<bool> sawCancel { false };
    const int id = w.jobRunner()->run(QStringLiteral("Counting"),
        [&](fscope::core::jobs::Progress &p) -> fscope::core::Result<std::string> {
            p.begin(1000, "Counting tokens");
            while (!p.cancelled()) {
                p.setDone(std::min<int64_t>(p.snapshot().done + 1, 500));
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            sawCancel = true;
            return fscope::core::Error { "cancelled" };
        });
    QTRY_VERIFY(w.progressSurface()->isVisible());
    QCOMPARE(w.progressSurface()->shownJob(), id);
    QTRY_VERIFY(w.jobRunner()->job(id)->progress.done > 0);
    auto *jobs = w.dock(QStringLiteral("jobs"))->findChild<QTreeWidget *>();
    QVERIFY(jobs);
    QTRY_COMPARE(jobs->topLevelItemCount(), 1);
    QTRY_VERIFY(jobs->topLevelItem(0)->text(3).endsWith(QLatin1String("/ 1000"))); // Progress
    QVERIFY(w.jobRunner()->busy());

    // The cancel button of the status-bar surface reaches the worker.
    auto *cancel = w.progressSurface()->findChild<QToolButton *>();
    QVERIFY(cancel);
    QTest::mouseClick(cancel, Qt::LeftButton);
    QTRY_VERIFY(!w.jobRunner()->busy());
    QVERIFY(sawCancel);
    QTRY_VERIFY(!w.progressSurface()->isVisible());
    QCOMPARE(jobs->topLevelItem(0)->text(1), QStringLiteral("Failed"));
}

void TestMainWindow::failedJobIsReported()
{
    MainWindow w;
    QSignalSpy finished(w.jobRunner(), &JobRunner::jobFinished);
    const int id = w.jobRunner()->run(QStringLiteral("Throws"),
        [](fscope::core::jobs::Progress &) -> fscope::core::Result<std::string> {
            throw std::runtime_error("boom");
        });
    QTRY_COMPARE(finished.count(), 1);
    QVERIFY(!w.jobRunner()->job(id)->succeeded);
    QVERIFY(w.jobRunner()->job(id)->outcome.contains(QLatin1String("boom")));
}

void TestMainWindow::openWorkspaceCreatesDatabase()
{
    QTemporaryDir dir;
    MainWindow w;
    w.show();
    const QString path = dir.filePath(QStringLiteral("study.fsdb"));
    QSignalSpy changed(w.workspaceActions(), &WorkspaceActions::workspaceChanged);
    w.workspaceActions()->openWorkspaceAt(path);
    QTRY_COMPARE(changed.count(), 1);
    QVERIFY(w.workspaceActions()->database());
    QCOMPARE(w.workspaceActions()->database()->queryText("PRAGMA journal_mode").value(),
        std::string("wal"));
    QCOMPARE(w.windowTitle(), QStringLiteral("study.fsdb - Featurescope"));
    QVERIFY(QFile::exists(path));
}

void TestMainWindow::badWorkspaceKeepsCurrent()
{
    QTemporaryDir dir;
    MainWindow w;
    w.show();
    const QString good = dir.filePath(QStringLiteral("good.fsdb"));
    QSignalSpy changed(w.workspaceActions(), &WorkspaceActions::workspaceChanged);
    w.workspaceActions()->openWorkspaceAt(good);
    QTRY_COMPARE(changed.count(), 1);

    const QString bad = dir.filePath(QStringLiteral("bad.fsdb"));
    fscope::test::writeFile(bad.toStdString(), std::string(4096, 'z'));
    QSignalSpy finished(w.jobRunner(), &JobRunner::jobFinished);
    w.workspaceActions()->openWorkspaceAt(bad);
    QTRY_COMPARE(finished.count(), 1);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(w.workspaceActions()->workspacePath(), good);
    auto *box = w.findChild<QMessageBox *>(QStringLiteral("errorMessage"));
    QVERIFY(box);
    QVERIFY2(box->text().contains(QLatin1String("bad.fsdb")), qPrintable(box->text()));
    QVERIFY(box->text().contains(QLatin1String("not a Featurescope workspace")));
    box->close();
}

void TestMainWindow::geometryPersists()
{
    {
        MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.resize(1000, 700);
        w.dock(QStringLiteral("features"))->hide();
        w.close();
    }
    MainWindow again;
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QCOMPARE(again.size(), QSize(1000, 700));
    QVERIFY(!again.dock(QStringLiteral("features"))->isVisible());
}

void TestMainWindow::openModelAndSaeReport()
{
    MainWindow w;
    w.show();
    QSignalSpy messages(w.workspaceActions(), &WorkspaceActions::message);
    w.workspaceActions()->inspectModelAt(
        QString::fromStdString(fscope::test::fixture(QStringLiteral("models/llama"))));
    QTRY_COMPARE(messages.count(), 1);
    const QString model = messages.at(0).at(0).toString();
    QVERIFY2(model.contains(QLatin1String("Model llama: 3 layers, d_model 32, vocabulary 96")),
        qPrintable(model));
    w.workspaceActions()->inspectSaeAt(
        QString::fromStdString(fscope::test::fixture(QStringLiteral("sae/saelens_v6_jumprelu"))));
    QTRY_COMPARE(messages.count(), 2);
    QCOMPARE(messages.at(1).at(0).toString(),
        QStringLiteral("jumprelu sae (saelens): 24 features on blocks.1.hook_resid_post, d_in 8"));
    // A folder that is not an SAE: a plain-words error naming it.
    QTemporaryDir empty;
    QSignalSpy finished(w.jobRunner(), &JobRunner::jobFinished);
    w.workspaceActions()->inspectSaeAt(empty.path());
    QTRY_COMPARE(finished.count(), 1);
    auto *box = w.findChild<QMessageBox *>(QStringLiteral("errorMessage"));
    QVERIFY(box);
    QVERIFY2(
        box->text().contains(empty.path()) && box->text().contains(QLatin1String("not an SAE")),
        qPrintable(box->text()));
    box->close();
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
