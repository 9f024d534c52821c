// The Hub from the GUI, against the loopback Hub of tst_hub (tests/core/hub/hub_server.py,
// 127.0.0.1 only): the Add SAE dialog lists a release and offers only the site / layer / width
// / L0 combinations it holds, the chosen hf:// name is downloaded (that folder only) and read
// by the SAE job, a Hub model name is downloaded and read by the model job, a repository with
// no SAE says what it holds; and a screenshot of the dialog at laptop size.

#include "tests/support/testsupport.h"
#include "ui/hubsourcedialog.h"
#include "ui/jobrunner.h"
#include "ui/mainwindow.h"
#include "ui/workspaceactions.h"

#include <QComboBox>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

namespace fs = std::filesystem;
using namespace fscope;
using namespace fscope::ui;

namespace {
const char *kCommit = "89abcdef0123456789abcdef0123456789abcdef";
}

class TestHubUi : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void releaseChoicesAreTheReleasesOwn();
    void chosenSaeIsDownloadedAndRead();
    void hubModelIsDownloadedAndRead();
    void repositoryWithoutSaesSaysWhatItHolds();

private:
    QTemporaryDir m_dir;
    QProcess m_server;
    std::string m_served;
};

void TestHubUi::initTestCase()
{
    QVERIFY(m_dir.isValid());
    QSettings().clear();
    m_served = m_dir.path().toStdString() + "/served";
    // org/scope: a Gemma Scope 2-shaped release; every folder holds the same small SAELens SAE,
    // so whichever is chosen can be read.
    for (const char *folder :
        { "resid_post/layer_1_width_16k_l0_small", "resid_post/layer_1_width_16k_l0_big",
            "resid_post/layer_2_width_65k_l0_medium", "mlp_out/layer_1_width_16k_l0_small" }) {
        const std::string dir = m_served + "/scope/" + folder;
        fs::create_directories(dir);
        for (const char *f : { "cfg.json", "sae_weights.safetensors" })
            fs::copy_file(
                fscope::test::fixture(QString("sae/saelens_v6_jumprelu/") + f), dir + "/" + f);
    }
    fs::create_directories(m_served + "/model");
    for (const char *f : { "config.json", "model.safetensors" })
        fs::copy_file(fscope::test::fixture(QString("models/gpt2/") + f), m_served + "/model/" + f);
    QJsonObject repos;
    for (const char *name : { "scope", "model" })
        repos.insert(QString("org/") + name,
            QJsonObject { { "commit", kCommit }, { "refs", QJsonObject { { "main", kCommit } } },
                { "dir", QString::fromStdString(m_served + "/" + name) } });
    const std::string manifest = m_dir.path().toStdString() + "/manifest.json";
    fscope::test::writeFile(
        manifest, QJsonDocument(QJsonObject { { "repos", repos } }).toJson().toStdString());
    m_server.start("/usr/bin/python3",
        { QString::fromStdString(
              std::string(FEATURESCOPE_SOURCE_DIR) + "/tests/core/hub/hub_server.py"),
            QString::fromStdString(manifest) });
    QVERIFY(m_server.waitForStarted(10000));
    QVERIFY2(m_server.waitForReadyRead(20000), qPrintable(m_server.readAllStandardError()));
    const int port = m_server.readLine().trimmed().toInt();
    QVERIFY(port > 0);
    // The jobs read the Hub settings from the environment, as the app does.
    qputenv("HF_ENDPOINT", QByteArray("http://127.0.0.1:") + QByteArray::number(port));
    qputenv("HF_HUB_CACHE", (m_dir.path() + "/hub").toUtf8());
    qputenv("HF_TOKEN_PATH", (m_dir.path() + "/no-token").toUtf8());
    qunsetenv("HF_TOKEN");
    qunsetenv("HF_HUB_OFFLINE");
}

void TestHubUi::cleanupTestCase()
{
    m_server.kill();
    m_server.waitForFinished(5000);
}

