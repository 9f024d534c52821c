#include "ui/decompositionpanel.h"

#include "ui/jobrunner.h"
#include "ui/plotstyle.h"
#include "ui/qcustomplot_include.h"

#include "core/model/model_cache.h"
#include "core/sae/sae_io.h"
#include "core/steer/decompose_job.h"
#include "core/steer/decomposition.h"
#include "core/steer/steering.h"
#include "core/steer/steering_vector.h"
#include "core/store/index_store.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace fscope::ui {

struct DecompositionPanel::State {
    qint64 indexId = 0;
    std::vector<core::steer::Decomposition> results;
    double vectorNorm = 0;
    std::vector<double> normQuantiles; // 5%, 50%, 95% of activation norms at the hook
    // Re-steer per method (when a prompt is given): the top-k rebuild against v itself.
    std::vector<core::steer::ResteerComparison> resteer;
    bool hasTarget = false;
};

namespace {

// Methods run by default: those that need nothing but the vector and the SAE, plus the
// in-context difference (activations come from the index's corpus).
const QStringList kDefaultMethods
    = { "encode", "encode-minus-zero", "decoder-cosine", "mp", "omp", "nnls", "lasso" };

QColor methodColor(int i)
{
    static const QColor palette[]
        = { QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e), QColor(0x2c, 0xa0, 0x2c),
              QColor(0xd6, 0x27, 0x28), QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
              QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f), QColor(0xbc, 0xbd, 0x22),
              QColor(0x17, 0xbe, 0xcf), QColor(0x39, 0x3b, 0x79), QColor(0x63, 0x79, 0x39) };
    return palette[i % 12];
}

} // namespace

