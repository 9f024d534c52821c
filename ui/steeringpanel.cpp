#include "ui/steeringpanel.h"

#include "core/analysis/index_store.h"
#include "core/analysis/prompt_analysis.h"
#include "core/analysis/steering.h"
#include "core/analysis/steering_vector.h"
#include "core/store/database.h"
#include "core/store/statement.h"
#include "ui/jobrunner.h"
#include "ui/plotstyle.h"
#include "ui/qcustomplot_include.h"
#include "ui/tokenhtml.h"

#include <QJsonObject>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QFileDialog>
#include <QFileInfo>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <array>

namespace fscope::ui {

struct SteeringPanel::Job {
    struct Extra {
        std::string vectorPath; // a vector edit when set, else `feature`
        int64_t feature = 0;
        std::string mode;
        double value = 0;
    };
    std::vector<Extra> extras;
    core::analysis::IndexInfo info;
    std::string workspace;
    std::string mode;
    int64_t feature = 0;
    double strength = 0;
    bool timesMax = false;
    int positions = 0;
    std::string prompt, target;
    core::model::GenerateOptions generation;
    // Outputs
    std::vector<core::analysis::SteerResult> results;
    std::vector<double> strengths;
    std::vector<core::analysis::AblationEffect> ablation;
    std::vector<std::string> baseTokens, steeredTokens; // per result: token texts (of the first/each)
    std::vector<std::string> steeredTexts;
    std::vector<std::pair<std::string, std::pair<double, double>>> next; // token, (base, steered)
    bool cached = false;
    double featureMax = 0;
};

namespace {

QTableWidgetItem *item(const QString &text, bool number = false)
{
    auto *i = new QTableWidgetItem(text);
    if (number)
        i->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return i;
}

QCustomPlot *plot(const QString &name, const QString &title, QWidget *parent)
{
    auto *p = new QCustomPlot(parent);
    p->setObjectName(name);
    p->setMinimumSize(120, 160);
    applyPlotStyle(p);
    setPlotTitle(p, title);
    return p;
}

// Highlights the tokens where the two continuations differ.
QString continuationHtml(const QStringList &tokens, const QStringList &other)
{
    QString html;
    for (int i = 0; i < tokens.size(); ++i) {
        QString t = tokens[i].toHtmlEscaped();
        if (i >= other.size() || other[i] != tokens[i]) {
            const QColor bg = highlightColor(0.6);
            t = QStringLiteral("<span style=\"background-color:%1;color:%2\">%3</span>").arg(bg.name(), textColorOn(bg).name(), t);
        }
        html += t;
    }
    return QStringLiteral("<span style=\"white-space:pre-wrap\">%1</span>").arg(html);
}

} // namespace

SteeringPanel::SteeringPanel(Workbench *workbench, QWidget *parent)
    : QWidget(parent), m_workbench(workbench), m_index(new QComboBox(this)), m_feature(new QSpinBox(this)),
      m_mode(new QComboBox(this)), m_strength(new QDoubleSpinBox(this)), m_timesMax(new QCheckBox(tr("× max activation"), this)),
      m_positions(new QComboBox(this)), m_prompt(new QPlainTextEdit(this)), m_maxTokens(new QSpinBox(this)),
      m_temperature(new QDoubleSpinBox(this)), m_seed(new QSpinBox(this)), m_target(new QLineEdit(this)), m_status(new QLabel(this)),
      m_tabs(new QTabWidget(this)), m_base(new QTextBrowser(this)), m_steered(new QTextBrowser(this)), m_next(new QTableWidget(this)),
      m_sweepPlot(plot(QStringLiteral("sweepPlot"), tr("Strength sweep"), this)), m_sweepDetail(new QLabel(this)),
      m_ablationPlot(plot(QStringLiteral("ablationPlot"), tr("Ablation effects"), this)), m_ablation(new QTableWidget(this))
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
    m_temperature->setToolTip(tr("0 = greedy; otherwise sampled with the seed (the same seed for both runs)"));
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
    m_extraEdits = new QTableWidget(0, 3, this);
    m_extraEdits->setObjectName(QStringLiteral("steerExtraEdits"));
    m_extraEdits->setHorizontalHeaderLabels({tr("Feature / vector"), tr("Edit"), tr("Value")});
    m_extraEdits->verticalHeader()->hide();
    m_extraEdits->horizontalHeader()->setStretchLastSection(true);
    m_extraEdits->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_extraEdits->setMaximumHeight(90);
    m_extraEdits->setToolTip(tr("Applied together with the edit above (which Sweep varies), at the same positions"));
    auto *extraButtons = new QHBoxLayout;
    auto *addCurrent = new QPushButton(tr("Add current"), this);
    addCurrent->setToolTip(tr("Keep the feature, edit and strength above as a fixed edit"));
    auto *addVector = new QPushButton(tr("Add vector..."), this);
    auto *removeEdit = new QPushButton(tr("Remove"), this);
    for (QPushButton *b : {addCurrent, addVector, removeEdit}) {
        b->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
        extraButtons->addWidget(b, 1);
    }
    auto *extraBox = new QVBoxLayout;
    extraBox->addWidget(m_extraEdits);
    extraBox->addLayout(extraButtons);
    form->addRow(tr("Also apply:"), extraBox);
    connect(addCurrent, &QPushButton::clicked, this, [this] {
        addExtraFeature(m_feature->value(), m_mode->currentData().toString(), m_strength->value());
    });
    connect(addVector, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Steering vector"), {}, tr("Vectors (*.npy *.safetensors)"));
        if (!f.isEmpty())
            addExtraVector(f, m_strength->value());
    });
    connect(removeEdit, &QPushButton::clicked, this, [this] {
        if (m_extraEdits->currentRow() >= 0)
            m_extraEdits->removeRow(m_extraEdits->currentRow());
    });
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
    ablate->setToolTip(tr("Ablate each of the 20 features most active at the prompt's last token, one at a time"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(run);
    buttons->addWidget(sweep);
    buttons->addWidget(ablate);

    // Results: comparison, sweep, ablation.
    for (QTextBrowser *b : {m_base, m_steered})
        b->setMinimumHeight(60);
    m_base->setObjectName(QStringLiteral("baseText"));
    m_steered->setObjectName(QStringLiteral("steeredText"));
    m_next->setObjectName(QStringLiteral("nextTokenTable"));
    m_next->setColumnCount(3);
    m_next->setHorizontalHeaderLabels({tr("Next token"), tr("Base p"), tr("Steered p")});
    m_next->verticalHeader()->hide();
    m_next->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_next->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto *compare = new QWidget(this);
    auto *compareLayout = new QVBoxLayout(compare);
    compareLayout->setContentsMargins(0, 0, 0, 0);
    compareLayout->addWidget(new QLabel(tr("<b>Base</b>"), this));
    compareLayout->addWidget(m_base, 1);
    compareLayout->addWidget(new QLabel(tr("<b>Steered</b> (differences highlighted)"), this));
    compareLayout->addWidget(m_steered, 1);
    compareLayout->addWidget(m_next, 2);
    auto *sweepPage = new QWidget(this);
    auto *sweepLayout = new QVBoxLayout(sweepPage);
    sweepLayout->setContentsMargins(0, 0, 0, 0);
    m_sweepMetric = new QComboBox(this);
    m_sweepMetric->setObjectName(QStringLiteral("sweepMetric"));
    m_sweepMetric->addItem(tr("Right axis: Δ log p(target)"), 2);
    m_sweepMetric->addItem(tr("Right axis: steered text perplexity under the base model"), 3);
    sweepLayout->addWidget(m_sweepMetric);
    connect(m_sweepMetric, &QComboBox::currentIndexChanged, this, [this] { plotSweep(); });
    sweepLayout->addWidget(m_sweepPlot, 1);
    m_sweepDetail->setWordWrap(true);
    m_sweepDetail->setText(tr("Click a point for its generation."));
    sweepLayout->addWidget(m_sweepDetail);
    m_ablation->setObjectName(QStringLiteral("ablationTable"));
    m_ablation->setColumnCount(4);
    m_ablation->setHorizontalHeaderLabels({tr("Feature"), tr("Activation"), tr("Δ log p(target)"), tr("KL")});
    m_ablation->verticalHeader()->hide();
    m_ablation->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_ablation->setSelectionBehavior(QAbstractItemView::SelectRows);
    auto *ablationPage = new QSplitter(Qt::Vertical, this);
    ablationPage->addWidget(m_ablationPlot);
    ablationPage->addWidget(m_ablation);
    m_tabs->addTab(compare, tr("Compare"));
    m_tabs->addTab(sweepPage, tr("Sweep"));
    m_tabs->addTab(ablationPage, tr("Ablation"));
    m_sweepPlot->xAxis->setLabel(tr("strength"));
    m_sweepPlot->yAxis->setLabel(tr("mean KL(steered || base)"));
    m_sweepPlot->yAxis2->setLabel(tr("Δ log p(target)"));
    m_sweepPlot->yAxis2->setVisible(true);
    m_sweepPlot->legend->setVisible(true);
    m_ablationPlot->xAxis->setLabel(tr("feature (ranked)"));
    m_ablationPlot->yAxis->setLabel(tr("effect"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(m_status);
    layout->addWidget(m_tabs, 1);

    connect(run, &QPushButton::clicked, this, &SteeringPanel::runComparison);
    connect(sweep, &QPushButton::clicked, this, [this] { runSweep(std::max(1.0, std::abs(m_strength->value())), 9); });
    connect(ablate, &QPushButton::clicked, this, &SteeringPanel::runAblationStudy);
    connect(m_ablation, &QTableWidget::cellDoubleClicked, this, [this](int row) {
        if (auto *i = m_ablation->item(row, 0))
            Q_EMIT openFeature(m_index->currentData().toLongLong(), i->text().toLongLong());
    });
    connect(m_sweepPlot, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable *, int index, QMouseEvent *) {
        if (index >= 0 && index < m_sweepTexts.size())
            m_sweepDetail->setText(tr("strength %1 (KL %2, Δ log p(target) %3, perplexity %4): %5")
                                       .arg(m_sweep[size_t(index)][0])
                                       .arg(m_sweep[size_t(index)][1], 0, 'g', 3)
                                       .arg(m_sweep[size_t(index)][2], 0, 'f', 3)
                                       .arg(m_sweep[size_t(index)][3], 0, 'f', 2)
                                       .arg(m_sweepTexts[index]));
    });
    connect(m_workbench, &Workbench::indexesChanged, this, &SteeringPanel::reloadIndexes);
}

SteeringPanel::~SteeringPanel() = default;

void SteeringPanel::addExtraFeature(qint64 feature, const QString &mode, double value)
{
    const int row = m_extraEdits->rowCount();
    m_extraEdits->insertRow(row);
    auto *source = item(QString::number(feature));
    source->setData(Qt::UserRole, QVariant::fromValue<qint64>(feature));
    m_extraEdits->setItem(row, 0, source);
    m_extraEdits->setItem(row, 1, item(mode));
    m_extraEdits->setItem(row, 2, item(QString::number(value), true));
}

void SteeringPanel::addExtraVector(const QString &path, double value)
{
    const int row = m_extraEdits->rowCount();
    m_extraEdits->insertRow(row);
    auto *source = item(QFileInfo(path).fileName());
    source->setToolTip(path);
    source->setData(Qt::UserRole + 1, path);
    m_extraEdits->setItem(row, 0, source);
    m_extraEdits->setItem(row, 1, item(QStringLiteral("add")));
    m_extraEdits->setItem(row, 2, item(QString::number(value), true));
}

int SteeringPanel::extraEditCount() const
{
    return m_extraEdits->rowCount();
}

QJsonArray SteeringPanel::extraEdits() const
{
    QJsonArray out;
    for (int row = 0; row < m_extraEdits->rowCount(); ++row) {
        const QTableWidgetItem *source = m_extraEdits->item(row, 0);
        const double value = m_extraEdits->item(row, 2)->text().toDouble();
        const QString vector = source->data(Qt::UserRole + 1).toString();
        if (!vector.isEmpty())
            out.append(QJsonObject{{QStringLiteral("vector"), vector}, {QStringLiteral("value"), value}});
        else
            out.append(QJsonObject{{QStringLiteral("feature"), source->data(Qt::UserRole).toLongLong()},
                                   {QStringLiteral("mode"), m_extraEdits->item(row, 1)->text()},
                                   {QStringLiteral("value"), value}});
    }
    return out;
}

void SteeringPanel::setExtraEdits(const QJsonArray &edits)
{
    m_extraEdits->setRowCount(0);
    for (const QJsonValue &e : edits) {
        const QJsonObject o = e.toObject();
        if (o.contains(QStringLiteral("vector")))
            addExtraVector(o.value(QStringLiteral("vector")).toString(), o.value(QStringLiteral("value")).toDouble());
        else if (o.contains(QStringLiteral("feature")))
            addExtraFeature(o.value(QStringLiteral("feature")).toInteger(), o.value(QStringLiteral("mode")).toString(),
                            o.value(QStringLiteral("value")).toDouble());
    }
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
    m_status->setText(tr("Feature %1 ready to %2: set a prompt and press Compare.").arg(feature).arg(mode));
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

std::shared_ptr<SteeringPanel::Job> SteeringPanel::prepare(QString *problem) const
{
    auto job = std::make_shared<Job>();
    core::store::Database *db = m_workbench->database();
    if (!db || m_index->currentIndex() < 0) {
        *problem = tr("Index a corpus first: steering uses the index's model and SAE.");
        return nullptr;
    }
    auto info = core::analysis::indexInfo(*db, m_index->currentData().toLongLong());
    if (!info) {
        *problem = QString::fromStdString(info.errorMessage());
        return nullptr;
    }
    if (m_prompt->toPlainText().trimmed().isEmpty()) {
        *problem = tr("Type a prompt first.");
        return nullptr;
    }
    job->info = *info;
    job->workspace = db->path();
    job->mode = m_mode->currentData().toString().toStdString();
    job->feature = m_feature->value();
    if (job->feature >= info->dSae) {
        *problem = tr("Feature %1 is not in this SAE (%2 features).").arg(job->feature).arg(info->dSae);
        return nullptr;
    }
    job->strength = m_strength->value();
    job->timesMax = m_timesMax->isChecked();
    if (job->timesMax) {
        auto d = core::analysis::loadFeatureDashboard(*db, info->id, job->feature);
        job->featureMax = d ? double(d->max) : 0;
    }
    job->positions = m_positions->currentData().toInt();
    job->prompt = m_prompt->toPlainText().toStdString();
    job->target = m_target->text().toStdString();
    job->generation.maxNewTokens = m_maxTokens->value();
    job->generation.temperature = m_temperature->value();
    job->generation.seed = uint64_t(m_seed->value());
    for (int row = 0; row < m_extraEdits->rowCount(); ++row) {
        Job::Extra x;
        const QTableWidgetItem *source = m_extraEdits->item(row, 0);
        x.vectorPath = source->data(Qt::UserRole + 1).toString().toStdString();
        x.feature = source->data(Qt::UserRole).toLongLong();
        x.mode = m_extraEdits->item(row, 1)->text().toStdString();
        x.value = m_extraEdits->item(row, 2)->text().toDouble();
        if (x.vectorPath.empty() && x.feature >= info->dSae) {
            *problem = tr("Feature %1 in the list is not in this SAE.").arg(x.feature);
            return nullptr;
        }
        job->extras.push_back(x);
    }
    return job;
}

core::Result<std::string> SteeringPanel::runStrengths(core::analysis::ModelCache &models, const std::shared_ptr<Job> &job,
                                                     core::jobs::Progress &progress)
{
    progress.begin(int64_t(job->strengths.size()), "Loading " + job->info.modelPath);
    core::analysis::ModelCache::Model model;
    FS_TRY(model, models.model(job->info.modelPath));
    std::shared_ptr<core::sae::Sae> sae;
    FS_TRY(sae, models.sae(job->info.saePath, job->info.hook, model.decoder->device()));
    auto db = core::store::Database::open(job->workspace);
    if (!db)
        return db.error();
    std::string modelFp;
    FS_TRY(modelFp, core::analysis::fingerprintModel(job->info.modelPath));
    const std::string saeFp = core::analysis::fingerprintSae(*sae);
    core::analysis::SteerRequest r;
    r.prompt = model.tokenizer->encodeForModel(job->prompt, model.tokenizer->bosId().has_value()).ids;
    r.generation = job->generation;
    if (!job->target.empty()) {
        int64_t target = 0;
        FS_TRY(target, core::analysis::singleToken(*model.tokenizer, job->target));
        r.targets = {target};
    }
    core::analysis::SteeringEdit e;
    FS_TRY(e.kind, core::analysis::parseEditKind(job->mode));
    e.sae = sae;
    e.feature = job->feature;
    e.positions.kind = core::model::PositionPolicy::Kind(job->positions);
    e.positions.promptLength = int64_t(r.prompt.size());
    // The fixed edits of the list, after the main one (applied in this order at the hook).
    std::vector<core::analysis::SteeringEdit> extras;
    for (const auto &x : job->extras) {
        core::analysis::SteeringEdit xe;
        xe.positions = e.positions;
        xe.value = x.value;
        if (!x.vectorPath.empty()) {
            xe.kind = core::analysis::EditKind::Add;
            xe.hook = job->info.hook;
            FS_TRY(xe.vector, core::analysis::loadSteeringVector(x.vectorPath));
            if (xe.vector.numel() != sae->config().dIn)
                return core::fileError(x.vectorPath, "the vector has " + std::to_string(xe.vector.numel()) +
                                                         " entries; the hook has " + std::to_string(sae->config().dIn));
            xe.vector = xe.vector.to(model.decoder->device());
        } else {
            FS_TRY(xe.kind, core::analysis::parseEditKind(x.mode));
            xe.sae = sae;
            xe.feature = x.feature;
        }
        extras.push_back(xe);
    }
    job->cached = true;
    for (double a : job->strengths) {
        e.value = a;
        r.edits = {e};
        r.edits.insert(r.edits.end(), extras.begin(), extras.end());
        core::analysis::CachedSteer run;
        FS_TRY(run, core::analysis::steerCached(db->get(), *model.decoder, modelFp, saeFp, r));
        job->cached = job->cached && run.cached;
        core::analysis::SteerResult &result = run.result;
        job->steeredTexts.push_back(model.tokenizer->decode(result.steeredTokens));
        job->results.push_back(std::move(result));
        progress.advance();
        if (progress.cancelled())
            return core::Error{"cancelled"};
    }
    const auto &first = job->results.front();
    for (int64_t t : first.baseTokens)
        job->baseTokens.push_back(core::tokenize::sanitizeUtf8(model.tokenizer->tokenBytes(t)));
    for (int64_t t : first.steeredTokens)
        job->steeredTokens.push_back(core::tokenize::sanitizeUtf8(model.tokenizer->tokenBytes(t)));
    for (const auto &n : first.nextToken)
        job->next.push_back({core::tokenize::sanitizeUtf8(model.tokenizer->tokenBytes(n.token)), {n.base, n.steered}});
    return std::to_string(job->results.size()) + " steering run(s) on " + job->info.saeLabel + (job->cached ? " (cached)" : "");
}

int SteeringPanel::runComparison()
{
    QString problem;
    auto job = prepare(&problem);
    if (!job) {
        m_status->setText(problem);
        return 0;
    }
    job->strengths = {job->timesMax ? job->strength * job->featureMax : job->strength};
    core::analysis::ModelCache *models = &m_workbench->models();
    auto work = [models, job](core::jobs::Progress &progress) { return runStrengths(*models, job, progress); };
    m_status->setText(tr("Running..."));
    return m_workbench->runner()->run(tr("Steer feature %1").arg(job->feature), work, [this, job](const JobState &state) {
        if (!state.succeeded) {
            m_status->setText(state.outcome);
            return;
        }
        showComparison(*job);
    });
}

void SteeringPanel::showComparison(const Job &job)
{
    const auto &r = job.results.front();
    m_klMean = r.klMean;
    m_lastCached = job.cached;
    m_baseTokens.clear();
    m_steeredTokens.clear();
    for (const auto &t : job.baseTokens)
        m_baseTokens << displayToken(t);
    for (const auto &t : job.steeredTokens)
        m_steeredTokens << displayToken(t);
    m_base->setHtml(continuationHtml(m_baseTokens, m_baseTokens));
    m_steered->setHtml(continuationHtml(m_steeredTokens, m_baseTokens));
    m_next->setRowCount(0);
    for (const auto &[token, p] : job.next) {
        const int row = m_next->rowCount();
        m_next->insertRow(row);
        m_next->setItem(row, 0, item(displayToken(token)));
        m_next->setItem(row, 1, item(QString::number(p.first, 'f', 4), true));
        m_next->setItem(row, 2, item(QString::number(p.second, 'f', 4), true));
    }
    QString status = tr("%1 feature %2 by %3%6: mean KL(steered || base) %4 nats; steered text perplexity under the base model %5")
                         .arg(QString::fromStdString(job.mode))
                         .arg(job.feature)
                         .arg(job.strengths.front(), 0, 'g', 4)
                         .arg(r.klMean, 0, 'g', 4)
                         .arg(r.steeredPerplexityUnderBase, 0, 'f', 2)
                         .arg(job.extras.empty() ? QString() : tr(" with %n more edit(s) from the list", nullptr, int(job.extras.size())));
    if (!r.targetLogProbDelta.empty())
        status += tr("; target log-prob %1 → %2").arg(r.baseTarget[0], 0, 'f', 3).arg(r.steeredTarget[0], 0, 'f', 3);
    if (job.cached)
        status += tr(" (from the workspace cache)");
    m_status->setText(status);
    m_tabs->setCurrentIndex(0);
}

int SteeringPanel::runSweep(double limit, int points)
{
    QString problem;
    auto job = prepare(&problem);
    if (!job) {
        m_status->setText(problem);
        return 0;
    }
    // Reuse the comparison's job body with several strengths.
    const double scale = job->timesMax ? job->featureMax : 1.0;
    std::vector<double> strengths;
    for (int i = 0; i < points; ++i)
        strengths.push_back((-limit + 2 * limit * double(i) / double(points - 1)) * scale);
    core::analysis::ModelCache *models = &m_workbench->models();
    job->strengths = strengths;
    auto work = [models, job](core::jobs::Progress &progress) { return runStrengths(*models, job, progress); };
    m_status->setText(tr("Sweeping..."));
    return m_workbench->runner()->run(tr("Sweep feature %1").arg(job->feature), work, [this, job](const JobState &state) {
        if (!state.succeeded) {
            m_status->setText(state.outcome);
            return;
        }
        m_sweep.clear();
        m_sweepTexts.clear();
        for (size_t i = 0; i < job->results.size(); ++i) {
            const auto &r = job->results[i];
            const double d = r.targetLogProbDelta.empty() ? 0.0 : r.targetLogProbDelta[0];
            m_sweep.push_back({job->strengths[i], r.klMean, d, r.steeredPerplexityUnderBase});
            m_sweepTexts << QString::fromStdString(job->steeredTexts[i]).toHtmlEscaped();
        }
        // Without a target the right axis shows the fluency proxy.
        m_sweepMetric->setCurrentIndex(job->target.empty() ? 1 : 0);
        plotSweep();
        m_status->setText(state.outcome);
        m_tabs->setCurrentIndex(1);
    });
}

void SteeringPanel::plotSweep()
{
    const int metric = m_sweepMetric->currentData().toInt();
    QVector<double> x, kl, right;
    for (const auto &p : m_sweep) {
        x << p[0];
        kl << p[1];
        right << p[size_t(metric)];
    }
    m_sweepPlot->clearGraphs();
    auto *klGraph = m_sweepPlot->addGraph(m_sweepPlot->xAxis, m_sweepPlot->yAxis);
    klGraph->setName(tr("mean KL"));
    klGraph->setData(x, kl);
    klGraph->setPen(QPen(activationColor(), 2));
    klGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 7));
    const QString rightName = metric == 2 ? tr("Δ log p(target)") : tr("perplexity under base");
    auto *rightGraph = m_sweepPlot->addGraph(m_sweepPlot->xAxis, m_sweepPlot->yAxis2);
    rightGraph->setName(rightName);
    rightGraph->setData(x, right);
    rightGraph->setPen(QPen(positiveColor(), 2));
    rightGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 6));
    m_sweepPlot->yAxis2->setLabel(rightName);
    m_sweepPlot->rescaleAxes();
    m_sweepPlot->replot();
}

