#include "ui/matchpanel.h"

#include "ui/jobrunner.h"
#include "ui/plotstyle.h"
#include "ui/qcustomplot_include.h"

#include "core/corpus/corpus.h"
#include "core/match/match_series.h"
#include "core/model/hooks.h"
#include "core/model/model_cache.h"
#include "core/store/index_store.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>
#include <map>

namespace fscope::ui {

MatchPanel::MatchPanel(Workbench *workbench, QWidget *parent)
    : QWidget(parent)
    , m_workbench(workbench)
{
    auto *controls = new QWidget;
    auto *form = new QVBoxLayout(controls);
    form->setContentsMargins(0, 0, 0, 0);
    form->addWidget(new QLabel(tr("SAEs, one per layer, in layer order:")));
    m_saes = new QListWidget;
    m_saes->setObjectName(QStringLiteral("matchSaes"));
    m_saes->setMinimumHeight(80);
    form->addWidget(m_saes, 1);
    auto *buttons = new QHBoxLayout;
    auto *fromWorkspace = new QPushButton(tr("Workspace SAEs"));
    fromWorkspace->setToolTip(tr("The SAEs this workspace has indexed, ordered by layer"));
    auto *add = new QPushButton(tr("Add..."));
    auto *clear = new QPushButton(tr("Clear"));
    buttons->addWidget(fromWorkspace);
    buttons->addWidget(add);
    buttons->addWidget(clear);
    form->addLayout(buttons);
    m_fold = new QCheckBox(tr("Fold JumpReLU thresholds (the paper's method)"));
    m_fold->setObjectName(QStringLiteral("matchFold"));
    m_fold->setChecked(true);
    form->addWidget(m_fold);
    m_cost = new QComboBox;
    m_cost->setObjectName(QStringLiteral("matchCost"));
    for (const char *c : { "decoder", "all", "encoder", "cosine" })
        m_cost->addItem(QString::fromLatin1(c), QString::fromLatin1(c));
    m_solver = new QComboBox;
    m_solver->setObjectName(QStringLiteral("matchSolver"));
    m_solver->addItem(tr("Exact (automatic)"), QStringLiteral("auto"));
    m_solver->addItem(tr("Exact, dense matrix"), QStringLiteral("dense"));
    m_solver->addItem(tr("Exact, priced blocks"), QStringLiteral("priced"));
    m_solver->addItem(tr("Approximate, gap reported"), QStringLiteral("approximate"));
    m_solver->setToolTip(
        tr("Automatic: the dense solver on a CPU, the priced one on a GPU or when the matrix would "
           "not fit in memory. Both prove the optimum. Approximate: nearest candidates only, with "
           "its distance to the optimum bounded by one pricing pass."));
    auto *costRow = new QFormLayout;
    costRow->addRow(tr("Cost"), m_cost);
    costRow->addRow(tr("Solver"), m_solver);
    form->addLayout(costRow);
    m_evaluate = new QCheckBox(tr("Hidden-state approximation (the index's model)"));
    m_evaluate->setObjectName(QStringLiteral("matchEvaluate"));
    m_evaluate->setToolTip(
        tr("Decode layer A's permuted code with B's SAE, splice it in at B's hook and report EV, "
           "delta CE and KL on 16 contexts of an indexed corpus, against unfolded and unmatched "
           "permutations"));
    form->addWidget(m_evaluate);
    auto *runButton = new QPushButton(tr("Match"));
    runButton->setObjectName(QStringLiteral("matchRun"));
    form->addWidget(runButton);
    m_status = new QLabel(tr("Choose two or more SAEs and press Match."));
    m_status->setWordWrap(true);
    form->addWidget(m_status);

    m_linkPlot = new QCustomPlot;
    m_linkPlot->setObjectName(QStringLiteral("matchLinkPlot"));
    m_chainPlot = new QCustomPlot;
    m_chainPlot->setObjectName(QStringLiteral("matchChainPlot"));
    m_evPlot = new QCustomPlot;
    m_evPlot->setObjectName(QStringLiteral("matchEvPlot"));
    m_evPlot->hide();
    for (QCustomPlot *p : { m_linkPlot, m_chainPlot, m_evPlot }) {
        applyPlotStyle(p);
        p->setMinimumSize(260, 180);
    }
    auto *chainControls = new QHBoxLayout;
    m_chainLayer = new QComboBox;
    m_chainLayer->setObjectName(QStringLiteral("matchChainLayer"));
    m_chainFeature = new QSpinBox;
    m_chainFeature->setObjectName(QStringLiteral("matchChainFeature"));
    m_chainFeature->setRange(0, 1 << 30);
    auto *follow = new QPushButton(tr("Follow chain"));
    chainControls->addWidget(new QLabel(tr("Feature")));
    chainControls->addWidget(m_chainFeature);
    chainControls->addWidget(new QLabel(tr("at")));
    chainControls->addWidget(m_chainLayer);
    chainControls->addWidget(follow);
    chainControls->addStretch(1);
    auto *strip = new QWidget;
    m_chainStrip = new QHBoxLayout(strip);
    m_chainStrip->setContentsMargins(0, 0, 0, 0);

    auto *results = new QWidget;
    auto *rl = new QVBoxLayout(results);
    rl->setContentsMargins(0, 0, 0, 0);
    auto *plots = new QHBoxLayout;
    plots->addWidget(m_linkPlot, 3);
    plots->addWidget(m_evPlot, 3);
    plots->addWidget(m_chainPlot, 2);
    rl->addLayout(plots, 1);
    rl->addLayout(chainControls);
    rl->addWidget(strip);

    auto *split = new QSplitter(Qt::Horizontal);
    split->addWidget(controls);
    split->addWidget(results);
    split->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);