DecompositionPanel::DecompositionPanel(Workbench *workbench, QWidget *parent)
    : QWidget(parent)
    , m_workbench(workbench)
    , m_state(std::make_shared<State>())
{
    auto *controls = new QWidget;
    auto *form = new QFormLayout(controls);
    form->setContentsMargins(0, 0, 0, 0);
    m_index = new QComboBox;
    m_index->setObjectName(QStringLiteral("decompositionSae"));
    m_index->setToolTip(
        tr("An indexed SAE: its model builds CAA vectors, its corpus supplies activations"));
    form->addRow(tr("SAE"), m_index);
    auto *vectorRow = new QHBoxLayout;
    m_vector = new QLineEdit;
    m_vector->setObjectName(QStringLiteral("decompositionVector"));
    m_vector->setPlaceholderText(tr("steering vector .npy / .safetensors"));
    auto *browse = new QPushButton(tr("..."));
    vectorRow->addWidget(m_vector);
    vectorRow->addWidget(browse);
    form->addRow(tr("Vector"), vectorRow);
    auto *pairsRow = new QHBoxLayout;
    m_pairs = new QLineEdit;
    m_pairs->setObjectName(QStringLiteral("decompositionPairs"));
    m_pairs->setPlaceholderText(tr("or prompt pairs .jsonl (CAA)"));
    auto *browsePairs = new QPushButton(tr("..."));
    m_position = new QComboBox;
    m_position->setObjectName(QStringLiteral("decompositionPosition"));
    m_position->addItem(tr("answer token"), QStringLiteral("answer"));
    m_position->addItem(tr("last token"), QStringLiteral("last"));
    m_position->addItem(tr("completion mean"), QStringLiteral("mean"));
    pairsRow->addWidget(m_pairs);
    pairsRow->addWidget(browsePairs);
    pairsRow->addWidget(m_position);
    form->addRow(tr("Pairs"), pairsRow);
    auto *grid = new QGridLayout;
    int i = 0;
    for (auto method : core::steer::allDecompositionMethods()) {
        const QString name = QString::fromStdString(core::steer::decompositionMethodName(method));
        auto *box = new QCheckBox(name);
        box->setObjectName(QStringLiteral("method-") + name);
        box->setChecked(kDefaultMethods.contains(name));
        if (core::steer::needsActivations(method))
            box->setToolTip(name == QLatin1String("contrastive")
                    ? tr("needs prompt pairs")
                    : tr("reads activations from the index's corpus"));
        grid->addWidget(box, i / 3, i % 3);
        m_methods.push_back(box);
        ++i;
    }
    form->addRow(tr("Methods"), grid);
    m_k = new QSpinBox;
    m_k->setObjectName(QStringLiteral("decompositionK"));
    m_k->setRange(1, 64);
    m_k->setValue(32);
    m_k->setToolTip(tr("Atoms for matching pursuit and OMP; terms of the re-steer rebuild"));
    form->addRow(tr("k"), m_k);
    auto *resteerRow = new QHBoxLayout;
    m_resteerPrompt = new QLineEdit;
    m_resteerPrompt->setObjectName(QStringLiteral("resteerPrompt"));
    m_resteerPrompt->setPlaceholderText(tr("prompt: steer with v and with each top-k rebuild"));
    m_strength = new QDoubleSpinBox;
    m_strength->setObjectName(QStringLiteral("resteerStrength"));
    m_strength->setRange(-1000, 1000);
    m_strength->setValue(1.0);
    m_strength->setToolTip(tr("Multiple of the vector added at every position"));
    m_target = new QLineEdit;
    m_target->setObjectName(QStringLiteral("resteerTarget"));
    m_target->setPlaceholderText(tr("target token"));
    m_target->setMaximumWidth(110);
    resteerRow->addWidget(m_resteerPrompt, 1);
    resteerRow->addWidget(m_strength);
    resteerRow->addWidget(m_target);
    form->addRow(tr("Re-steer"), resteerRow);
    auto *runButton = new QPushButton(tr("Decompose"));
    form->addRow(runButton);
    m_status = new QLabel(tr("Load a vector (or prompt pairs) and press Decompose."));
    m_status->setWordWrap(true);
    form->addRow(m_status);
    m_norms = new QLabel;
    m_norms->setWordWrap(true);
    form->addRow(m_norms);

    m_summary = new QTableWidget(0, 6);
    m_summary->setObjectName(QStringLiteral("decompositionSummary"));
    m_summary->setHorizontalHeaderLabels({ tr("Method"), tr("Cosine"), tr("FVE"), tr("Non-zero"),
        tr("KL(rebuilt || v)"), tr("Δ target") });
    m_summary->horizontalHeaderItem(4)->setToolTip(
        tr("Mean KL between next-token distributions when steering with the top-k "
           "rebuild and with v itself: 0 means the rebuild steers the same way"));
    m_summary->horizontalHeaderItem(5)->setToolTip(
        tr("Change of the target token's log-prob at the last position: "
           "rebuild / original"));
    m_summary->verticalHeader()->hide();
    m_summary->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_summary->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_summary->horizontalHeader()->setStretchLastSection(true);
    m_curves = new QCustomPlot;
    m_curves->setObjectName(QStringLiteral("decompositionCurves"));
    m_bars = new QCustomPlot;
    m_bars->setObjectName(QStringLiteral("decompositionBars"));
    for (QCustomPlot *p : { m_curves, m_bars }) {
        applyPlotStyle(p);
        p->setMinimumSize(240, 170);
    }
    setPlotTitle(m_curves, tr("FVE of the top-k rebuild"));
    {
        auto *legendRect = new QCPLayoutGrid;
        m_curves->plotLayout()->addElement(1, 1, legendRect);
        legendRect->addElement(0, 0, m_curves->legend); // moves the legend out of the axis rect
        legendRect->setMargins(QMargins(0, 0, 0, 0));
        m_curves->plotLayout()->setColumnStretchFactor(1, 0.001);
    }
    setPlotTitle(m_bars, tr("Top features"));
    m_method = new QComboBox;
    m_method->setObjectName(QStringLiteral("decompositionShown"));
    m_table = new QTableWidget(0, 3);
    m_table->setObjectName(QStringLiteral("decompositionTable"));
    m_table->setHorizontalHeaderLabels(
        { tr("Feature"), tr("Coefficient"), tr("Pre-activation at v = 0") });
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->horizontalHeader()->setStretchLastSection(true);

    auto *middle = new QWidget;
    auto *ml = new QVBoxLayout(middle);
    ml->setContentsMargins(0, 0, 0, 0);
    ml->addWidget(m_summary, 1);
    ml->addWidget(m_curves, 2);
    auto *right = new QWidget;
    auto *rl = new QVBoxLayout(right);
    rl->setContentsMargins(0, 0, 0, 0);
    rl->addWidget(m_method);
    rl->addWidget(m_bars, 2);
    rl->addWidget(m_table, 1);
    auto *split = new QSplitter(Qt::Horizontal);
    split->addWidget(controls);
    split->addWidget(middle);
    split->addWidget(right);
    split->setStretchFactor(1, 2);
    split->setStretchFactor(2, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Steering vector"), {}, tr("Vectors (*.npy *.safetensors)"));
        if (!f.isEmpty())
            m_vector->setText(f);
    });
    connect(browsePairs, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Prompt pairs"), {}, tr("JSON lines (*.jsonl *.json)"));
        if (!f.isEmpty())
            m_pairs->setText(f);
    });
    connect(runButton, &QPushButton::clicked, this, &DecompositionPanel::run);
    connect(m_method, &QComboBox::currentIndexChanged, this, &DecompositionPanel::showMethod);
    connect(m_summary, &QTableWidget::cellClicked, this,
        [this](int row) { m_method->setCurrentIndex(row); });
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this](int row) {
        if (auto *item = m_table->item(row, 0))
            Q_EMIT openFeature(m_state->indexId, item->text().toLongLong());
    });
    connect(m_bars, &QCustomPlot::plottableClick, this,
        [this](QCPAbstractPlottable *p, int index, QMouseEvent *) {
            const QVariant feature = p->property("features").toList().value(index);
            if (feature.isValid())
                Q_EMIT openFeature(m_state->indexId, feature.toLongLong());
        });
    connect(m_workbench, &Workbench::indexesChanged, this, &DecompositionPanel::reloadIndexes);
    reloadIndexes();
}

