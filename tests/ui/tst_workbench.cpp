// The workbench on a workspace indexed in the test from a planted model and SAE (feature k
// fires exactly on the k-th planted word with 1 + 0.01 * position): the browser's rows,
// sorting and filtering; the dashboard's numbers and highlighted examples; labels and search;
// history; the prompt inspector finding the planted feature on the planted token; and
// screenshots of the whole window for people to look at.

#include "core/match/match_series.h"
#include "core/model/model_cache.h"
#include "core/sae/sae_io.h"
#include "core/steer/decomposition.h"
#include "core/steer/steering_vector.h"
#include "core/store/database.h"
#include "core/store/index_store.h"
#include "tests/support/planted.h"
#include "ui/decompositionpanel.h"
#include "ui/examplelist.h"
#include "ui/featurebrowser.h"
#include "ui/featuredashboard.h"
#include "ui/featuretablemodel.h"
#include "ui/indexdialog.h"
#include "ui/jobrunner.h"
#include "ui/mainwindow.h"
#include "ui/matchpanel.h"
#include "ui/plotstyle.h"
#include "ui/promptinspector.h"
#include "ui/qcustomplot_include.h"
#include "ui/steeringpanel.h"
#include "ui/tokenhtml.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"
#include <QDockWidget>
#include <QLabel>

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

using namespace fscope;

namespace {
const std::vector<std::string> kWords = { " cat", " dog", " moon", " river" };
}

class TestWorkbench : public QObject {
    Q_OBJECT

    QTemporaryDir m_tmp;
    test::PlantedSetup m_setup;
    std::unique_ptr<ui::MainWindow> m_window;
    qint64 m_indexId = 0;

    QString path(const char *name) const { return m_tmp.path() + "/" + name; }
    void waitForJobs() { QTRY_VERIFY_WITH_TIMEOUT(!m_window->jobRunner()->busy(), 120000); }

private Q_SLOTS:
    void initTestCase();
    void browserRowsSortAndFilter();
    void dashboardShowsPlantedFeature();
    void labelsSearchAndHistory();
    void promptInspectorFindsPlantedFeature();
    void steeringPanelComparesAndCaches();
    void decompositionPanelFromPairs();
    void matchPanelFollowsChains();
    void deviceChoiceReachesJobs();
    void screenshots();
    void cleanupTestCase();
};

void TestWorkbench::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QSettings().clear();
    std::string error;
    m_setup = test::writePlantedSetup(m_tmp.path().toStdString(), kWords, &error);
    QVERIFY2(!m_setup.modelDir.empty(), error.c_str());
    test::writePlantedCorpus(path("corpus.txt").toStdString(), kWords, 400, 1);

    m_window = std::make_unique<ui::MainWindow>();
    m_window->resize(1400, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_window->workspaceActions()->openWorkspaceAt(path("planted.fsdb"));
    waitForJobs();
    QVERIFY(m_window->workspaceActions()->database());

    ui::IndexSettings s;
    s.model = QString::fromStdString(m_setup.modelDir);
    s.saes = { QString::fromStdString(m_setup.saeDir) };
    s.corpus = { path("corpus.txt") };
    s.tokens = QStringLiteral("8k");
    s.contextLength = 64;
    s.batchSize = 8;
    s.device = QStringLiteral("cpu");
    const int job = m_window->indexCorpus(s);
    QVERIFY(job > 0);
    waitForJobs();
    QVERIFY2(m_window->jobRunner()->job(job)->succeeded,
        qPrintable(m_window->jobRunner()->job(job)->outcome));
    // The browser picks the new index up and loads its features.
    QTRY_COMPARE(m_window->featureBrowser()->model()->totalFeatures(), m_setup.features);
    m_indexId = m_window->featureBrowser()->indexId();
    QVERIFY(m_indexId > 0);
}