    connect(fromWorkspace, &QPushButton::clicked, this, &MatchPanel::useWorkspaceSaes);
    connect(add, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Add an SAE directory"));
        if (!dir.isEmpty())
            m_saes->addItem(dir);
    });
    connect(clear, &QPushButton::clicked, m_saes, &QListWidget::clear);
    connect(runButton, &QPushButton::clicked, this, &MatchPanel::run);
    connect(follow, &QPushButton::clicked, this,
        [this] { showChain(m_chainLayer->currentIndex(), m_chainFeature->value()); });
    connect(m_workbench, &Workbench::indexesChanged, this, [this] {
        if (m_saes->count() == 0)
            useWorkspaceSaes();
    });
    // Arriving at a feature elsewhere selects it here, so its chain is one click away.
    connect(m_workbench, &Workbench::currentFeatureChanged, this, [this](FeatureRef ref) {
        auto *db = m_workbench->database();
        if (!db || !m_result || !ref.valid())
            return;
        const qint64 feature = ref.feature;
        auto info = core::store::indexInfo(*db, ref.indexId);
        if (!info)
            return;
        for (size_t k = 0; k < m_result->saePaths.size(); ++k)
            if (m_result->saePaths[k] == info->saePath) {
                m_chainLayer->setCurrentIndex(int(k));
                m_chainFeature->setValue(int(feature));
                showChain(int(k), feature);
                return;
            }
    });
    useWorkspaceSaes();
}

MatchPanel::~MatchPanel() = default;

void MatchPanel::setSaePaths(const QStringList &paths)
{
    m_saes->clear();
    m_saes->addItems(paths);
}

QStringList MatchPanel::saePaths() const
{
    QStringList out;
    for (int i = 0; i < m_saes->count(); ++i)
        out << m_saes->item(i)->text();
    return out;
}

void MatchPanel::useWorkspaceSaes()
{
    auto *db = m_workbench->database();
    if (!db)
        return;
    auto list = core::store::listIndexes(*db);
    if (!list)
        return;
    std::map<std::pair<int64_t, std::string>, bool> byLayer; // layer, path
    for (const auto &info : *list)
        if (info.status == "done")
            byLayer[{ info.layer, info.saePath }] = true;
    QStringList paths;
    for (const auto &[key, unused] : byLayer)
        paths << QString::fromStdString(key.second);
    if (paths.size() >= 2)
        setSaePaths(paths);
}