int SteeringPanel::runAblationStudy()
{
    QString problem;
    auto job = prepare(&problem);
    if (!job) {
        m_status->setText(problem);
        return 0;
    }
    core::analysis::ModelCache *models = &m_workbench->models();
    auto work = [models, job](core::jobs::Progress &progress) -> core::Result<std::string> {
        core::analysis::ModelCache::Model model;
        FS_TRY(model, models->model(job->info.modelPath));
        std::shared_ptr<core::sae::Sae> sae;
        FS_TRY(sae, models->sae(job->info.saePath, job->info.hook, model.decoder->device()));
        const auto prompt = model.tokenizer->encodeForModel(job->prompt, model.tokenizer->bosId().has_value()).ids;
        std::optional<int64_t> target;
        if (!job->target.empty()) {
            int64_t id = 0;
            FS_TRY(id, core::analysis::singleToken(*model.tokenizer, job->target));
            target = id;
        }
        FS_TRY(job->ablation, core::analysis::ablationStudy(*model.decoder, sae, prompt, 20, target, &progress));
        return std::to_string(job->ablation.size()) + " features ablated";
    };
    m_status->setText(tr("Ablating..."));
    return m_workbench->runner()->run(tr("Ablation study"), work, [this, job](const JobState &state) {
        if (!state.succeeded) {
            m_status->setText(state.outcome);
            return;
        }
        const bool byTarget = !job->target.empty();
        m_ablation->setRowCount(0);
        QVector<double> keys, values;
        QVector<QString> names;
        QStringList tips;
        for (const auto &e : job->ablation) {
            const int row = m_ablation->rowCount();
            m_ablation->insertRow(row);
            m_ablation->setItem(row, 0, item(QString::number(e.feature), true));
            m_ablation->setItem(row, 1, item(QString::number(double(e.activation), 'g', 4), true));
            m_ablation->setItem(row, 2, item(byTarget ? QString::number(e.targetLogProbDelta, 'f', 4) : QString(), true));
            m_ablation->setItem(row, 3, item(QString::number(e.kl, 'g', 4), true));
            keys << row + 1;
            values << (byTarget ? e.targetLogProbDelta : e.kl);
            names << QString::number(e.feature);
            tips << tr("feature %1: %2 %3").arg(e.feature).arg(byTarget ? tr("Δ log p(target)") : tr("KL")).arg(values.back(), 0, 'g', 4);
        }
        m_ablationPlot->clearPlottables();
        auto *bars = new QCPBars(m_ablationPlot->xAxis, m_ablationPlot->yAxis);
        bars->setData(keys, values, true);
        bars->setPen(Qt::NoPen);
        bars->setBrush(byTarget ? negativeColor() : activationColor());
        QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
        ticker->addTicks(keys, names);
        m_ablationPlot->xAxis->setTicker(ticker);
        m_ablationPlot->xAxis->setTickLabelRotation(60);
        m_ablationPlot->yAxis->setLabel(byTarget ? tr("Δ log p(target) when ablated") : tr("KL(ablated || base)"));
        m_ablationPlot->rescaleAxes();
        m_ablationPlot->xAxis->setRange(0.3, keys.size() + 0.7);
        installBarTooltips(m_ablationPlot, bars, tips);
        m_ablationPlot->replot();
        m_status->setText(tr("%1. Double-click a row for the feature's dashboard.").arg(state.outcome));
        m_tabs->setCurrentIndex(2);
    });
}

QString SteeringPanel::baseText() const
{
    return m_baseTokens.join(QString());
}

QString SteeringPanel::steeredText() const
{
    return m_steeredTokens.join(QString());
}

} // namespace fscope::ui