void TestWorkbench::browserRowsSortAndFilter()
{
    auto *model = m_window->featureBrowser()->model();
    QCOMPARE(model->rowCount(), int(m_setup.features));
    // Sort by density, highest first: non-increasing down the column.
    model->sort(ui::FeatureTableModel::DensityCol, Qt::DescendingOrder);
    core::store::FeatureTable table
        = core::store::loadFeatureTable(*m_window->workspaceActions()->database(), m_indexId)
              .value();
    std::map<qint64, float> density;
    for (size_t i = 0; i < table.size(); ++i)
        density[table.feature[i]] = table.density[i];
    for (int r = 1; r < model->rowCount(); ++r)
        QVERIFY(density[model->featureAt(r - 1)] >= density[model->featureAt(r)]);
    QVERIFY(density[model->featureAt(0)] > 0);
    // Dead / live filters: the four features past the planted words never fire.
    auto *show = m_window->featureBrowser()->findChild<QComboBox *>(QStringLiteral("showFilter"));
    show->setCurrentIndex(2); // Dead
    QCOMPARE(model->rowCount(), int(m_setup.features - qint64(kWords.size())));
    for (int r = 0; r < model->rowCount(); ++r)
        QVERIFY(model->featureAt(r) >= qint64(kWords.size()));
    show->setCurrentIndex(1); // Live
    QCOMPARE(model->rowCount(), int(kWords.size()));
    show->setCurrentIndex(0);
    QCOMPARE(model->rowCount(), int(m_setup.features));
    model->sort(ui::FeatureTableModel::FeatureCol, Qt::AscendingOrder);
    QCOMPARE(model->featureAt(0), qint64(0));
}

void TestWorkbench::dashboardShowsPlantedFeature()
{
    auto *db = m_window->workspaceActions()->database();
    auto info = core::store::indexInfo(*db, m_indexId).value();
    // Expected numbers straight from the stored contexts.
    const int k = 2; // " moon"
    auto corpusRow = db->queryText("SELECT fingerprint FROM artifacts WHERE id = "
                           + std::to_string(info.corpusId))
                         .value();
    auto corpus = core::store::loadCorpus(*db, corpusRow).value();
    QVERIFY(corpus.has_value());
    qint64 count = 0;
    float max = 0;
    for (qint64 i = 0; i < corpus->tokens(); ++i)
        if (corpus->ids[size_t(i)] == m_setup.tokens[k] && i % corpus->contextLength != 0) {
            ++count;
            max = std::max(max, 1.0f + 0.01f * float(i % corpus->contextLength));
        }
    QVERIFY(count > 5);

    // Selecting the row in the browser opens the dashboard.
    auto *view = m_window->featureBrowser()->view();
    view->selectRow(m_window->featureBrowser()->model()->rowOf(k));
    QTRY_COMPARE(m_window->workbench()->current().feature, qint64(k));
    auto *dash = m_window->dashboard();
    QVERIFY(dash->data());
    QCOMPARE(dash->data()->count, count);
    QVERIFY(std::abs(dash->data()->max - max) < 1e-5);
    const QString header = dash->headerText();
    QVERIFY2(header.contains(QStringLiteral("feature %1").arg(k)), qPrintable(header));
    QVERIFY2(header.contains(QStringLiteral("(%1 of %2 tokens)").arg(count).arg(info.tokens)),
        qPrintable(header));
    QVERIFY2(header.contains(ui::formatDensity(double(count) / double(info.tokens))),
        qPrintable(header));

    // The top example's max token is " moon", drawn at full intensity and marked; other tokens
    // of the window without the word carry no highlight.
    const auto &top = dash->data()->top.at(0);
    QCOMPARE(qint64(top.ids[size_t(top.maxPos)]), m_setup.tokens[k]);
    auto *list = dash->examples();
    QVERIFY(!list->rows().at(0).heading.isEmpty()); // "Top activations"
    const auto &row = list->rows().at(1);
    QCOMPARE(row.tokens.size(), top.ids.size());
    QVERIFY(row.tokens[size_t(top.maxPos)].marked);
    QCOMPARE(row.tokens[size_t(top.maxPos)].text, QStringLiteral(" moon"));
    QCOMPARE(list->tokenBackground(1, top.maxPos).name(), ui::highlightColor(1.0).name());
    int moons = 0;
    for (size_t t = 0; t < top.ids.size(); ++t) {
        const bool isMoon = top.ids[t] == m_setup.tokens[k];
        moons += isMoon;
        // Highlighted exactly where the word is, with intensity activation / max.
        QCOMPARE(list->tokenBackground(1, int(t)).isValid(), isMoon && top.start + int(t) > 0);
        if (isMoon)
            QCOMPARE(list->tokenBackground(1, int(t)).name(),
                ui::highlightColor(double(top.activations[t]) / double(dash->data()->max)).name());
    }
    QVERIFY(moons >= 1);
    // Hovering the max token names it: the hit test finds it at the centre column.
    const QRect vp = list->viewport()->rect();
    const int rowHeight = list->fontMetrics().height() + 6;
    QCOMPARE(list->tokenAt(QPoint(vp.width() / 2
                     + (list->fontMetrics().horizontalAdvance(QStringLiteral("00000.000")) + 8) / 2,
                 rowHeight + rowHeight / 2)),
        std::make_pair(1, top.maxPos));
    // Logit effects: the planted token on top.
    QCOMPARE(qint64(dash->data()->logitTop.at(0).first), m_setup.tokens[k]);
    // A single-hook SAE writes where it reads: no "Writes to" chart.
    auto *writes = dash->findChild<QCustomPlot *>(QStringLiteral("writesPlot"));
    QVERIFY(writes && !writes->isVisible());
}