int MatchPanel::run()
{
    const QStringList paths = saePaths();
    if (paths.size() < 2) {
        m_status->setText(tr("Matching needs two or more SAEs."));
        return 0;
    }
    auto request = std::make_shared<core::match::MatchSeriesRequest>();
    for (const QString &p : paths)
        request->saePaths.push_back(p.toStdString());
    request->options.fold = m_fold->isChecked();
    if (auto cost = core::match::parseMatchCost(m_cost->currentData().toString().toStdString()))
        request->options.cost = *cost;
    if (auto solver
        = core::match::parseMatchSolver(m_solver->currentData().toString().toStdString()))
        request->options.solver = *solver;
    auto out = std::make_shared<core::match::MatchSeries>();
    core::store::Database *db = m_workbench->database();
    std::string modelPath;
    std::vector<int64_t> contextIds;
    int64_t contextLength = 0;
    if (m_evaluate->isChecked()) {
        // The model and 16 contexts of the first finished index (read here, on the UI thread).
        if (db)
            if (auto list = core::store::listIndexes(*db))
                for (const auto &info : *list)
                    if (info.status == "done") {
                        modelPath = info.modelPath;
                        for (int64_t c = 0; c < 16; ++c) {
                            auto ids = core::store::loadContext(*db, info.corpusId, c);
                            if (!ids || ids->empty())
                                break;
                            contextLength = int64_t(ids->size());
                            contextIds.insert(contextIds.end(), ids->begin(), ids->end());
                        }
                        break;
                    }
        if (modelPath.empty() || contextIds.empty()) {
            m_status->setText(tr("The hidden-state approximation needs an index in this workspace "
                                 "(its model and corpus)."));
            return 0;
        }
    }
    core::model::ModelCache *models = &m_workbench->models();
    auto work = [request, out, modelPath, contextIds, contextLength, models](
                    core::jobs::Progress &progress,
                    core::store::Database *workspace) -> core::Result<std::string> {
        core::model::ModelCache::Model model;
        if (!modelPath.empty()) {
            FS_TRY(model, models->model(modelPath, "cpu"));
            request->decoder = model.decoder.get();
            FS_TRY(request->modelFingerprint, core::store::fingerprintModel(modelPath));
            request->contexts = at::tensor(contextIds, at::kLong).reshape({ -1, contextLength });
            request->specialTokens = core::corpus::specialTokens(*model.tokenizer);
        }
        core::match::MatchSeries s;
        FS_TRY(s, core::match::runMatchSeriesCached(workspace, *request, &progress));
        *out = std::move(s);
        return std::string(out->cached ? "from the workspace" : "matched");
    };
    m_status->setText(tr("Matching %1 SAEs...").arg(paths.size()));
    return m_workbench->runner()->runOnWorkspace(tr("SAE Match over %1 SAEs").arg(paths.size()),
        m_workbench->workspacePath(), work, [this, out](const JobState &state) {
            if (!state.succeeded) {
                m_status->setText(state.outcome);
                return;
            }
            m_result = out;
            showResult();
        });
}

