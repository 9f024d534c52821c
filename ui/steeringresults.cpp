#include "ui/steeringresults.h"

#include "core/steer/steering.h"
#include "ui/plotstyle.h"
#include "ui/qcustomplot_include.h"
#include "ui/tableitems.h"
#include "ui/tokenhtml.h"

#include <QComboBox>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace fscope::ui {
namespace {

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
            t = QStringLiteral("<span style=\"background-color:%1;color:%2\">%3</span>")
                    .arg(bg.name(), textColorOn(bg).name(), t);
        }
        html += t;
    }
    return QStringLiteral("<span style=\"white-space:pre-wrap\">%1</span>").arg(html);
}

} // namespace

SteeringResults::SteeringResults(QWidget *parent)
    : QTabWidget(parent)
    , m_base(new QTextBrowser(this))
    , m_steered(new QTextBrowser(this))
    , m_next(new QTableWidget(this))
    , m_sweepMetric(new QComboBox(this))
    , m_sweepPlot(plot(QStringLiteral("sweepPlot"), tr("Strength sweep"), this))
    , m_sweepDetail(new QLabel(this))
    , m_ablationPlot(plot(QStringLiteral("ablationPlot"), tr("Ablation effects"), this))
    , m_ablation(new QTableWidget(this))
{
    for (QTextBrowser *b : { m_base, m_steered })
        b->setMinimumHeight(60);
    m_base->setObjectName(QStringLiteral("baseText"));
    m_steered->setObjectName(QStringLiteral("steeredText"));
    m_next->setObjectName(QStringLiteral("nextTokenTable"));
    m_next->setColumnCount(3);
    m_next->setHorizontalHeaderLabels({ tr("Next token"), tr("Base p"), tr("Steered p") });
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
    m_sweepMetric->setObjectName(QStringLiteral("sweepMetric"));
    m_sweepMetric->addItem(tr("Right axis: Δ log p(target)"), 2);
    m_sweepMetric->addItem(tr("Right axis: steered text perplexity under the base model"), 3);
    sweepLayout->addWidget(m_sweepMetric);
    connect(m_sweepMetric, &QComboBox::currentIndexChanged, this, [this] { plotSweep(); });
    sweepLayout->addWidget(m_sweepPlot, 1);
    m_sweepDetail->setWordWrap(true);
    m_sweepDetail->setText(tr("Click a point for its generation."));
    sweepLayout->addWidget(m_sweepDetail);
    m_sweepPlot->xAxis->setLabel(tr("strength"));
    m_sweepPlot->yAxis->setLabel(tr("mean KL(steered || base)"));
    m_sweepPlot->yAxis2->setLabel(tr("Δ log p(target)"));
    m_sweepPlot->yAxis2->setVisible(true);
    m_sweepPlot->legend->setVisible(true);

    m_ablation->setObjectName(QStringLiteral("ablationTable"));
    m_ablation->setColumnCount(4);
    m_ablation->setHorizontalHeaderLabels(
        { tr("Feature"), tr("Activation"), tr("Δ log p(target)"), tr("KL") });
    m_ablation->verticalHeader()->hide();
    m_ablation->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_ablation->setSelectionBehavior(QAbstractItemView::SelectRows);
    auto *ablationPage = new QSplitter(Qt::Vertical, this);
    ablationPage->addWidget(m_ablationPlot);
    ablationPage->addWidget(m_ablation);
    m_ablationPlot->xAxis->setLabel(tr("feature (ranked)"));
    m_ablationPlot->yAxis->setLabel(tr("effect"));

    addTab(compare, tr("Compare"));
    addTab(sweepPage, tr("Sweep"));
    addTab(ablationPage, tr("Ablation"));

    connect(m_ablation, &QTableWidget::cellDoubleClicked, this, [this](int row) {
        if (auto *i = m_ablation->item(row, 0))
            Q_EMIT featureActivated(i->text().toLongLong());
    });
    connect(m_sweepPlot, &QCustomPlot::plottableClick, this,
        [this](QCPAbstractPlottable *, int index, QMouseEvent *) {
            if (index >= 0 && index < m_sweepTexts.size())
                m_sweepDetail->setText(
                    tr("strength %1 (KL %2, Δ log p(target) %3, perplexity %4): %5")
                        .arg(m_sweep[size_t(index)][0])
                        .arg(m_sweep[size_t(index)][1], 0, 'g', 3)
                        .arg(m_sweep[size_t(index)][2], 0, 'f', 3)
                        .arg(m_sweep[size_t(index)][3], 0, 'f', 2)
                        .arg(m_sweepTexts[index]));
        });
}

void SteeringResults::showComparison(
    const QStringList &baseTokens, const QStringList &steeredTokens, const QVector<NextToken> &next)
{
    m_baseTokens = baseTokens;
    m_steeredTokens = steeredTokens;
    m_base->setHtml(continuationHtml(m_baseTokens, m_baseTokens));
    m_steered->setHtml(continuationHtml(m_steeredTokens, m_baseTokens));
    m_next->setRowCount(0);
    for (const NextToken &t : next) {
        const int row = m_next->rowCount();
        m_next->insertRow(row);
        m_next->setItem(row, 0, tableItem(t.token));
        m_next->setItem(row, 1, tableItem(QString::number(t.base, 'f', 4), true));
        m_next->setItem(row, 2, tableItem(QString::number(t.steered, 'f', 4), true));
    }
    setCurrentIndex(0);
}

void SteeringResults::showSweep(
    std::vector<SweepPoint> points, const QStringList &texts, bool hasTarget)
{
    m_sweep = std::move(points);
    m_sweepTexts = texts;
    // Without a target the right axis shows the fluency proxy.
    const int metric = hasTarget ? 0 : 1;
    if (m_sweepMetric->currentIndex() != metric)
        m_sweepMetric->setCurrentIndex(metric); // replots
    else
        plotSweep();
    setCurrentIndex(1);
}

void SteeringResults::plotSweep()
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

void SteeringResults::showAblation(
    const std::vector<core::steer::AblationEffect> &effects, bool byTarget)
{
    m_ablation->setRowCount(0);
    QVector<double> keys, values;
    QVector<QString> names;
    QStringList tips;
    for (const auto &e : effects) {
        const int row = m_ablation->rowCount();
        m_ablation->insertRow(row);
        m_ablation->setItem(row, 0, tableItem(QString::number(e.feature), true));
        m_ablation->setItem(row, 1, tableItem(QString::number(double(e.activation), 'g', 4), true));
        m_ablation->setItem(row, 2,
            tableItem(byTarget ? QString::number(e.targetLogProbDelta, 'f', 4) : QString(), true));
        m_ablation->setItem(row, 3, tableItem(QString::number(e.kl, 'g', 4), true));
        keys << row + 1;
        values << (byTarget ? e.targetLogProbDelta : e.kl);
        names << QString::number(e.feature);
        tips << tr("feature %1: %2 %3")
                    .arg(e.feature)
                    .arg(byTarget ? tr("Δ log p(target)") : tr("KL"))
                    .arg(values.back(), 0, 'g', 4);
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
    m_ablationPlot->yAxis->setLabel(
        byTarget ? tr("Δ log p(target) when ablated") : tr("KL(ablated || base)"));
    m_ablationPlot->rescaleAxes();
    m_ablationPlot->xAxis->setRange(0.3, keys.size() + 0.7);
    installBarTooltips(m_ablationPlot, bars, tips);
    m_ablationPlot->replot();
    setCurrentIndex(2);
}

} // namespace fscope::ui