DecompositionPanel::~DecompositionPanel() = default;

const std::vector<core::steer::Decomposition> &DecompositionPanel::results() const
{
    return m_state->results;
}

void DecompositionPanel::setVectorFile(const QString &path)
{
    m_vector->setText(path);
}

void DecompositionPanel::setPairsFile(const QString &path)
{
    m_pairs->setText(path);
}

void DecompositionPanel::setMethods(const QStringList &names)
{
    for (QCheckBox *box : m_methods)
        box->setChecked(names.contains(box->text()));
}

void DecompositionPanel::selectMethod(const QString &name)
{
    m_method->setCurrentIndex(std::max(0, m_method->findText(name)));
}

void DecompositionPanel::reloadIndexes()
{
    m_workbench->fillIndexChoice(m_index);
}

int DecompositionPanel::run()
{
    auto *db = m_workbench->database();
    const qint64 indexId = m_index->currentData().toLongLong();
    if (!db || indexId <= 0) {
        m_status->setText(
            tr("Index an SAE first: decompositions are read against an indexed SAE."));
        return 0;
    }
    auto info = core::store::indexInfo(*db, indexId);
    if (!info) {
        m_status->setText(QString::fromStdString(info.errorMessage()));
        return 0;
    }
    if (m_vector->text().isEmpty() && m_pairs->text().isEmpty()) {
        m_status->setText(tr("Choose a vector file or a prompt-pairs file."));
        return 0;
    }
    std::vector<core::steer::DecompositionMethod> methods;
    for (QCheckBox *box : m_methods)
        if (box->isChecked())
            if (auto m = core::steer::parseDecompositionMethod(box->text().toStdString()))
                methods.push_back(*m);
    if (methods.empty()) {
        m_status->setText(tr("Tick at least one method."));
        return 0;
    }
    // Activations from the index's own corpus (16 contexts), read here on the UI thread.
    std::vector<std::vector<int32_t>> contexts;
    for (int64_t c = 0; c < 16; ++c) {
        auto ids = core::store::loadContext(*db, info->corpusId, c);
        if (!ids || ids->empty())
            break;
        contexts.push_back(std::move(ids).value());
    }
    struct Inputs {
        std::string modelPath, saePath, hook, vectorPath, pairsPath, position, resteerPrompt,
            target;
        std::vector<std::vector<int32_t>> contexts;
        std::vector<core::steer::DecompositionMethod> methods;
        int64_t k = 32;
        double strength = 1;
    };
    auto in = std::make_shared<Inputs>();
    in->modelPath = info->modelPath;
    in->saePath = info->saePath;
    in->hook = info->hook;
    in->vectorPath = m_vector->text().toStdString();
    in->pairsPath = m_pairs->text().toStdString();
    in->position = m_position->currentData().toString().toStdString();
    in->contexts = std::move(contexts);
    in->methods = methods;
    in->k = m_k->value();
    in->resteerPrompt = m_resteerPrompt->text().toStdString();
    in->target = m_target->text().toStdString();
    in->strength = m_strength->value();
    auto out = std::make_shared<State>();
    out->indexId = indexId;
    core::model::ModelCache *models = &m_workbench->models();
    // The workflow is core's (runDecomposition, shared with the CLI); this only gathers inputs.
    auto work = [in, out, models](core::jobs::Progress &progress,
                    core::store::Database *workspace) -> core::Result<std::string> {
        core::model::ModelCache::Model model;
        FS_TRY(model, models->model(in->modelPath, "cpu"));
        std::shared_ptr<core::sae::Sae> sae;
        FS_TRY(sae, models->sae(in->saePath, in->hook, at::Device(at::kCPU)));
        core::steer::DecomposeRequest request;
        request.sae = sae.get();
        request.decoder = model.decoder.get();
        request.tokenizer = model.tokenizer.get();
        request.vectorPath = in->vectorPath;
        request.pairsPath = in->pairsPath;
        request.position = in->position;
        request.methods = in->methods;
        request.skipUnavailable = true;
        request.options.k = in->k;
        request.resteerPrompt = in->resteerPrompt;
        request.target = in->target;
        request.strength = in->strength;
        if (!in->contexts.empty()) {
            std::vector<int64_t> flat;
            for (const auto &c : in->contexts)
                flat.insert(flat.end(), c.begin(), c.end());
            request.contexts
                = at::tensor(flat, at::kLong).reshape({ int64_t(in->contexts.size()), -1 });
        }
        core::steer::DecomposeRun run;
        FS_TRY(run, core::steer::runDecomposition(workspace, request, &progress));
        const int64_t fromCache = std::count(run.cached.begin(), run.cached.end(), true);
        out->results = std::move(run.results);
        out->vectorNorm = run.vectorNorm;
        out->normQuantiles = std::move(run.normQuantiles);
        out->resteer = std::move(run.resteer);
        out->hasTarget = run.hasTarget;
        std::string skipped;
        for (auto m : run.skipped)
            skipped += (skipped.empty() ? "" : ", ") + core::steer::decompositionMethodName(m);
        return std::to_string(out->results.size()) + " decompositions"
            + (fromCache ? " (" + std::to_string(fromCache) + " from the workspace)"
                         : std::string())
            + (skipped.empty() ? "" : " (skipped for lack of inputs: " + skipped + ")");
    };
    m_status->setText(tr("Decomposing..."));
    return m_workbench->runner()->runOnWorkspace(tr("Decompose a steering vector"),
        m_workbench->workspacePath(), work, [this, out](const JobState &state) {
            if (!state.succeeded) {
                m_status->setText(state.outcome);
                return;
            }
            m_status->setText(state.outcome);
            m_state = out;
            showResults();
        });
}