void TestWorkbench::labelsSearchAndHistory()
{
    auto *wb = m_window->workbench();
    wb->showFeature(m_indexId, 0);
    auto *label = m_window->dashboard()->findChild<QLineEdit *>(QStringLiteral("labelEdit"));
    label->setText(QStringLiteral("cats and kittens"));
    Q_EMIT label->editingFinished();
    // The browser's label column follows, and the label is searchable.
    auto *model = m_window->featureBrowser()->model();
    QCOMPARE(model->data(model->index(model->rowOf(0), ui::FeatureTableModel::LabelCol)).toString(),
        QStringLiteral("cats and kittens"));
    auto *search
        = m_window->featureBrowser()->findChild<QLineEdit *>(QStringLiteral("featureSearch"));
    search->setText(QStringLiteral("kitt"));
    Q_EMIT search->returnPressed();
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->featureAt(0), qint64(0));
    search->clear();
    QCOMPARE(model->rowCount(), int(m_setup.features));
    // Jump to an id.
    search->setText(QStringLiteral("3"));
    Q_EMIT search->returnPressed();
    QTRY_COMPARE(wb->current().feature, qint64(3));

    // History: 0 -> 3 -> back -> forward.
    QVERIFY(wb->backAction()->isEnabled());
    wb->backAction()->trigger();
    QCOMPARE(wb->current().feature, qint64(0));
    wb->forwardAction()->trigger();
    QCOMPARE(wb->current().feature, qint64(3));
    // Bookmarks: the dashboard's button puts the feature in the list; the browser filters by it.
    auto *bookmark = m_window->dashboard()->bookmarkButton();
    QVERIFY(!bookmark->isChecked());
    bookmark->click();
    QVERIFY(bookmark->isChecked());
    auto *show = m_window->featureBrowser()->findChild<QComboBox *>(QStringLiteral("showFilter"));
    const int listRow = show->findText(QStringLiteral("In list: Bookmarks"));
    QVERIFY(listRow >= 4);
    show->setCurrentIndex(listRow);
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->featureAt(0), qint64(3));
    show->setCurrentIndex(0);
    QCOMPARE(model->rowCount(), int(m_setup.features));
    // The label survives reopening the workspace.
    auto l = core::store::label(*m_window->workspaceActions()->database(),
        core::store::indexInfo(*m_window->workspaceActions()->database(), m_indexId)->saeId, 0);
    QCOMPARE(l->first, std::string("cats and kittens"));
}

