// The workbench's compute choice on a planted model and SAE: one device and precision (the status
// bar and Edit > Preferences, remembered) reach every job kind and are recorded with each result;
// an out-of-memory in the prompt inspector, in steering or in any other job is a message that
// names it and leaves the window usable; File > Unload Models frees the resident models.
// FEATURESCOPE_TEST_DEVICE=cuda runs the same checks with the engine on a GPU.

#include "core/model/model_cache.h"
#include "core/store/database.h"
#include "core/store/index_store.h"
#include "core/store/result_cache.h"
#include "core/util/fault_points.h"
#include "tests/support/planted.h"
#include "ui/computestatus.h"
#include "ui/decompositionpanel.h"
#include "ui/indexdialog.h"
#include "ui/jobrunner.h"
#include "ui/jobspanel.h"
#include "ui/mainwindow.h"
#include "ui/matchpanel.h"
#include "ui/preferencesdialog.h"
#include "ui/promptinspector.h"
#include "ui/steeringpanel.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"

#include <c10/util/Exception.h>

#include <QAction>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include <map>
#include <set>

using namespace fscope;

namespace {
const std::vector<std::string> kWords = { " cat", " dog", " moon", " river" };

// The device the suite runs its engine on: the CPU unless FEATURESCOPE_TEST_DEVICE says.
QString testDevice()
{
    const QString d = qEnvironmentVariable("FEATURESCOPE_TEST_DEVICE");
    return d.isEmpty() ? QStringLiteral("cpu") : d == QLatin1String("cuda") ? "cuda:0" : d;
}
} // namespace

class TestCompute : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    test::PlantedSetup m_setup;
    std::unique_ptr<ui::MainWindow> m_window;
    qint64 m_indexId = 0;

    QString path(const char *name) const { return m_tmp.path() + "/" + name; }
    void waitForJobs() { QTRY_VERIFY_WITH_TIMEOUT(!m_window->jobRunner()->busy(), 120000); }
    // The job once it ended; null when it could not start.
    const ui::JobState *finished(int job)
    {
        if (job <= 0)
            return nullptr;
        if (!QTest::qWaitFor([this] { return !m_window->jobRunner()->busy(); }, 120000))
            return nullptr;
        return m_window->jobRunner()->job(job);
    }
    ui::IndexSettings indexSettings() const
    {
        ui::IndexSettings s;
        s.model = QString::fromStdString(m_setup.modelDir);
        s.saes = { QString::fromStdString(m_setup.saeDir) };
        s.corpus = { path("corpus.txt") };
        s.tokens = QStringLiteral("4k");
        s.contextLength = 32;
        s.batchSize = 8;
        return s;
    }

private Q_SLOTS:
    void initTestCase();
    void oneChoiceInTheStatusBarAndPreferences();
    void everyJobRunsOnTheChoiceAndRecordsIt();
    void outOfMemoryIsAMessage();
    void unloadFreesTheModels();
    void cleanupTestCase();
};

void TestCompute::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QSettings().clear();
    std::string error;
    m_setup = test::writePlantedSetup(m_tmp.path().toStdString(), kWords, &error);
    QVERIFY2(!m_setup.modelDir.empty(), error.c_str());
    test::writePlantedCorpus(path("corpus.txt").toStdString(), kWords, 200, 1);
    m_window = std::make_unique<ui::MainWindow>();
    m_window->resize(1366, 768);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_window->workspaceActions()->openWorkspaceAt(path("compute.fsdb"));
    waitForJobs();
    QVERIFY(m_window->workspaceActions()->database());
    ui::IndexSettings s = indexSettings();
    s.device = testDevice();
    const auto *job = finished(m_window->indexCorpus(s));
    QVERIFY2(job->succeeded, qPrintable(job->outcome));
    auto list = core::store::listIndexes(*m_window->workspaceActions()->database());
    QVERIFY(list.ok() && list->size() == 1);
    m_indexId = list->front().id;
    // The index says where it was computed: f32 on the CPU, bf16 on a GPU (auto).
    QCOMPARE(QString::fromStdString(list->front().device),
        testDevice() + (testDevice() == "cpu" ? " f32" : " bf16"));
}

