#include "ui/matchresults.h"

#include "core/match/match_series.h"
#include "core/store/index_store.h"
#include "ui/plotstyle.h"
#include "ui/qcustomplot_include.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>
#include <map>

namespace fscope::ui {

MatchResults::MatchResults(Workbench *workbench, QWidget *parent)
    : QWidget(parent)
    , m_workbench(workbench)
{
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

    auto *rl = new QVBoxLayout(this);
    rl->setContentsMargins(0, 0, 0, 0);
    auto *plots = new QHBoxLayout;
    plots->addWidget(m_linkPlot, 3);
    plots->addWidget(m_evPlot, 3);
    plots->addWidget(m_chainPlot, 2);
    rl->addLayout(plots, 1);
    rl->addLayout(chainControls);
    rl->addWidget(strip);

    connect(follow, &QPushButton::clicked, this,
        [this] { showChain(m_chainLayer->currentIndex(), m_chainFeature->value()); });
    // Arriving at a feature elsewhere selects it here, so its chain is one click away.
    connect(m_workbench, &Workbench::currentFeatureChanged, this, [this](FeatureRef ref) {
        auto *db = m_workbench->database();
        if (!db || !m_series || !ref.valid())
            return;
        const qint64 feature = ref.feature;
        auto info = core::store::indexInfo(*db, ref.indexId);
        if (!info)
            return;
        for (size_t k = 0; k < m_series->saePaths.size(); ++k)
            if (m_series->saePaths[k] == info->saePath) {
                m_chainLayer->setCurrentIndex(int(k));
                m_chainFeature->setValue(int(feature));
                showChain(int(k), feature);
                return;
            }
    });
}

MatchResults::~MatchResults() = default;

QString MatchResults::showSeries(std::shared_ptr<const core::match::MatchSeries> series)
{
    m_series = std::move(series);
    const auto &s = *m_series;
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
    return status;
}

void MatchResults::showChain(int layer, qint64 feature)
{
    while (QLayoutItem *item = m_chainStrip->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    if (!m_series || m_series->links.empty())
        return;
    std::vector<core::match::MatchResult> links;
    for (const auto &l : m_series->links)
        if (l.to == l.from + 1)
            links.push_back(l.result);
    if (links.size() != m_series->links.size())
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
                          .arg(QString::fromStdString(m_series->labels[k]))
                          .arg(step.feature));
        card->setToolButtonStyle(Qt::ToolButtonTextOnly);
        card->setMinimumWidth(70);
        const auto it = indexOf.find(m_series->saePaths[k]);
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