void TestWorkbench::promptInspectorFindsPlantedFeature()
{
    auto *inspector = m_window->promptInspector();
    const QString prompt = QStringLiteral("Once upon a time the dog saw the river");
    const int job = inspector->inspect(prompt, m_indexId);
    QVERIFY(job > 0);
    waitForJobs();
    QVERIFY2(m_window->jobRunner()->job(job)->succeeded,
        qPrintable(m_window->jobRunner()->job(job)->outcome));
    const QStringList tokens = inspector->tokens();
    const int dog = int(tokens.indexOf(QStringLiteral(" dog")));
    const int river = int(tokens.indexOf(QStringLiteral(" river")));
    QVERIFY2(dog > 0 && river > dog, qPrintable(tokens.join(QLatin1Char('|'))));
    auto top = inspector->topFeaturesOfToken(dog);
    QCOMPARE(top.size(), size_t(1)); // nothing else fires there
    QCOMPARE(top[0].first, qint64(1));
    QVERIFY(std::abs(top[0].second - (1.0f + 0.01f * float(dog))) < 1e-5);
    QCOMPARE(inspector->topFeaturesOfToken(river).at(0).first, qint64(3));
    QVERIFY(inspector->topFeaturesOfToken(1).empty()); // "Once" fires nothing
    // Whole prompt: both planted features, the later (larger position) first.
    auto whole = inspector->topFeaturesOfPrompt();
    QCOMPARE(whole.size(), size_t(2));
    QCOMPARE(whole[0].first, qint64(3));
    // Heatmap of feature 1: exactly one highlighted token.
    inspector->selectFeature(1);
    QCOMPARE(inspector->tokensHtml().count(ui::highlightColor(1.0).name(), Qt::CaseInsensitive), 1);
    // The same prompt again comes from the cache: no job.
    QCOMPARE(inspector->inspect(prompt, m_indexId), 0);
    // "Ablate it" on the dog token's feature sends feature, mode and prompt to the steering panel.
    inspector->selectToken(dog);
    auto *features = inspector->findChild<QTableWidget *>(QStringLiteral("promptFeatures"));
    QVERIFY(features && features->rowCount() == 1);
    features->setCurrentCell(0, 0);
    auto *ablate = inspector->findChild<QPushButton *>(QStringLiteral("promptAblate"));
    QVERIFY(ablate && ablate->isEnabled());
    ablate->click();
    auto *steering = m_window->steeringPanel();
    QCOMPARE(steering->findChild<QSpinBox *>(QStringLiteral("steerFeature"))->value(), 1);
    QCOMPARE(
        steering->findChild<QComboBox *>(QStringLiteral("steerMode"))->currentData().toString(),
        QStringLiteral("ablate"));
    QCOMPARE(steering->findChild<QPlainTextEdit *>(QStringLiteral("steerPrompt"))->toPlainText(),
        prompt);
}

void TestWorkbench::steeringPanelComparesAndCaches()
{
    // "Steer..." on the dashboard of feature 1 (" dog") fills the steering panel.
    m_window->workbench()->showFeature(m_indexId, 1);
    auto *steerButton
        = m_window->dashboard()->findChild<QPushButton *>(QStringLiteral("steerButton"));
    QVERIFY(steerButton);
    steerButton->click();
    auto *panel = m_window->steeringPanel();
    QCOMPARE(panel->findChild<QSpinBox *>(QStringLiteral("steerFeature"))->value(), 1);
    panel->setPrompt(QStringLiteral("Once upon a time the"));
    panel->setStrength(16);
    for (int run = 0; run < 2; ++run) {
        const int job = panel->runComparison();
        QVERIFY(job > 0);
        waitForJobs();
        QVERIFY2(m_window->jobRunner()->job(job)->succeeded,
            qPrintable(m_window->jobRunner()->job(job)->outcome));
        // Adding W_dec[1] = the tied embedding direction of " dog" makes the model say " dog".
        QVERIFY2(panel->steeredText().startsWith(QStringLiteral(" dog")),
            qPrintable(panel->steeredText()));
        QVERIFY(panel->klMean() > 0);
        QCOMPARE(
            panel->lastFromCache(), run == 1); // the identical request comes from the workspace
    }
    const int sweep = panel->runSweep(16, 5);
    waitForJobs();
    QVERIFY(m_window->jobRunner()->job(sweep)->succeeded);
    QCOMPARE(panel->sweepPoints().size(), size_t(5));
    QCOMPARE(panel->sweepPoints()[2][1], 0.0); // strength 0: KL exactly 0
    // No target: the right axis shows the fluency proxy, a perplexity (> 1) at every point.
    QCOMPARE(panel->findChild<QComboBox *>(QStringLiteral("sweepMetric"))->currentIndex(), 1);
    for (const auto &point : panel->sweepPoints())
        QVERIFY(point[3] > 1.0);
    QCOMPARE(
        panel->findChild<QCustomPlot *>(QStringLiteral("sweepPlot"))->graph(1)->dataCount(), 5);

    // Several interventions: ablate the dog edit's effect back with a stronger " river" edit
    // (feature 3) from the list, then a user vector along " moon" (W_dec[2]) on top.
    panel->addExtraFeature(3, QStringLiteral("add"), 40);
    QCOMPARE(panel->extraEditCount(), 1);
    int job = panel->runComparison();
    waitForJobs();
    QVERIFY2(m_window->jobRunner()->job(job)->succeeded,
        qPrintable(m_window->jobRunner()->job(job)->outcome));
    QVERIFY2(panel->steeredText().startsWith(QStringLiteral(" river")),
        qPrintable(panel->steeredText()));
    QVERIFY(!panel->lastFromCache()); // another edit list is another request
    auto sae = core::sae::loadSae(m_setup.saeDir);
    QVERIFY(sae.ok());
    const QString vectorPath = path("moon.npy");
    QVERIFY(core::steer::saveSteeringVector(vectorPath.toStdString(), sae->weights().W_dec[2] * 10)
                .ok());
    panel->addExtraVector(vectorPath, 10); // 100 x the moon direction outweighs river's 40
    QCOMPARE(panel->extraEditCount(), 2);
    job = panel->runComparison();
    waitForJobs();
    QVERIFY2(m_window->jobRunner()->job(job)->succeeded,
        qPrintable(m_window->jobRunner()->job(job)->outcome));
    QVERIFY2(
        panel->steeredText().startsWith(QStringLiteral(" moon")), qPrintable(panel->steeredText()));
    QVERIFY(QDir().mkpath(QStringLiteral(FEATURESCOPE_ARTIFACTS)));
    QVERIFY(panel->grab().save(QStringLiteral(FEATURESCOPE_ARTIFACTS) + "/steering.png"));
}