void TestHubUi::releaseChoicesAreTheReleasesOwn()
{
    JobRunner runner;
    HubSourceDialog dialog(HubSourceDialog::Kind::Sae, &runner);
    dialog.resize(dialog.sizeHint());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QSignalSpy listed(&dialog, &HubSourceDialog::releaseListed);
    auto *repo = dialog.findChild<QLineEdit *>(QStringLiteral("hubReleaseRepo"));
    QVERIFY(repo);
    QTest::keyClicks(repo, QStringLiteral("org/scope"));
    QTest::keyClick(repo, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(listed.count(), 1, 30000);
    QCOMPARE(listed.at(0).at(0).toInt(), 4);

    auto *site = dialog.findChild<QComboBox *>(QStringLiteral("hubSite"));
    auto *layer = dialog.findChild<QComboBox *>(QStringLiteral("hubLayer"));
    auto *width = dialog.findChild<QComboBox *>(QStringLiteral("hubWidth"));
    auto *l0 = dialog.findChild<QComboBox *>(QStringLiteral("hubL0"));
    QVERIFY(site && layer && width && l0);
    QCOMPARE(site->count(), 2); // mlp_out, resid_post
    QCOMPARE(site->itemText(0), QStringLiteral("mlp_out"));
    // mlp_out has one layer, one width and one L0: nothing to choose, and the name is set.
    QVERIFY(!layer->isEnabled());
    QCOMPARE(dialog.name(), QStringLiteral("hf://org/scope/mlp_out/layer_1_width_16k_l0_small"));
    site->setCurrentIndex(1);
    QCOMPARE(layer->count(), 2);
    QVERIFY(layer->isEnabled());
    QCOMPARE(layer->currentText(), QStringLiteral("1"));
    QCOMPARE(width->count(), 1); // layer 1 of resid_post has only 16k
    QCOMPARE(l0->count(), 2);
    QCOMPARE(l0->itemText(0), QStringLiteral("small")); // small before big
    l0->setCurrentIndex(1);
    QCOMPARE(dialog.name(), QStringLiteral("hf://org/scope/resid_post/layer_1_width_16k_l0_big"));
    QCOMPARE(dialog.matchingEntries(), 1);
    // Layer 2 offers its own width and L0 only.
    layer->setCurrentIndex(1);
    QCOMPARE(width->currentText(), QStringLiteral("65k"));
    QCOMPARE(l0->count(), 1);
    QCOMPARE(
        dialog.name(), QStringLiteral("hf://org/scope/resid_post/layer_2_width_65k_l0_medium"));
    auto *status = dialog.findChild<QLabel *>(QStringLiteral("hubReleaseStatus"));
    QVERIFY(status->text().contains(QLatin1String("4 SAEs in org/scope")));
    QVERIFY(status->text().contains(QString::fromLatin1(kCommit).left(7)));

    const QString artifacts = QStringLiteral(FEATURESCOPE_ARTIFACTS);
    QVERIFY(QDir().mkpath(artifacts));
    QVERIFY(dialog.width() <= 1366 && dialog.height() <= 768);
    QVERIFY(dialog.grab().save(artifacts + "/hub-sae-dialog.png"));
}

void TestHubUi::chosenSaeIsDownloadedAndRead()
{
    MainWindow w;
    w.resize(1366, 768);
    w.show();
    QSignalSpy messages(w.workspaceActions(), &WorkspaceActions::message);
    w.workspaceActions()->inspectSaeAt(
        QStringLiteral("hf://org/scope/resid_post/layer_1_width_16k_l0_big"));
    QTRY_COMPARE_WITH_TIMEOUT(messages.count(), 1, 60000);
    const QString text = messages.at(0).at(0).toString();
    QVERIFY2(text.startsWith(QLatin1String(
                 "jumprelu sae (saelens): 24 features on blocks.1.hook_resid_post, d_in 8")),
        qPrintable(text));
    QVERIFY2(text.contains(QLatin1String("in the Hugging Face cache at")), qPrintable(text));
    // That folder came down, in the shared cache layout; the release's other folders did not.
    const fs::path snapshot = fs::path(m_dir.path().toStdString()) / "hub" / "models--org--scope"
        / "snapshots" / kCommit;
    QVERIFY(fs::exists(snapshot / "resid_post/layer_1_width_16k_l0_big/sae_weights.safetensors"));
    QVERIFY(!fs::exists(snapshot / "resid_post/layer_1_width_16k_l0_small"));
    QVERIFY(!fs::exists(snapshot / "mlp_out"));
}

void TestHubUi::hubModelIsDownloadedAndRead()
{
    MainWindow w;
    w.show();
    QSignalSpy messages(w.workspaceActions(), &WorkspaceActions::message);
    w.workspaceActions()->inspectModelAt(QStringLiteral("org/model"));
    QTRY_COMPARE_WITH_TIMEOUT(messages.count(), 1, 60000);
    const QString text = messages.at(0).at(0).toString();
    QVERIFY2(text.startsWith(QLatin1String("Model gpt2: ")), qPrintable(text));
    QVERIFY(fs::exists(fs::path(m_dir.path().toStdString()) / "hub" / "models--org--model"
        / "snapshots" / kCommit / "model.safetensors"));
    // Once cached it is offered in the Open Model dialog.
    HubSourceDialog dialog(HubSourceDialog::Kind::Model, w.jobRunner());
    auto *cached = dialog.findChild<QComboBox *>(QStringLiteral("hubCachedModels"));
    QVERIFY(cached);
    QVERIFY(cached->findText(QStringLiteral("org/model")) > 0);
}

void TestHubUi::repositoryWithoutSaesSaysWhatItHolds()
{
    JobRunner runner;
    HubSourceDialog dialog(HubSourceDialog::Kind::Sae, &runner);
    QSignalSpy listed(&dialog, &HubSourceDialog::releaseListed);
    dialog.listRelease(QStringLiteral("org/model"));
    QTRY_COMPARE_WITH_TIMEOUT(listed.count(), 1, 30000);
    QCOMPARE(listed.at(0).at(0).toInt(), 0);
    const QString status = dialog.findChild<QLabel *>(QStringLiteral("hubReleaseStatus"))->text();
    QVERIFY2(status.contains(QLatin1String("holds no SAE folder"))
            && status.contains(QLatin1String("model.safetensors")),
        qPrintable(status));
    QVERIFY(!dialog.findChild<QComboBox *>(QStringLiteral("hubSite"))->isEnabled());
}

QTEST_MAIN(TestHubUi)
#include "tst_hub_ui.moc"
