// The workspace session round trip: a window's docks, feature on screen and panel setups are
// stored in the workspace when it closes and come back when it is opened again (by a new
// window, or after another workspace was open in between); a damaged session is ignored.

#include "core/store/database.h"
#include "tests/support/planted.h"
#include "ui/decompositionpanel.h"
#include "ui/featurebrowser.h"
#include "ui/jobrunner.h"
#include "ui/mainwindow.h"
#include "ui/matchpanel.h"
#include "ui/steeringpanel.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QToolBar>
#include <QtTest>

using namespace fscope;

namespace {
const std::vector<std::string> kWords = { " cat", " dog", " moon", " river" };
}

class TestSession : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    test::PlantedSetup m_setup;
    qint64 m_indexId = 0;

    QString path(const QString &name) const { return m_tmp.path() + QLatin1Char('/') + name; }

    std::unique_ptr<ui::MainWindow> openWindow(const QString &workspace, bool readOnly = false)
    {
        auto w = std::make_unique<ui::MainWindow>();
        w->resize(1300, 850);
        w->show();
        if (!QTest::qWaitForWindowExposed(w.get()))
            return nullptr;
        w->workspaceActions()->openWorkspaceAt(workspace, readOnly);
        if (!QTest::qWaitFor([&] { return !w->jobRunner()->busy(); }, 60000))
            return nullptr;
        return w;
    }
    template <class W> W *field(ui::MainWindow *w, const char *name)
    {
        W *found = w->findChild<W *>(QLatin1String(name));
        if (!found)
            qFatal("no %s named %s", W::staticMetaObject.className(), name);
        return found;
    }

private Q_SLOTS:
    void initTestCase();
    void sessionComesBackWithTheWorkspace();
    void anotherWorkspaceInBetween();
    void damagedSessionIsIgnored();
    void readOnlyWorkspaceKeepsItsSession();
};

void TestSession::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QSettings().clear();
    std::string error;
    m_setup = test::writePlantedSetup(m_tmp.path().toStdString(), kWords, &error);
    QVERIFY2(!m_setup.modelDir.empty(), error.c_str());
    test::writePlantedCorpus(path(QStringLiteral("corpus.txt")).toStdString(), kWords, 200, 1);
    auto db = core::store::Database::open(path(QStringLiteral("w.fsdb")).toStdString());
    QVERIFY(db);
    m_indexId = test::indexPlanted(
        **db, m_setup, path(QStringLiteral("corpus.txt")).toStdString(), &error);
    QVERIFY2(m_indexId > 0, error.c_str());
}