void TestWorkbench::matchPanelFollowsChains()
{
    // Layer B = the planted SAE with its features reversed: matching must find the reversal,
    // and the chain strip's first card opens the indexed SAE's dashboard.
    auto a = core::sae::loadSae(m_setup.saeDir);
    QVERIFY(a.ok());
    auto w = a->weights();
    const at::Tensor reversed = at::arange(a->config().dSae - 1, -1, -1, at::kLong);
    w.W_enc = w.W_enc.index_select(1, reversed);
    w.b_enc = w.b_enc.index_select(0, reversed);
    w.W_dec = w.W_dec.index_select(0, reversed);
    if (w.threshold.defined())
        w.threshold = w.threshold.index_select(0, reversed);
    const QString dirB = path("sae_reversed");
    QVERIFY(core::sae::saveSaeLens(core::sae::Sae(a->config(), w), dirB.toStdString()).ok());

    // Index B on the same corpus: the data-based check compares the top contexts of matches.
    ui::IndexSettings settings;
    settings.model = QString::fromStdString(m_setup.modelDir);
    settings.saes = { dirB };
    settings.corpus = { path("corpus.txt") };
    settings.tokens = QStringLiteral("8k");
    settings.contextLength = 64;
    settings.batchSize = 8;
    settings.device = QStringLiteral("cpu");
    const int indexJob = m_window->indexCorpus(settings);
    QVERIFY(indexJob > 0);
    waitForJobs();
    QVERIFY2(m_window->jobRunner()->job(indexJob)->succeeded,
        qPrintable(m_window->jobRunner()->job(indexJob)->outcome));

    auto *panel = m_window->findChild<ui::MatchPanel *>();
    QVERIFY(panel);
    // The workspace's own SAE was offered by "Workspace SAEs" (one SAE: too few to match).
    panel->setSaePaths({ QString::fromStdString(m_setup.saeDir), dirB });
    auto *evaluate = panel->findChild<QCheckBox *>(QStringLiteral("matchEvaluate"));
    QVERIFY(evaluate);
    evaluate->setChecked(true);
    const int job = panel->run();
    QVERIFY(job > 0);
    waitForJobs();
    QVERIFY2(m_window->jobRunner()->job(job)->succeeded,
        qPrintable(m_window->jobRunner()->job(job)->outcome));
    QVERIFY(panel->result());
    const auto &link = panel->result()->links.at(0);
    const int64_t F = a->config().dSae;
    for (int64_t k = 0; k < int64_t(kWords.size());
         ++k) // the planted features (the rest are dead: ties)
        QCOMPARE(link.result.pairs[size_t(k)].b, F - 1 - k);
    QCOMPARE(panel->result()->chainLengths.size(), size_t(2));
    // Matched features fire on exactly the same contexts; feature i with feature i does not.
    // B is A reordered on the same hook: A's code permuted into B decodes exactly as B's own
    // reconstruction; the unmatched pairing is worse; skipping zero layers is exact.
    QVERIFY(link.evaluation.has_value());
    const auto &scores = link.evaluation->scores;
    QCOMPARE(scores.size(), size_t(5));
    QCOMPARE(QString::fromStdString(scores[0].name), QStringLiteral("folded match"));
    QVERIFY(std::abs(scores[0].explainedVariance - scores[3].explainedVariance) < 1e-6);
    QVERIFY(scores[2].explainedVariance < scores[0].explainedVariance - 0.05);
    QVERIFY(std::abs(scores[4].explainedVariance - 1.0) < 1e-9);
    QVERIFY(link.overlap.has_value());
    QCOMPARE(link.overlap->pairs, int64_t(kWords.size()));
    QCOMPARE(link.overlap->matched, 1.0);
    QVERIFY(link.overlap->unmatched < 0.5);
    const auto cards = panel->findChildren<QToolButton *>();
    QVERIFY(cards.size() >= 2);
    auto *first = cards.front();
    QVERIFY(first->text().contains(QStringLiteral("#0")));
    QVERIFY(first->isEnabled());
    QVERIFY(cards.back()->isEnabled()); // layer B is indexed too: its dashboard opens
    QVERIFY(cards.back()->text().contains(QStringLiteral("#7")));
    QCOMPARE(link.result.solver, std::string("dense")); // automatic, on a CPU
    first->click();
    QTRY_COMPARE(m_window->workbench()->current().feature, qint64(0));
    auto *dock = m_window->findChild<QDockWidget *>(QStringLiteral("saeMatchDock"));
    QVERIFY(dock);
    dock->show();
    dock->raise();
    m_window->resizeDocks({ dock }, { 420 }, Qt::Vertical);
    QTest::qWait(100);
    const QString dir = QStringLiteral(FEATURESCOPE_ARTIFACTS);
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(dock->grab().save(dir + "/sae-match.png"));
    // Every plot exports: PNG at twice its size, PDF.
    auto *plot = panel->findChild<QCustomPlot *>(QStringLiteral("matchLinkPlot"));
    QVERIFY(plot);
    QVERIFY(ui::exportPlot(plot, dir + "/match-links.png", 192));
    const QImage exported(dir + "/match-links.png");
    QCOMPARE(exported.size(), plot->size() * 2);
    QVERIFY(ui::exportPlot(plot, dir + "/match-links.pdf"));
    QFile pdf(dir + "/match-links.pdf");
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QVERIFY(pdf.read(5) == "%PDF-");
    QString error;
    QVERIFY(!ui::exportPlot(plot, dir + "/match-links.xyz", 192, &error));
    QVERIFY(error.contains(QStringLiteral("unknown image type")));

    // The solver choice reaches the job: the approximate solve still finds the reversal of the
    // planted features, and says which solver ran.
    auto *solver = panel->findChild<QComboBox *>(QStringLiteral("matchSolver"));
    QVERIFY(solver);
    solver->setCurrentIndex(solver->findData(QStringLiteral("approximate")));
    QVERIFY(solver->currentIndex() >= 0);
    evaluate->setChecked(false);
    const int approxJob = panel->run();
    QVERIFY(approxJob > 0);
    waitForJobs();
    QVERIFY2(m_window->jobRunner()->job(approxJob)->succeeded,
        qPrintable(m_window->jobRunner()->job(approxJob)->outcome));
    const auto &approx = panel->result()->links.at(0).result;
    QCOMPARE(approx.solver, std::string("approximate"));
    QCOMPARE(approx.pricingRounds, 1);
    for (int64_t k = 0; k < int64_t(kWords.size()); ++k)
        QCOMPARE(approx.pairs[size_t(k)].b, F - 1 - k);
}