void MatchPanel::showResult()
{
    const auto &s = *m_result;
    QString status = tr("%1 links, %2 matching, %3 s%4")
                         .arg(s.links.size())
                         .arg(s.folded ? tr("folded") : tr("unfolded"))
                         .arg(s.seconds, 0, 'f', 1)
                         .arg(s.cached ? tr(" (from the workspace)") : QString());
    // The data-based check, where both SAEs of a link are indexed on one corpus.
    double matched = 0, unmatched = 0;
    int checked = 0;
    for (const auto &l : s.links)
        if (l.overlap && l.overlap->pairs > 0) {
            matched += l.overlap->matched;
            unmatched += l.overlap->unmatched;
            ++checked;
        }
    if (checked)
        status += tr(
            ". Data check on %1 indexed link(s): matched features share %2 of their top contexts "
            "(Jaccard; unmatched pairing %3).")
                      .arg(checked)
                      .arg(matched / checked, 0, 'f', 2)
                      .arg(unmatched / checked, 0, 'f', 2);
    // An approximate solve says how far from the optimum it may be (worst link).
    double worstGap = 0, worstRelative = 0;
    for (const auto &l : s.links)
        if (!l.result.optimal && l.result.solverGap >= worstGap) {
            worstGap = l.result.solverGap;
            worstRelative = l.result.relativeSolverGap();
        }
    if (worstGap > 0)
        status += tr(". Approximate solve: at most %1 (%2%) above the optimal assignment cost on "
                     "the worst link.")
                      .arg(worstGap, 0, 'g', 3)
                      .arg(100 * worstRelative, 0, 'g', 2);
    m_status->setText(status);
    // Per link: mean folded-decoder MSE (bars, left) and share of good matches (line, right).
    m_linkPlot->clearPlottables();
    auto *bars = new QCPBars(m_linkPlot->xAxis, m_linkPlot->yAxis);
    bars->setName(tr("mean folded-decoder MSE"));
    bars->setBrush(activationColor());
    bars->setPen(Qt::NoPen);
    auto *good = m_linkPlot->addGraph(m_linkPlot->xAxis, m_linkPlot->yAxis2);
    good->setName(tr("good matches"));
    good->setPen(QPen(positiveColor(), 2));
    good->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 6));
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    QStringList tips;
    double maxMse = 0;
    for (size_t k = 0; k < s.links.size(); ++k) {
        const auto &l = s.links[k];
        bars->addData(double(k), l.result.meanMse);
        good->addData(double(k), 100 * l.result.goodShare);
        maxMse = std::max(maxMse, l.result.meanMse);
        const QString name
            = QString::fromStdString(s.labels[size_t(l.from)] + "→" + s.labels[size_t(l.to)]);
        // Ticks name the layers only ("L0→L1"); the tooltip keeps the hook names.
        auto layerOnly = [](const std::string &label) {
            return QString::fromStdString(label.substr(0, label.find(' ')));
        };
        ticker->addTick(double(k),
            layerOnly(s.labels[size_t(l.from)]) + QStringLiteral("→")
                + layerOnly(s.labels[size_t(l.to)]));
        QString tip = tr("%1: mean MSE %2, %3% good, %4 s")
                          .arg(name)
                          .arg(l.result.meanMse, 0, 'g', 4)
                          .arg(100 * l.result.goodShare, 0, 'f', 1)
                          .arg(l.result.seconds, 0, 'f', 2);
        if (l.overlap)
            tip += tr("\ntop-context Jaccard: matched %1 (good %2, weak %3) vs unmatched %4")
                       .arg(l.overlap->matched, 0, 'f', 3)
                       .arg(l.overlap->good, 0, 'f', 3)
                       .arg(l.overlap->weak, 0, 'f', 3)
                       .arg(l.overlap->unmatched, 0, 'f', 3);
        tips << tip;
    }
    installBarTooltips(m_linkPlot, bars, tips);
    m_linkPlot->xAxis->setTicker(ticker);
    m_linkPlot->xAxis->setTickLabelRotation(s.links.size() > 4 ? 30 : 0);
    m_linkPlot->xAxis->setRange(-0.6, double(s.links.size()) - 0.4);
    m_linkPlot->yAxis->setLabel(tr("mean folded-decoder MSE"));
    // Headroom above the data keeps the legend (top left) off the bars and the line.
    m_linkPlot->yAxis->setRange(0, maxMse * 1.45 + 1e-12);
    m_linkPlot->yAxis2->setVisible(true);
    m_linkPlot->yAxis2->setLabel(tr("good matches (%)"));
    m_linkPlot->yAxis2->setRange(0, 135);
    m_linkPlot->yAxis2->setTicker(QSharedPointer<QCPAxisTickerFixed>::create());
    qSharedPointerCast<QCPAxisTickerFixed>(m_linkPlot->yAxis2->ticker())->setTickStep(25);
    m_linkPlot->legend->setVisible(true);
    m_linkPlot->legend->setFont(QFont(font().family(), 7));
    m_linkPlot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    setPlotTitle(m_linkPlot, tr("Matching per layer pair"));
    m_linkPlot->replot();

    // Chain lengths (layers a feature persists through good links).
    m_chainPlot->clearPlottables();
    auto *hist = new QCPBars(m_chainPlot->xAxis, m_chainPlot->yAxis);
    hist->setBrush(positiveColor());
    hist->setPen(Qt::NoPen);
    double maxCount = 0;
    for (size_t k = 0; k < s.chainLengths.size(); ++k) {
        hist->addData(double(k + 1), double(s.chainLengths[k]));
        maxCount = std::max(maxCount, double(s.chainLengths[k]));
    }
    QSharedPointer<QCPAxisTickerFixed> whole(new QCPAxisTickerFixed);
    whole->setTickStep(1);
    whole->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_chainPlot->xAxis->setTicker(whole);
    m_chainPlot->xAxis->setLabel(tr("chain length (layers)"));
    m_chainPlot->yAxis->setLabel(tr("chains"));
    m_chainPlot->xAxis->setRange(0.4, double(s.chainLengths.size()) + 0.6);
    m_chainPlot->yAxis->setRange(0, maxCount * 1.1 + 1);
    setPlotTitle(m_chainPlot, tr("Feature chains"));
    m_chainPlot->replot();

    // Hidden-state approximation per link and scheme (paper Fig. 11): EV of x_hat_B.
    const bool evaluated = !s.links.empty() && s.links.front().evaluation.has_value();
    m_evPlot->setVisible(evaluated);
    if (evaluated) {
        m_evPlot->clearGraphs();
        const auto &schemes = s.links.front().evaluation->scores;
        QStringList legend;
        for (size_t k = 0; k < schemes.size(); ++k) {
            auto *g = m_evPlot->addGraph();
            // Every scheme counts the same positions (special tokens excluded); say how many.
            g->setName(tr("%1 (%2 tokens)")
                           .arg(QString::fromStdString(schemes[k].name))
                           .arg(schemes[k].tokens));
            static const QColor colours[] = { QColor(0x2c, 0xa0, 0x2c), QColor(0xff, 0x7f, 0x0e),
                QColor(0x7f, 0x7f, 0x7f), QColor(0x1f, 0x77, 0xb4), QColor(0xd6, 0x27, 0x28) };
            g->setPen(QPen(colours[k % 5], 2));
            g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
            for (size_t li = 0; li < s.links.size(); ++li)
                if (s.links[li].evaluation && k < s.links[li].evaluation->scores.size())
                    g->addData(double(li), s.links[li].evaluation->scores[k].explainedVariance);
        }
        m_evPlot->xAxis->setTicker(ticker);
        m_evPlot->xAxis->setRange(-0.6, double(s.links.size()) - 0.4);
        m_evPlot->yAxis->setLabel(tr("explained variance of x_B"));
        m_evPlot->rescaleAxes(true);
        m_evPlot->xAxis->setRange(-0.6, double(s.links.size()) - 0.4);
        m_evPlot->yAxis->setRangeUpper(1.05);
        m_evPlot->legend->setVisible(true);
        m_evPlot->legend->setFont(QFont(font().family(), 7));
        setPlotTitle(m_evPlot, tr("Hidden-state approximation"));
        m_evPlot->replot();
    }

    m_chainLayer->clear();
    for (const auto &l : s.labels)
        m_chainLayer->addItem(QString::fromStdString(l));
    showChain(0, m_chainFeature->value());
}