void TestSession::sessionComesBackWithTheWorkspace()
{
    {
        auto w = openWindow(path(QStringLiteral("w.fsdb")));
        QVERIFY(w);
        w->workbench()->showFeature(m_indexId, 2);
        w->steeringPanel()->setFeature(m_indexId, 3, QStringLiteral("ablate"));
        w->steeringPanel()->setPrompt(QStringLiteral("The river ran past the moon"));
        field<QSpinBox>(w.get(), "steerMaxTokens")->setValue(41);
        w->steeringPanel()->addExtraFeature(1, QStringLiteral("clamp"), 2.5);
        w->steeringPanel()->addExtraVector(path(QStringLiteral("v.npy")), -3);
        field<QLineEdit>(w.get(), "steerTarget")->setText(QStringLiteral(" dog"));
        field<QLineEdit>(w.get(), "decompositionVector")
            ->setText(path(QStringLiteral("vector.npy")));
        field<QSpinBox>(w.get(), "decompositionK")->setValue(7);
        field<QCheckBox>(w.get(), "matchFold")->setChecked(false);
        field<QLineEdit>(w.get(), "featureSearch")->setText(QStringLiteral("dog"));
        w->dock(QStringLiteral("jobs"))->hide();
        w->dock(QStringLiteral("decomposition"))->show();
        QVERIFY(w->close());
    }
    // Another window (a later start) with other settings: the workspace brings its session.
    QSettings().clear();
    auto w = openWindow(path(QStringLiteral("w.fsdb")));
    QVERIFY(w);
    QCOMPARE(w->workbench()->current().indexId, m_indexId);
    QCOMPARE(w->workbench()->current().feature, qint64(2));
    QCOMPARE(field<QSpinBox>(w.get(), "steerFeature")->value(), 3);
    QCOMPARE(
        field<QComboBox>(w.get(), "steerMode")->currentData().toString(), QStringLiteral("ablate"));
    QCOMPARE(field<QComboBox>(w.get(), "steerSae")->currentData().toLongLong(), m_indexId);
    QCOMPARE(field<QPlainTextEdit>(w.get(), "steerPrompt")->toPlainText(),
        QStringLiteral("The river ran past the moon"));
    QCOMPARE(field<QSpinBox>(w.get(), "steerMaxTokens")->value(), 41);
    const QJsonArray edits = w->steeringPanel()->extraEdits();
    QCOMPARE(edits.size(), 2);
    QCOMPARE(edits[0].toObject().value(QStringLiteral("feature")).toInteger(), qint64(1));
    QCOMPARE(edits[0].toObject().value(QStringLiteral("mode")).toString(), QStringLiteral("clamp"));
    QCOMPARE(edits[0].toObject().value(QStringLiteral("value")).toDouble(), 2.5);
    QCOMPARE(edits[1].toObject().value(QStringLiteral("vector")).toString(),
        path(QStringLiteral("v.npy")));
    QCOMPARE(edits[1].toObject().value(QStringLiteral("value")).toDouble(), -3.0);
    QCOMPARE(field<QLineEdit>(w.get(), "steerTarget")->text(), QStringLiteral(" dog"));
    QCOMPARE(field<QLineEdit>(w.get(), "decompositionVector")->text(),
        path(QStringLiteral("vector.npy")));
    QCOMPARE(field<QSpinBox>(w.get(), "decompositionK")->value(), 7);
    QVERIFY(!field<QCheckBox>(w.get(), "matchFold")->isChecked());
    QCOMPARE(field<QLineEdit>(w.get(), "featureSearch")->text(), QStringLiteral("dog"));
    QVERIFY(w->dock(QStringLiteral("jobs"))->isHidden());
    QVERIFY(!w->dock(QStringLiteral("decomposition"))->isHidden());
    w->close();
}

void TestSession::anotherWorkspaceInBetween()
{
    auto w = openWindow(path(QStringLiteral("w.fsdb")));
    QVERIFY(w);
    w->workbench()->showFeature(m_indexId, 1);
    w->steeringPanel()->setPrompt(QStringLiteral("first workspace"));
    // Opening another workspace saves this one's session first; the new one starts fresh.
    w->workspaceActions()->openWorkspaceAt(path(QStringLiteral("other.fsdb")));
    QTRY_VERIFY_WITH_TIMEOUT(!w->jobRunner()->busy(), 60000);
    QCOMPARE(w->workspaceActions()->workspacePath(), path(QStringLiteral("other.fsdb")));
    QVERIFY(!w->workbench()->current().valid());
    w->steeringPanel()->setPrompt(QStringLiteral("second workspace"));
    w->workspaceActions()->openWorkspaceAt(path(QStringLiteral("w.fsdb")));
    QTRY_VERIFY_WITH_TIMEOUT(!w->jobRunner()->busy(), 60000);
    QCOMPARE(w->workbench()->current().feature, qint64(1));
    QCOMPARE(field<QPlainTextEdit>(w.get(), "steerPrompt")->toPlainText(),
        QStringLiteral("first workspace"));
    w->workspaceActions()->openWorkspaceAt(path(QStringLiteral("other.fsdb")));
    QTRY_VERIFY_WITH_TIMEOUT(!w->jobRunner()->busy(), 60000);
    QCOMPARE(field<QPlainTextEdit>(w.get(), "steerPrompt")->toPlainText(),
        QStringLiteral("second workspace"));
    w->close();
}

