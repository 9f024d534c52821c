// Explain Features in the workbench, on a workspace indexed in the test from the planted model
// and SAE, against the loopback chat server's oracle judge (tests/core/interp/chat_server.py):
// the dialog starts core's job, the browser gains Explanation and Score columns that sort and
// search, the dashboard shows the explanation, its scores and the judged texts, "Use as label"
// labels the feature; a dialog without an endpoint says so. Saves a screenshot at laptop size.

#include "core/store/database.h"
#include "core/store/index_store.h"
#include "tests/support/planted.h"
#include "ui/explaindialog.h"
#include "ui/explanationpanel.h"
#include "ui/featurebrowser.h"
#include "ui/featuredashboard.h"
#include "ui/featuretablemodel.h"
#include "ui/indexdialog.h"
#include "ui/jobrunner.h"
#include "ui/mainwindow.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"

#include <QComboBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QToolButton>
#include <QtTest>

using namespace fscope;

namespace {
const std::vector<std::string> kWords = { " cat", " dog", " moon", " river" };
}

class TestExplainUi : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    test::PlantedSetup m_setup;
    std::unique_ptr<ui::MainWindow> m_window;
    QProcess m_server;
    QString m_endpoint;

    QString path(const char *name) const { return m_tmp.path() + "/" + name; }
    void waitForJobs() { QTRY_VERIFY_WITH_TIMEOUT(!m_window->jobRunner()->busy(), 180000); }

private Q_SLOTS:
    void initTestCase();
    void dialogNamesWhatIsMissing();
    void explainFillsBrowserAndDashboard();
    void cleanupTestCase();
};

void TestExplainUi::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QSettings().clear();
    std::string error;
    m_setup = test::writePlantedSetup(m_tmp.path().toStdString(), kWords, &error);
    QVERIFY2(!m_setup.modelDir.empty(), error.c_str());
    test::writePlantedCorpus(path("corpus.txt").toStdString(), kWords, 400, 1);

    m_server.start("/usr/bin/python3",
        { QStringLiteral(FEATURESCOPE_SOURCE_DIR "/tests/core/interp/chat_server.py") });
    QVERIFY(m_server.waitForStarted(10000));
    QVERIFY(m_server.waitForReadyRead(20000));
    m_endpoint
        = QStringLiteral("http://127.0.0.1:%1/v1").arg(m_server.readLine().trimmed().toInt());

    m_window = std::make_unique<ui::MainWindow>();
    m_window->resize(1366, 768);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_window->workspaceActions()->openWorkspaceAt(path("planted.fsdb"));
    waitForJobs();
    ui::IndexSettings s;
    s.model = QString::fromStdString(m_setup.modelDir);
    s.saes = { QString::fromStdString(m_setup.saeDir) };
    s.corpus = { path("corpus.txt") };
    s.tokens = QStringLiteral("8k");
    s.contextLength = 64;
    s.device = QStringLiteral("cpu");
    const int job = m_window->indexCorpus(s);
    QVERIFY(job > 0);
    waitForJobs();
    QVERIFY2(m_window->jobRunner()->job(job)->succeeded,
        qPrintable(m_window->jobRunner()->job(job)->outcome));
    QTRY_COMPARE(m_window->featureBrowser()->model()->totalFeatures(), m_setup.features);
}

void TestExplainUi::cleanupTestCase()
{
    m_window.reset();
    m_server.kill();
    m_server.waitForFinished(5000);
}

void TestExplainUi::dialogNamesWhatIsMissing()
{
    ui::ExplainDialog dialog(m_window->workbench());
    dialog.findChild<QLineEdit *>(QStringLiteral("explainEndpoint"))->clear();
    QCOMPARE(dialog.start(), 0);
    QVERIFY(dialog.findChild<QLabel *>(QStringLiteral("explainError"))
                ->text()
                .contains(QStringLiteral("endpoint")));
    dialog.findChild<QLineEdit *>(QStringLiteral("explainEndpoint"))->setText(m_endpoint);
    dialog.findChild<QLineEdit *>(QStringLiteral("explainModel"))->setText("oracle");
    auto *ids = dialog.findChild<QLineEdit *>(QStringLiteral("explainIds"));
    ids->setText(QStringLiteral("3, x"));
    for (auto *radio : dialog.findChildren<QRadioButton *>())
        if (radio->text() == QStringLiteral("Features"))
            radio->setChecked(true);
    QCOMPARE(dialog.start(), 0);
    QVERIFY(dialog.findChild<QLabel *>(QStringLiteral("explainError"))
                ->text()
                .contains(QStringLiteral("'x'")));
}