void MatchPanel::showChain(int layer, qint64 feature)
{
    while (QLayoutItem *item = m_chainStrip->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    if (!m_result || m_result->links.empty())
        return;
    std::vector<core::match::MatchResult> links;
    for (const auto &l : m_result->links)
        if (l.to == l.from + 1)
            links.push_back(l.result);
    if (links.size() != m_result->links.size())
        return; // chains follow adjacent links only
    std::vector<double> mse;
    std::vector<bool> good;
    const auto chain = core::match::featureChain(links, layer, feature, &mse, &good);
    // Which index shows each layer's SAE (for the cards' dashboards).
    std::map<std::string, qint64> indexOf;
    if (auto *db = m_workbench->database())
        if (auto list = core::store::listIndexes(*db))
            for (const auto &info : *list)
                if (info.status == "done" && !indexOf.count(info.saePath))
                    indexOf[info.saePath] = info.id;
    for (size_t k = 0; k < chain.size(); ++k) {
        if (k > 0) {
            auto *link = new QLabel(std::isnan(mse[k - 1])
                    ? QStringLiteral("–")
                    : QStringLiteral("→\n%1").arg(mse[k - 1], 0, 'g', 3));
            link->setAlignment(Qt::AlignCenter);
            link->setToolTip(tr("folded-decoder MSE of this link (%1)")
                                 .arg(good[k - 1] ? tr("good match") : tr("weak match")));
            link->setStyleSheet(good[k - 1] ? QString() : QStringLiteral("color: gray"));
            m_chainStrip->addWidget(link);
        }
        auto *card = new QToolButton;
        const auto &step = chain[k];
        card->setText(QStringLiteral("%1\n#%2")
                          .arg(QString::fromStdString(m_result->labels[k]))
                          .arg(step.feature));
        card->setToolButtonStyle(Qt::ToolButtonTextOnly);
        card->setMinimumWidth(70);
        const auto it = indexOf.find(m_result->saePaths[k]);
        card->setEnabled(step.feature >= 0 && it != indexOf.end());
        card->setToolTip(it == indexOf.end() ? tr("Index this SAE to open its dashboard")
                                             : tr("Open this feature's dashboard"));
        if (it != indexOf.end()) {
            const qint64 indexId = it->second, f = step.feature;
            connect(card, &QToolButton::clicked, this,
                [this, indexId, f] { m_workbench->showFeature(indexId, f); });
        }
        m_chainStrip->addWidget(card);
    }
    m_chainStrip->addStretch(1);
}

} // namespace fscope::ui