void DecompositionPanel::showResults()
{
    const State &s = *m_state;
    if (s.normQuantiles.size() == 3) {
        const bool outside = s.vectorNorm < s.normQuantiles[0] || s.vectorNorm > s.normQuantiles[2];
        m_norms->setText(
            tr("Vector norm %1; activation norms at the hook: 5% %2, median %3, 95% %4.%5")
                .arg(s.vectorNorm, 0, 'g', 4)
                .arg(s.normQuantiles[0], 0, 'g', 4)
                .arg(s.normQuantiles[1], 0, 'g', 4)
                .arg(s.normQuantiles[2], 0, 'g', 4)
                .arg(outside ? tr(" The vector is out of that range: the SAE's encoder was never "
                                  "trained on such inputs, so f(v) is unreliable.")
                             : QString()));
    } else {
        m_norms->setText(tr("Vector norm %1.").arg(s.vectorNorm, 0, 'g', 4));
    }
    m_summary->setRowCount(int(s.results.size()));
    m_curves->clearGraphs();
    int maxK = 1;
    for (size_t i = 0; i < s.results.size(); ++i) {
        const auto &d = s.results[i];
        const QString name = QString::fromStdString(core::steer::decompositionMethodName(d.method));
        m_summary->setItem(int(i), 0, new QTableWidgetItem(name));
        m_summary->setItem(int(i), 1, new QTableWidgetItem(QString::number(d.cosine, 'f', 3)));
        m_summary->setItem(int(i), 2, new QTableWidgetItem(QString::number(d.fve, 'f', 3)));
        m_summary->setItem(int(i), 3, new QTableWidgetItem(QString::number(d.top.size())));
        if (i < s.resteer.size()) {
            const auto &r = s.resteer[i];
            m_summary->setItem(
                int(i), 4, new QTableWidgetItem(QString::number(r.klRebuiltVsOriginal, 'g', 3)));
            if (s.hasTarget)
                m_summary->setItem(int(i), 5,
                    new QTableWidgetItem(QStringLiteral("%1 / %2")
                                             .arg(r.targetDeltaRebuilt, 0, 'f', 3)
                                             .arg(r.targetDeltaOriginal, 0, 'f', 3)));
        }
        auto *g = m_curves->addGraph();
        g->setName(name);
        g->setPen(QPen(methodColor(int(i)), 2));
        for (size_t k = 0; k < d.fveCurve.size(); ++k)
            g->addData(double(k + 1), d.fveCurve[k]);
        maxK = std::max(maxK, int(d.fveCurve.size()));
    }
    m_summary->setColumnHidden(4, s.resteer.empty());
    m_summary->setColumnHidden(5, !s.hasTarget);
    m_summary->resizeColumnsToContents();
    m_curves->xAxis->setLabel(tr("k (terms)"));
    m_curves->yAxis->setLabel(tr("FVE"));
    m_curves->xAxis->setRange(0.5, maxK + 0.5);
    m_curves->yAxis->setRange(-0.1, 1.05);
    QSharedPointer<QCPAxisTickerFixed> whole(new QCPAxisTickerFixed);
    whole->setTickStep(1);
    whole->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_curves->xAxis->setTicker(whole);
    m_curves->legend->setVisible(true);
    m_curves->legend->setFont(QFont(font().family(), 7));
    m_curves->replot();
    m_method->blockSignals(true);
    m_method->clear();
    for (const auto &d : s.results)
        m_method->addItem(QString::fromStdString(core::steer::decompositionMethodName(d.method)));
    m_method->blockSignals(false);
    showMethod(0);
}