void TestWorkbench::decompositionPanelFromPairs()
{
    // CAA from " cat" vs " dog" answers on the planted model gives e_cat - e_dog at the hook:
    // OMP must read feature 0 up and feature 1 down; NNLS cannot give feature 1 a negative
    // coefficient; the contrastive and in-context methods run on the pairs and the corpus.
    {
        QFile pairs(path("pairs.jsonl"));
        QVERIFY(pairs.open(QIODevice::WriteOnly));
        pairs.write(
            "{\"prompt\": \"Once I saw a\", \"positive\": \" cat\", \"negative\": \" dog\"}\n"
            "{\"prompt\": \"The small\", \"positive\": \" cat\", \"negative\": \" dog\"}\n");
    }
    auto *panel = m_window->findChild<ui::DecompositionPanel *>();
    QVERIFY(panel);
    panel->setPairsFile(path("pairs.jsonl"));
    panel->setMethods({ "encode", "omp", "nnls", "contrastive", "in-context", "decoder-cosine" });
    panel->findChild<QLineEdit *>(QStringLiteral("resteerPrompt"))
        ->setText(QStringLiteral("Once upon a time the"));
    panel->findChild<QLineEdit *>(QStringLiteral("resteerTarget"))->setText(QStringLiteral(" cat"));
    const int job = panel->run();
    QVERIFY(job > 0);
    waitForJobs();
    QVERIFY2(m_window->jobRunner()->job(job)->succeeded,
        qPrintable(m_window->jobRunner()->job(job)->outcome));
    const auto &results = panel->results();
    QCOMPARE(results.size(), size_t(6));
    auto find = [&](core::steer::DecompositionMethod m) -> const core::steer::Decomposition & {
        for (const auto &d : results)
            if (d.method == m)
                return d;
        qFatal("method missing");
    };
    const auto &omp = find(core::steer::DecompositionMethod::OrthogonalMatchingPursuit);
    QVERIFY(std::abs(omp.coefficients[0].item<double>() - 1.0) < 1e-3);
    QVERIFY(std::abs(omp.coefficients[1].item<double>() + 1.0) < 1e-3);
    QVERIFY(omp.fve > 0.999);
    QCOMPARE(find(core::steer::DecompositionMethod::Nnls).coefficients[1].item<double>(), 0.0);
    const auto &contrastive = find(core::steer::DecompositionMethod::Contrastive);
    QVERIFY(contrastive.coefficients[0].item<double>() > 0.5); // the cat feature fires on positives
    QVERIFY(contrastive.coefficients[1].item<double>() < -0.5); // the dog feature on negatives
    // Re-steer: OMP's rebuild is v itself (KL 0 against v); the naive encoding's rebuild, which
    // lost the negative " dog" part, steers differently. Steering towards " cat" raises it.
    auto *summary = panel->findChild<QTableWidget *>(QStringLiteral("decompositionSummary"));
    QVERIFY(summary);
    auto klOf = [&](const QString &method) {
        for (int r = 0; r < summary->rowCount(); ++r)
            if (summary->item(r, 0)->text() == method)
                return summary->item(r, 4)->text().toDouble();
        return -1.0;
    };
    QVERIFY(klOf(QStringLiteral("omp")) >= 0 && klOf(QStringLiteral("omp")) < 1e-6);
    QVERIFY(klOf(QStringLiteral("encode")) > klOf(QStringLiteral("omp")));
    QVERIFY(summary->item(0, 5)->text().section(QLatin1Char('/'), 1).toDouble() > 0);
    // The same request again is answered from the workspace.
    const int again = panel->run();
    waitForJobs();
    QVERIFY2(
        m_window->jobRunner()->job(again)->outcome.contains(QStringLiteral("6 from the workspace")),
        qPrintable(m_window->jobRunner()->job(again)->outcome));
    // The norm line compares the vector with the activation norms read from the corpus.
    bool normShown = false;
    for (auto *label : panel->findChildren<QLabel *>())
        normShown |= label->text().contains(QStringLiteral("median"));
    QVERIFY(normShown);
    // The summary table lists the methods; double-clicking a coefficient row opens its dashboard.
    panel->selectMethod(QStringLiteral("omp"));
    auto *table = panel->findChild<QTableWidget *>(QStringLiteral("decompositionTable"));
    QVERIFY(table);
    QVERIFY(table->rowCount() >= 2);
    QCOMPARE(table->item(0, 0)->text().toLongLong() + table->item(1, 0)->text().toLongLong(),
        1LL); // features 0 and 1
    Q_EMIT table->cellDoubleClicked(1, 0);
    QTRY_COMPARE(m_window->workbench()->current().feature, table->item(1, 0)->text().toLongLong());
    auto *dock = m_window->findChild<QDockWidget *>(QStringLiteral("decompositionDock"));
    QVERIFY(dock);
    dock->show();
    dock->raise();
    m_window->resizeDocks({ dock }, { 440 }, Qt::Vertical);
    QTest::qWait(100);
    QVERIFY(QDir().mkpath(QStringLiteral(FEATURESCOPE_ARTIFACTS)));
    QVERIFY(dock->grab().save(QStringLiteral(FEATURESCOPE_ARTIFACTS) + "/decomposition.png"));
}