void TestSession::damagedSessionIsIgnored()
{
    {
        auto db = core::store::Database::open(path(QStringLiteral("w.fsdb")).toStdString());
        QVERIFY(db);
        QVERIFY((*db)->setMeta("ui.session", "{not json"));
    }
    auto w = openWindow(path(QStringLiteral("w.fsdb")));
    QVERIFY(w);
    QCOMPARE(w->workspaceActions()->workspacePath(), path(QStringLiteral("w.fsdb")));
    QVERIFY(!w->restoreSession());
    QVERIFY2(w->statusBar()->currentMessage().contains(QLatin1String("session could not be read")),
        qPrintable(w->statusBar()->currentMessage()));
    // The workspace's data is untouched and the next save replaces the damaged session.
    w->workbench()->showFeature(m_indexId, 0);
    w->close();
    auto db = core::store::Database::open(path(QStringLiteral("w.fsdb")).toStdString());
    QVERIFY(db);
    QVERIFY(
        QJsonDocument::fromJson(QByteArray::fromStdString(*(*db)->meta("ui.session"))).isObject());
}

void TestSession::readOnlyWorkspaceKeepsItsSession()
{
    auto stored = [this] {
        auto db = core::store::Database::open(path(QStringLiteral("w.fsdb")).toStdString());
        return db ? (*db)->meta("ui.session").value() : std::string("(cannot open)");
    };
    const std::string before = stored();
    {
        auto w = openWindow(path(QStringLiteral("w.fsdb")), true);
        QVERIFY(w);
        w->resize(1366, 768);
        QVERIFY(w->workspaceActions()->database()->readOnly());
        auto *banner = w->findChild<QToolBar *>(QStringLiteral("readOnlyBanner"));
        QVERIFY(banner && banner->isVisible());
        QVERIFY(banner->findChild<QLabel *>()->text().contains(QStringLiteral("read-only")));
        // Browsing works as in any workspace.
        w->workbench()->showFeature(m_indexId, 1);
        QTRY_COMPARE_WITH_TIMEOUT(w->workbench()->current().feature, qint64(1), 10000);
        // Labels and notes show but take no edits.
        QTRY_VERIFY(field<QLineEdit>(w.get(), "labelEdit")->isReadOnly());
        QVERIFY(field<QPlainTextEdit>(w.get(), "notesEdit")->isReadOnly());
        QVERIFY(!field<QPushButton>(w.get(), "saveNotes")->isEnabled());
        field<QLineEdit>(w.get(), "featureSearch")->setText(QStringLiteral("moon"));
        QTest::qWait(200);
        const QString artifacts = QStringLiteral(FEATURESCOPE_ARTIFACTS);
        QVERIFY(QDir().mkpath(artifacts));
        QVERIFY(w->grab().save(artifacts + "/readonly-workspace-1366x768.png"));
        QVERIFY(w->close());
    }
    // Closing wrote no session into it; a writable open has no banner.
    QCOMPARE(stored(), before);
    auto w = openWindow(path(QStringLiteral("w.fsdb")));
    QVERIFY(w);
    auto *banner = w->findChild<QToolBar *>(QStringLiteral("readOnlyBanner"));
    QVERIFY(!banner || !banner->isVisible());
    w->workbench()->showFeature(m_indexId, 1);
    QTRY_COMPARE_WITH_TIMEOUT(w->workbench()->current().feature, qint64(1), 10000);
    QTRY_VERIFY(!field<QLineEdit>(w.get(), "labelEdit")->isReadOnly());
    QVERIFY(field<QPushButton>(w.get(), "saveNotes")->isEnabled());
    w->close();
}

QTEST_MAIN(TestSession)
#include "tst_session.moc"