void TestCompute::oneChoiceInTheStatusBarAndPreferences()
{
    ui::ComputeStatus *status = m_window->computeStatus();
    QVERIFY(status);
    QCOMPARE(status->deviceChoice()->currentData().toString(), QStringLiteral("auto"));
    QVERIFY(status->deviceChoice()->findData(QStringLiteral("cpu")) >= 0);
    QVERIFY(status->deviceChoice()->itemText(0).startsWith(QStringLiteral("device: auto (")));
    // Edit > Preferences sets both; the status bar follows and the choice is remembered.
    auto *action = m_window->findChild<QAction *>(QStringLiteral("actionPreferences"));
    QVERIFY(action);
    action->trigger();
    auto *dialog = m_window->findChild<ui::PreferencesDialog *>();
    QVERIFY(dialog);
    dialog->deviceChoice()->setCurrentIndex(dialog->deviceChoice()->findData(testDevice()));
    dialog->dtypeChoice()->setCurrentIndex(dialog->dtypeChoice()->findData(QStringLiteral("bf16")));
    QCOMPARE(m_window->workbench()->dtype(), QStringLiteral("auto")); // nothing before OK
    auto *ok = dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
    ok->click();
    QCOMPARE(m_window->workbench()->device(), testDevice());
    QCOMPARE(m_window->workbench()->dtype(), QStringLiteral("bf16"));
    QCOMPARE(QSettings().value(QStringLiteral("compute/dtype")).toString(), QStringLiteral("bf16"));
    QCOMPARE(status->deviceChoice()->currentData().toString(), testDevice());
    QCOMPARE(status->dtypeChoice()->currentData().toString(), QStringLiteral("bf16"));
    // The status bar's precision changes the workbench's the same way.
    status->dtypeChoice()->setCurrentIndex(status->dtypeChoice()->findData(QStringLiteral("f32")));
    QCOMPARE(m_window->workbench()->dtype(), QStringLiteral("f32"));
    status->dtypeChoice()->setCurrentIndex(status->dtypeChoice()->findData(QStringLiteral("bf16")));
    // The index dialog starts from the same choice.
    ui::IndexDialog index;
    index.setCompute(m_window->workbench()->device(), m_window->workbench()->dtype());
    QCOMPARE(index.settings().device, testDevice());
    QCOMPARE(index.settings().dtype, QStringLiteral("bf16"));
}