void TestWorkbench::deviceChoiceReachesJobs()
{
    // One choice in the status bar, remembered, and the device the next job loads on.
    auto *choice = m_window->statusBar()->findChild<QComboBox *>(QStringLiteral("deviceChoice"));
    QVERIFY(choice);
    QVERIFY(choice->findData(QStringLiteral("cpu")) >= 0);
    choice->setCurrentIndex(choice->findData(QStringLiteral("cpu")));
    QCOMPARE(m_window->workbench()->device(), QStringLiteral("cpu"));
    QCOMPARE(QSettings().value(QStringLiteral("compute/device")).toString(), QStringLiteral("cpu"));
    auto &models = m_window->workbench()->models();
    models.clear();
    QVERIFY(models.loadedModels().empty());
    const int job
        = m_window->promptInspector()->inspect(QStringLiteral("the river and the dog"), m_indexId);
    QVERIFY(job > 0);
    waitForJobs();
    QVERIFY2(m_window->jobRunner()->job(job)->succeeded,
        qPrintable(m_window->jobRunner()->job(job)->outcome));
    const auto loaded = models.loadedModels();
    QCOMPARE(loaded.size(), size_t(1));
    QVERIFY2(
        QString::fromStdString(loaded[0]).endsWith(QStringLiteral("|cpu|auto")), loaded[0].c_str());
    // File > Unload Models frees what the panels keep loaded.
    auto *unload = m_window->findChild<QAction *>(QStringLiteral("actionUnloadModels"));
    QVERIFY(unload);
    unload->trigger();
    QVERIFY(models.loadedModels().empty());
    choice->setCurrentIndex(choice->findData(QStringLiteral("auto")));
    QCOMPARE(m_window->workbench()->device(), QStringLiteral("auto"));
}