void TestExplainUi::explainFillsBrowserAndDashboard()
{
    auto *browser = m_window->featureBrowser();
    QVERIFY(browser->view()->isColumnHidden(ui::FeatureTableModel::ExplanationCol));
    {
        ui::ExplainDialog dialog(m_window->workbench());
        dialog.findChild<QLineEdit *>(QStringLiteral("explainEndpoint"))->setText(m_endpoint);
        dialog.findChild<QLineEdit *>(QStringLiteral("explainModel"))->setText("oracle");
        dialog.findChild<QLineEdit *>(QStringLiteral("explainIds"))->setText("0-3");
        for (auto *radio : dialog.findChildren<QRadioButton *>())
            if (radio->text() == QStringLiteral("Features"))
                radio->setChecked(true);
        const int job = dialog.start();
        QVERIFY(job > 0);
        waitForJobs();
        const auto *state = m_window->jobRunner()->job(job);
        QVERIFY2(state->succeeded, qPrintable(state->outcome));
        QVERIFY2(state->outcome.contains(QStringLiteral("4 features explained (0 failed)")),
            qPrintable(state->outcome));
    }
    // The browser shows both columns; the score sorts and the search finds explanations.
    auto *model = browser->model();
    QTRY_VERIFY(!browser->view()->isColumnHidden(ui::FeatureTableModel::ExplanationCol));
    QVERIFY(!browser->view()->isColumnHidden(ui::FeatureTableModel::ScoreCol));
    const int row = model->rowOf(1);
    QVERIFY(row >= 0);
    QCOMPARE(model->data(model->index(row, ui::FeatureTableModel::ExplanationCol)).toString(),
        QStringLiteral("the word \"dog\""));
    QCOMPARE(model->data(model->index(row, ui::FeatureTableModel::ScoreCol)).toString(),
        QStringLiteral("1.00"));
    model->sort(ui::FeatureTableModel::ScoreCol, Qt::DescendingOrder);
    for (int r = 0; r < 4; ++r)
        QVERIFY(model->featureAt(r) < 4);
    QVERIFY(model->data(model->index(4, ui::FeatureTableModel::ScoreCol)).toString().isEmpty());
    auto *search = browser->findChild<QLineEdit *>(QStringLiteral("featureSearch"));
    search->setText(QStringLiteral("moon"));
    QTest::keyClick(search, Qt::Key_Return);
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->featureAt(0), qint64(2));

    // The dashboard: the explanation, its scores, the judged texts, and "Use as label".
    m_window->workbench()->showFeature(browser->indexId(), 2);
    auto *panel = m_window->findChild<ui::ExplanationPanel *>(QStringLiteral("explanationPanel"));
    QVERIFY(panel);
    QTRY_VERIFY(panel->isVisible());
    QCOMPARE(panel->explanation(), QStringLiteral("the word \"moon\""));
    QVERIFY(panel->scoresText().contains(QStringLiteral("detection 1.00")));
    QVERIFY(panel->scoresText().contains(QStringLiteral("fuzzing 1.00")));
    panel->findChild<QPushButton *>(QStringLiteral("showScoredExamples"))->click();
    QVERIFY(panel->details()->isVisible());
    const QString judged = panel->details()->toPlainText();
    QVERIFY(judged.contains(QStringLiteral("right")));
    QVERIFY(!judged.contains(QStringLiteral("wrong")));
    QDir().mkpath(QStringLiteral(FEATURESCOPE_ARTIFACTS));
    QVERIFY(panel->details()->window()->grab().save(
        QStringLiteral(FEATURESCOPE_ARTIFACTS "/explain-scored-texts.png")));
    panel->details()->window()->close();
    // The explanation strip takes one line: the dashboard's buttons keep their height.
    QVERIFY(panel->height() <= 2 * panel->fontMetrics().height() + 16);
    auto *steer = m_window->findChild<QPushButton *>(QStringLiteral("steerButton"));
    QVERIFY(steer->height() >= steer->sizeHint().height());
    QVERIFY(m_window->grab().save(QStringLiteral(FEATURESCOPE_ARTIFACTS "/explain-1366x768.png")));
    panel->findChild<QPushButton *>(QStringLiteral("useExplanationAsLabel"))->click();
    auto label = core::store::label(*m_window->workspaceActions()->database(),
        core::store::indexInfo(*m_window->workspaceActions()->database(), browser->indexId())
            ->saeId,
        2);
    QVERIFY(label);
    QCOMPARE(label->first, std::string("the word \"moon\""));
    search->clear();
    QTRY_COMPARE(
        model->data(model->index(model->rowOf(2), ui::FeatureTableModel::LabelCol)).toString(),
        QStringLiteral("the word \"moon\""));
}

QTEST_MAIN(TestExplainUi)
#include "tst_explain_ui.moc"