void TestCompute::everyJobRunsOnTheChoiceAndRecordsIt()
{
    // bf16 is not the CPU's default precision: seeing it in every job proves the choice reached
    // the job, not a default that happens to agree.
    m_window->workbench()->setDevice(testDevice());
    m_window->workbench()->setDtype(QStringLiteral("bf16"));
    const QString expected = testDevice() + " bf16";
    const QString weightsOnly = testDevice() + " f32"; // SAE-only work runs in float32
    auto &models = m_window->workbench()->models();
    models.clear();
    const auto check = [&](int id, const QString &want, const char *what) {
        const ui::JobState *job = finished(id);
        QVERIFY2(job, what);
        QVERIFY2(job->succeeded, qPrintable(QString(what) + ": " + job->outcome));
        QVERIFY2(QString::fromStdString(job->progress.device) == want,
            qPrintable(QString("%1 ran on '%2', not '%3'")
                           .arg(what, QString::fromStdString(job->progress.device), want)));
    };

    ui::IndexSettings s = indexSettings();
    s.device = m_window->workbench()->device();
    s.dtype = m_window->workbench()->dtype();
    check(m_window->indexCorpus(s), expected, "index");
    check(m_window->promptInspector()->inspect(QStringLiteral("the dog and the moon"), m_indexId),
        expected, "inspect");
    auto *steering = m_window->steeringPanel();
    steering->setFeature(m_indexId, 1, QStringLiteral("add"));
    steering->setPrompt(QStringLiteral("Once upon a time the"));
    steering->setStrength(8);
    check(steering->runComparison(), expected, "steer");
    check(steering->runSweep(8, 3), expected, "sweep");
    check(steering->runAblationStudy(), expected, "ablation");
    {
        QFile pairs(path("pairs.jsonl"));
        QVERIFY(pairs.open(QIODevice::WriteOnly));
        pairs.write(
            "{\"prompt\": \"Once I saw a\", \"positive\": \" cat\", \"negative\": \" dog\"}\n");
    }
    auto *decomposition = m_window->findChild<ui::DecompositionPanel *>();
    decomposition->setPairsFile(path("pairs.jsonl"));
    decomposition->setMethods({ "encode", "omp" });
    check(decomposition->run(), expected, "decompose");
    auto *match = m_window->findChild<ui::MatchPanel *>();
    match->setSaePaths(
        { QString::fromStdString(m_setup.saeDir), QString::fromStdString(m_setup.saeDir) });
    check(match->run(), weightsOnly, "match");

    // One resident model, on the chosen device and precision.
    const auto loaded = models.loadedModels();
    QCOMPARE(loaded.size(), size_t(1));
    QVERIFY2(QString::fromStdString(loaded[0]).endsWith("|" + testDevice() + "|bf16"),
        loaded[0].c_str());
    // Every stored result names the device that computed it.
    auto *db = m_window->workspaceActions()->database();
    auto indexes = core::store::listIndexes(*db);
    QVERIFY(indexes.ok());
    // The index key does not depend on the precision: the bf16 job was answered by the stored
    // index, which still names the device and precision that computed it.
    QCOMPARE(indexes->size(), size_t(1));
    QCOMPARE(QString::fromStdString(indexes->front().device),
        testDevice() + (testDevice() == "cpu" ? " f32" : " bf16"));
    auto cached = core::store::listCachedResults(*db);
    QVERIFY(cached.ok());
    std::map<std::string, std::set<std::string>> devices;
    for (const auto &c : *cached)
        devices[c.kind].insert(c.device);
    QCOMPARE(devices["steer"], std::set<std::string> { expected.toStdString() });
    QCOMPARE(devices["decompose"], std::set<std::string> { weightsOnly.toStdString() });
    QCOMPARE(devices["match"], std::set<std::string> { weightsOnly.toStdString() });
    // The jobs panel shows the device of each job (the newest first).
    auto *jobs = m_window->findChild<ui::JobsPanel *>();
    QVERIFY(jobs);
    QCOMPARE(jobs->list()->headerItem()->text(2), QStringLiteral("Device"));
    QCOMPARE(jobs->list()->topLevelItem(0)->text(2), weightsOnly);
    QCOMPARE(jobs->list()->topLevelItem(1)->text(2), expected);
    m_window->workbench()->setDtype(QStringLiteral("auto"));
}