void DecompositionPanel::showMethod(int row)
{
    const State &s = *m_state;
    m_bars->clearPlottables();
    m_table->setRowCount(0);
    if (row < 0 || row >= int(s.results.size())) {
        m_bars->replot();
        return;
    }
    const auto &d = s.results[size_t(row)];
    // The 10 largest positive and 10 largest negative terms, by coefficient.
    std::vector<std::pair<int64_t, double>> pos, neg;
    for (const auto &t : d.top) {
        if (t.second > 0 && pos.size() < 10)
            pos.push_back(t);
        if (t.second < 0 && neg.size() < 10)
            neg.push_back(t);
    }
    std::vector<std::pair<int64_t, double>> shown = pos;
    shown.insert(shown.end(), neg.rbegin(), neg.rend());
    auto *up = new QCPBars(m_bars->xAxis, m_bars->yAxis);
    auto *down = new QCPBars(m_bars->xAxis, m_bars->yAxis);
    up->setBrush(positiveColor());
    down->setBrush(negativeColor());
    up->setPen(Qt::NoPen);
    down->setPen(Qt::NoPen);
    QVariantList upFeatures, downFeatures;
    QStringList upTips, downTips;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    double extent = 1e-12;
    for (size_t i = 0; i < shown.size(); ++i) {
        const auto [f, c] = shown[i];
        (c > 0 ? up : down)->addData(double(i), c);
        (c > 0 ? upFeatures : downFeatures) << QVariant::fromValue<qint64>(f);
        (c > 0 ? upTips : downTips)
            << tr("feature %1: %2 (click to open)").arg(f).arg(c, 0, 'g', 4);
        ticker->addTick(double(i), QString::number(f));
        extent = std::max(extent, std::abs(c));
    }
    up->setProperty("features", upFeatures);
    down->setProperty("features", downFeatures);
    installBarTooltips(m_bars, up, upTips);
    installBarTooltips(m_bars, down, downTips);
    m_bars->xAxis->setTicker(ticker);
    m_bars->xAxis->setTickLabelRotation(60);
    m_bars->xAxis->setRange(-0.6, std::max<double>(1, double(shown.size())) - 0.4);
    m_bars->yAxis->setRange(neg.empty() ? 0 : -extent * 1.1, pos.empty() ? 0 : extent * 1.1);
    m_bars->yAxis->setLabel(tr("coefficient"));
    m_bars->xAxis->setLabel(tr("feature"));
    m_bars->replot();

    const bool bias = d.biasShare.defined();
    m_table->setColumnHidden(2, !bias);
    const int rows = int(std::min<size_t>(d.top.size(), 200));
    m_table->setRowCount(rows);
    for (int i = 0; i < rows; ++i) {
        const auto [f, c] = d.top[size_t(i)];
        m_table->setItem(i, 0, new QTableWidgetItem(QString::number(f)));
        m_table->setItem(i, 1, new QTableWidgetItem(QString::number(c, 'g', 5)));
        if (bias)
            m_table->setItem(
                i, 2, new QTableWidgetItem(QString::number(d.biasShare[f].item<double>(), 'g', 4)));
    }
}

} // namespace fscope::ui
