#include "ui/steeringpanel.h"

#include "core/model/model_cache.h"
#include "core/store/database.h"
#include "core/store/index_store.h"
#include "ui/jobrunner.h"
#include "ui/steeringedits.h"
#include "ui/steeringjob.h"
#include "ui/steeringresults.h"
#include "ui/tokenhtml.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <array>

namespace fscope::ui {

SteeringPanel::SteeringPanel(Workbench *workbench, QWidget *parent)
    : QWidget(parent)
    , m_workbench(workbench)
    , m_index(new QComboBox(this))
    , m_feature(new QSpinBox(this))
    , m_mode(new QComboBox(this))
    , m_strength(new QDoubleSpinBox(this))
    , m_timesMax(new QCheckBox(tr("× max activation"), this))
    , m_positions(new QComboBox(this))
    , m_prompt(new QPlainTextEdit(this))
    , m_maxTokens(new QSpinBox(this))
    , m_temperature(new QDoubleSpinBox(this))
    , m_seed(new QSpinBox(this))
    , m_target(new QLineEdit(this))
    , m_status(new QLabel(this))
    , m_extraEdits(new SteeringEdits(this))
    , m_results(new SteeringResults(this))
{
    setObjectName(QStringLiteral("steeringPanel"));
    m_index->setObjectName(QStringLiteral("steerSae"));
    m_index->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_feature->setObjectName(QStringLiteral("steerFeature"));
    m_feature->setRange(0, 1 << 30);
    m_mode->setObjectName(QStringLiteral("steerMode"));
    m_mode->addItem(tr("add  h += a·d"), QStringLiteral("add"));
    m_mode->addItem(tr("clamp  f = a"), QStringLiteral("clamp"));
    m_mode->addItem(tr("scale  f *= a"), QStringLiteral("scale"));
    m_mode->addItem(tr("ablate  f = 0"), QStringLiteral("ablate"));
    m_strength->setObjectName(QStringLiteral("steerStrength"));
    m_strength->setRange(-1e6, 1e6);
    m_strength->setDecimals(3);
    m_strength->setValue(4);
    m_timesMax->setObjectName(QStringLiteral("steerTimesMax"));
    m_positions->addItem(tr("all positions"), int(core::model::PositionPolicy::All));
    m_positions->addItem(tr("prompt only"), int(core::model::PositionPolicy::PromptOnly));
    m_positions->addItem(tr("generated only"), int(core::model::PositionPolicy::GeneratedOnly));
    m_positions->setObjectName(QStringLiteral("steerPositions"));
    m_prompt->setObjectName(QStringLiteral("steerPrompt"));
    m_prompt->setPlaceholderText(tr("Prompt"));
    m_prompt->setMaximumHeight(m_prompt->fontMetrics().height() * 4);
    m_maxTokens->setRange(1, 512);
    m_maxTokens->setValue(24);
    m_maxTokens->setObjectName(QStringLiteral("steerMaxTokens"));
    m_temperature->setRange(0, 5);
    m_temperature->setObjectName(QStringLiteral("steerTemperature"));
    m_temperature->setSingleStep(0.1);
    m_temperature->setToolTip(
        tr("0 = greedy; otherwise sampled with the seed (the same seed for both runs)"));
    m_seed->setRange(0, 1 << 30);
    m_seed->setObjectName(QStringLiteral("steerSeed"));
    m_target->setObjectName(QStringLiteral("steerTarget"));
    m_target->setPlaceholderText(tr("target token, e.g. ' Paris' (optional)"));
    m_status->setObjectName(QStringLiteral("steerStatus"));
    m_status->setWordWrap(true);

    auto *form = new QFormLayout;
    form->addRow(tr("SAE:"), m_index);
    auto *featureRow = new QHBoxLayout;
    featureRow->addWidget(m_feature);
    featureRow->addWidget(m_mode, 1);
    form->addRow(tr("Feature:"), featureRow);
    auto *strengthRow = new QHBoxLayout;
    strengthRow->addWidget(m_strength, 1);
    strengthRow->addWidget(m_timesMax);
    form->addRow(tr("Strength:"), strengthRow);
    form->addRow(tr("Positions:"), m_positions);
    // Several interventions at once: fixed edits applied with the main one.
    form->addRow(tr("Also apply:"), m_extraEdits);
    connect(m_extraEdits, &SteeringEdits::addCurrentRequested, this, [this] {
        addExtraFeature(m_feature->value(), m_mode->currentData().toString(), m_strength->value());
    });
    connect(m_extraEdits, &SteeringEdits::vectorChosen, this,
        [this](const QString &path) { addExtraVector(path, m_strength->value()); });
    form->addRow(tr("Prompt:"), m_prompt);
    auto *genRow = new QHBoxLayout;
    genRow->addWidget(new QLabel(tr("tokens"), this));
    genRow->addWidget(m_maxTokens);
    genRow->addWidget(new QLabel(tr("temp."), this));
    genRow->addWidget(m_temperature);
    genRow->addWidget(new QLabel(tr("seed"), this));
    genRow->addWidget(m_seed);
    form->addRow(tr("Generate:"), genRow);
    form->addRow(tr("Target:"), m_target);

    auto *run = new QPushButton(tr("Compare"), this);
    run->setObjectName(QStringLiteral("steerRun"));
    run->setToolTip(tr("Generate with and without the edit"));
    auto *sweep = new QPushButton(tr("Sweep"), this);
    sweep->setToolTip(tr("The metrics over strengths from -|a| to |a|"));
    auto *ablate = new QPushButton(tr("Ablation study"), this);
    ablate->setToolTip(
        tr("Ablate each of the 20 features most active at the prompt's last token, one at a time"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(run);
    buttons->addWidget(sweep);
    buttons->addWidget(ablate);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(m_status);
    layout->addWidget(m_results, 1);

    connect(run, &QPushButton::clicked, this, &SteeringPanel::runComparison);
    connect(sweep, &QPushButton::clicked, this,
        [this] { runSweep(std::max(1.0, std::abs(m_strength->value())), 9); });
    connect(ablate, &QPushButton::clicked, this, &SteeringPanel::runAblationStudy);
    connect(m_results, &SteeringResults::featureActivated, this, [this](qint64 feature) {
        Q_EMIT openFeature(m_index->currentData().toLongLong(), feature);
    });
    connect(m_workbench, &Workbench::indexesChanged, this, &SteeringPanel::reloadIndexes);
}

SteeringPanel::~SteeringPanel() = default;

void SteeringPanel::addExtraFeature(qint64 feature, const QString &mode, double value)
{
    m_extraEdits->addFeature(feature, mode, value);
}

void SteeringPanel::addExtraVector(const QString &path, double value)
{
    m_extraEdits->addVector(path, value);
}

int SteeringPanel::extraEditCount() const
{
    return m_extraEdits->count();
}

QJsonArray SteeringPanel::extraEdits() const
{
    return m_extraEdits->toJson();
}

void SteeringPanel::setExtraEdits(const QJsonArray &edits)
{
    m_extraEdits->setJson(edits);
}

const std::vector<std::array<double, 4>> &SteeringPanel::sweepPoints() const
{
    return m_results->sweepPoints();
}

void SteeringPanel::reloadIndexes()
{
    m_workbench->fillIndexChoice(m_index);
}

void SteeringPanel::setFeature(qint64 indexId, qint64 feature, const QString &mode)
{
    if (m_index->findData(QVariant::fromValue<qint64>(indexId)) < 0)
        reloadIndexes();
    m_index->setCurrentIndex(m_index->findData(QVariant::fromValue<qint64>(indexId)));
    m_feature->setValue(int(feature));
    m_mode->setCurrentIndex(std::max(0, m_mode->findData(mode)));
    m_status->setText(
        tr("Feature %1 ready to %2: set a prompt and press Compare.").arg(feature).arg(mode));
}

void SteeringPanel::setPrompt(const QString &text)
{
    m_prompt->setPlainText(text);
}

void SteeringPanel::setStrength(double value, bool timesMax)
{
    m_strength->setValue(value);
    m_timesMax->setChecked(timesMax);
}

std::shared_ptr<SteeringJob> SteeringPanel::prepare(QString *problem) const
{
    auto job = std::make_shared<SteeringJob>();
    core::store::Database *db = m_workbench->database();
    if (!db || m_index->currentIndex() < 0) {
        *problem = tr("Index a corpus first: steering uses the index's model and SAE.");
        return nullptr;
    }
    auto info = core::store::indexInfo(*db, m_index->currentData().toLongLong());
    if (!info) {
        *problem = QString::fromStdString(info.errorMessage());
        return nullptr;
    }
    if (m_prompt->toPlainText().trimmed().isEmpty()) {
        *problem = tr("Type a prompt first.");
        return nullptr;
    }
    job->info = *info;
    job->device = m_workbench->device().toStdString();
    job->dtype = m_workbench->dtype().toStdString();
    job->mode = m_mode->currentData().toString().toStdString();
    job->feature = m_feature->value();
    if (job->feature >= info->dSae) {
        *problem
            = tr("Feature %1 is not in this SAE (%2 features).").arg(job->feature).arg(info->dSae);
        return nullptr;
    }
    job->strength = m_strength->value();
    job->timesMax = m_timesMax->isChecked();
    static const char *const policies[]
        = { "all", "prompt", "generated" }; // by PositionPolicy::Kind
    job->positions = policies[std::clamp(m_positions->currentData().toInt(), 0, 2)];
    job->prompt = m_prompt->toPlainText().toStdString();
    job->target = m_target->text().toStdString();
    job->generation.maxNewTokens = m_maxTokens->value();
    job->generation.temperature = m_temperature->value();
    job->generation.seed = uint64_t(m_seed->value());
    for (const SteeringEdits::Edit &e : m_extraEdits->edits()) {
        core::steer::ExtraEdit x;
        x.vectorPath = e.vectorPath.toStdString();
        x.feature = e.feature;
        x.mode = e.mode.toStdString();
        x.value = e.value;
        if (x.vectorPath.empty() && x.feature >= info->dSae) {
            *problem = tr("Feature %1 in the list is not in this SAE.").arg(x.feature);
            return nullptr;
        }
        job->extras.push_back(x);
    }
    return job;
}

int SteeringPanel::runComparison()
{
    QString problem;
    auto job = prepare(&problem);
    if (!job) {
        m_status->setText(problem);
        return 0;
    }
    job->strengths = { job->strength };
    core::model::ModelCache *models = &m_workbench->models();
    auto work = [models, job](core::jobs::Progress &progress, core::store::Database *workspace) {
        return runSteeringStrengths(*models, *job, progress, workspace);
    };
    m_status->setText(tr("Running..."));
    return m_workbench->runner()->runOnWorkspace(tr("Steer feature %1").arg(job->feature),
        m_workbench->workspacePath(), work, [this, job](const JobState &state) {
            if (!state.succeeded) {
                m_status->setText(state.outcome);
                return;
            }
            showComparison(*job);
        });
}

void SteeringPanel::showComparison(const SteeringJob &job)
{
    const auto &r = job.results.front();
    m_klMean = r.klMean;
    m_lastCached = job.cached;
    QStringList base, steered;
    for (const auto &t : job.baseTokens)
        base << displayToken(t);
    for (const auto &t : job.steeredTokens)
        steered << displayToken(t);
    QVector<SteeringResults::NextToken> next;
    for (const auto &[token, p] : job.next)
        next.append({ displayToken(token), p.first, p.second });
    m_results->showComparison(base, steered, next);
    QString status = tr("%1 feature %2 by %3%6: mean KL(steered || base) %4 nats; steered text "
                        "perplexity under the base model %5")
                         .arg(QString::fromStdString(job.mode))
                         .arg(job.feature)
                         .arg(job.strengths.front(), 0, 'g', 4)
                         .arg(r.klMean, 0, 'g', 4)
                         .arg(r.steeredPerplexityUnderBase, 0, 'f', 2)
                         .arg(job.extras.empty() ? QString()
                                                 : tr(" with %n more edit(s) from the list",
                                                     nullptr, int(job.extras.size())));
    if (!r.targetLogProbDelta.empty())
        status += tr("; target log-prob %1 → %2")
                      .arg(r.baseTarget[0], 0, 'f', 3)
                      .arg(r.steeredTarget[0], 0, 'f', 3);
    if (job.cached)
        status += tr(" (from the workspace cache)");
    m_status->setText(status);
}

int SteeringPanel::runSweep(double limit, int points)
{
    QString problem;
    auto job = prepare(&problem);
    if (!job) {
        m_status->setText(problem);
        return 0;
    }
    // Reuse the comparison's job body with several strengths (multiples of the max when ticked).
    std::vector<double> strengths;
    for (int i = 0; i < points; ++i)
        strengths.push_back(-limit + 2 * limit * double(i) / double(points - 1));
    core::model::ModelCache *models = &m_workbench->models();
    job->strengths = strengths;
    auto work = [models, job](core::jobs::Progress &progress, core::store::Database *workspace) {
        return runSteeringStrengths(*models, *job, progress, workspace);
    };
    m_status->setText(tr("Sweeping..."));
    return m_workbench->runner()->runOnWorkspace(tr("Sweep feature %1").arg(job->feature),
        m_workbench->workspacePath(), work, [this, job](const JobState &state) {
            if (!state.succeeded) {
                m_status->setText(state.outcome);
                return;
            }
            std::vector<SteeringResults::SweepPoint> points;
            QStringList texts;
            for (size_t i = 0; i < job->results.size(); ++i) {
                const auto &r = job->results[i];
                const double d = r.targetLogProbDelta.empty() ? 0.0 : r.targetLogProbDelta[0];
                points.push_back({ job->strengths[i], r.klMean, d, r.steeredPerplexityUnderBase });
                texts << QString::fromStdString(job->steeredTexts[i]).toHtmlEscaped();
            }
            m_results->showSweep(std::move(points), texts, !job->target.empty());
            m_status->setText(state.outcome);
        });
}

int SteeringPanel::runAblationStudy()
{
    QString problem;
    auto job = prepare(&problem);
    if (!job) {
        m_status->setText(problem);
        return 0;
    }
    core::model::ModelCache *models = &m_workbench->models();
    auto work = [models, job](core::jobs::Progress &progress) {
        return runSteeringAblation(*models, *job, progress);
    };
    m_status->setText(tr("Ablating..."));
    return m_workbench->runner()->run(
        tr("Ablation study"), work, [this, job](const JobState &state) {
            if (!state.succeeded) {
                m_status->setText(state.outcome);
                return;
            }
            m_results->showAblation(job->ablation, !job->target.empty());
            m_status->setText(
                tr("%1. Double-click a row for the feature's dashboard.").arg(state.outcome));
        });
}

QString SteeringPanel::baseText() const
{
    return m_results->baseText();
}

QString SteeringPanel::steeredText() const
{
    return m_results->steeredText();
}

} // namespace fscope::ui