void TestCompute::outOfMemoryIsAMessage()
{
    // The prompt inspector: the allocation that does not fit throws LibTorch's own
    // out-of-memory error; the job fails with a message naming what and where, and the next
    // inspection runs.
    auto *inspector = m_window->promptInspector();
    auto *caption = inspector->findChild<QLabel *>(QStringLiteral("promptCaption"));
    core::util::armFault("inspect");
    const ui::JobState *failed = finished(inspector->inspect(QStringLiteral("a river"), m_indexId));
    QVERIFY(failed && !failed->succeeded);
    QVERIFY2(failed->outcome.startsWith(QStringLiteral("Out of memory on ")),
        qPrintable(failed->outcome));
    QVERIFY2(failed->outcome.contains(QStringLiteral("while inspecting a prompt")),
        qPrintable(failed->outcome));
    QVERIFY2(
        failed->outcome.contains(QStringLiteral("shorter prompt")), qPrintable(failed->outcome));
    QCOMPARE(caption->text(), failed->outcome);
    const ui::JobState *again = finished(inspector->inspect(QStringLiteral("a river"), m_indexId));
    QVERIFY(again);
    QVERIFY2(again->succeeded, qPrintable(again->outcome));
    QVERIFY(!inspector->tokens().isEmpty());

    // Steering: the same, with the steering run's own advice.
    auto *steering = m_window->steeringPanel();
    auto *status = steering->findChild<QLabel *>(QStringLiteral("steerStatus"));
    steering->setFeature(m_indexId, 2, QStringLiteral("add"));
    steering->setPrompt(QStringLiteral("The night sky and the"));
    steering->setStrength(4);
    core::util::armFault("steer");
    failed = finished(steering->runComparison());
    QVERIFY(failed && !failed->succeeded);
    QVERIFY2(
        failed->outcome.contains(QStringLiteral("while steering")), qPrintable(failed->outcome));
    QVERIFY2(
        failed->outcome.contains(QStringLiteral("fewer new tokens")), qPrintable(failed->outcome));
    QCOMPARE(status->text(), failed->outcome);
    again = finished(steering->runComparison());
    QVERIFY(again);
    QVERIFY2(again->succeeded, qPrintable(again->outcome));
    QVERIFY(steering->klMean() > 0);

    // Any other job: the runner's own answer names the job and its device.
    const int id = m_window->jobRunner()->run(QStringLiteral("encoding a huge batch"),
        [](core::jobs::Progress &progress) -> core::Result<std::string> {
            progress.setDevice("cpu f32");
            TORCH_CHECK_WITH(
                OutOfMemoryError, false, "CUDA out of memory. Tried to allocate 80 GiB");
            return std::string("unreachable");
        });
    failed = finished(id);
    QVERIFY(failed && !failed->succeeded);
    QVERIFY2(failed->outcome.startsWith(
                 QStringLiteral("Out of memory on the CPU while encoding a huge batch.")),
        qPrintable(failed->outcome));
    QVERIFY(m_window->isVisible());
    core::util::disarmFaults();
}

void TestCompute::unloadFreesTheModels()
{
    auto &models = m_window->workbench()->models();
    models.clear();
    std::weak_ptr<core::model::Decoder> decoder;
    {
        auto model = models.model(m_setup.modelDir, testDevice().toStdString());
        QVERIFY2(model.ok(), model.ok() ? "" : model.errorMessage().c_str());
        decoder = model->decoder;
    }
    QVERIFY(!decoder.expired());
    QVERIFY(models.residentBytes() > 0);
    m_window->computeStatus()->updateMemory();
    QVERIFY2(m_window->computeStatus()->memoryLabel()->text().startsWith(QStringLiteral("models ")),
        qPrintable(m_window->computeStatus()->memoryLabel()->text()));
    auto *unload = m_window->findChild<QAction *>(QStringLiteral("actionUnloadModels"));
    QVERIFY(unload);
    unload->trigger();
    // Nothing else holds the decoder: its reference count is 0 and its memory is gone.
    QVERIFY(decoder.expired());
    QCOMPARE(models.residentBytes(), int64_t(0));
    QVERIFY(models.loadedModels().empty());
    QCOMPARE(m_window->computeStatus()->memoryLabel()->text().section(QLatin1Char(' '), 0, 2),
        QStringLiteral("no model loaded"));
    QVERIFY2(m_window->statusBar()->currentMessage().startsWith(QStringLiteral("Unloaded 1 model")),
        qPrintable(m_window->statusBar()->currentMessage()));
}

void TestCompute::cleanupTestCase()
{
    m_window->close();
    m_window.reset();
}

QTEST_MAIN(TestCompute)
#include "tst_compute.moc"