void TestWorkbench::screenshots()
{
    const QString dir = QStringLiteral(FEATURESCOPE_ARTIFACTS);
    QVERIFY(QDir().mkpath(dir));
    m_window->workbench()->showFeature(m_indexId, 2);
    m_window->promptInspector()->setPrompt(
        QStringLiteral("Once upon a time the dog saw the river"));
    m_window->promptInspector()->selectToken(6);
    QTest::qWait(200);
    const QImage shot = m_window->grab().toImage();
    QVERIFY(!shot.isNull());
    QVERIFY(shot.save(dir + "/workbench.png"));
    QVERIFY(m_window->dashboard()->grab().save(dir + "/dashboard.png"));
    QVERIFY(m_window->promptInspector()->grab().save(dir + "/prompt-inspector.png"));
    qInfo("screenshots in %s", qPrintable(dir));
    // Opening a dashboard from the cache: time the query + render (reported, not asserted).
    QElapsedTimer timer;
    std::vector<qint64> ms;
    for (int i = 0; i < 20; ++i) {
        timer.restart();
        m_window->dashboard()->showFeature({ m_indexId, i % 4 });
        m_window->dashboard()->repaint(); // painted, not just queued
        ms.push_back(timer.nsecsElapsed() / 1000);
    }
    std::sort(ms.begin(), ms.end());
    qInfo("dashboard open (query + render): median %lld us, p95 %lld us", ms[10], ms[18]);
}

void TestWorkbench::cleanupTestCase()
{
    m_window->close();
    m_window.reset();
}

QTEST_MAIN(TestWorkbench)
#include "tst_workbench.moc"
