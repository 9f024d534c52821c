#include "ui/decompositionresults.h"

#include "core/steer/decompose_job.h"
#include "ui/plotstyle.h"
#include "ui/qcustomplot_include.h"

#include <QComboBox>
#include <QHeaderView>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace fscope::ui {

namespace {

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

DecompositionResults::DecompositionResults(QWidget *parent)
    : QSplitter(Qt::Horizontal, parent)
{
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
    addWidget(middle);
    addWidget(right);
    setStretchFactor(0, 1);
    setStretchFactor(1, 1);
    connect(m_method, &QComboBox::currentIndexChanged, this, &DecompositionResults::showMethod);
    connect(m_summary, &QTableWidget::cellClicked, this,
        [this](int row) { m_method->setCurrentIndex(row); });
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this](int row) {
        if (auto *item = m_table->item(row, 0))
            Q_EMIT openFeature(m_indexId, item->text().toLongLong());
    });
    connect(m_bars, &QCustomPlot::plottableClick, this,
        [this](QCPAbstractPlottable *p, int index, QMouseEvent *) {
            const QVariant feature = p->property("features").toList().value(index);
            if (feature.isValid())
                Q_EMIT openFeature(m_indexId, feature.toLongLong());
        });
}

DecompositionResults::~DecompositionResults() = default;

const std::vector<core::steer::Decomposition> &DecompositionResults::results() const
{
    static const std::vector<core::steer::Decomposition> none;
    return m_run ? m_run->results : none;
}

QString DecompositionResults::normsText() const
{
    if (!m_run)
        return {};
    const core::steer::DecomposeRun &s = *m_run;
    if (s.normQuantiles.size() != 3)
        return tr("Vector norm %1.").arg(s.vectorNorm, 0, 'g', 4);
    const bool outside = s.vectorNorm < s.normQuantiles[0] || s.vectorNorm > s.normQuantiles[2];
    return tr("Vector norm %1; activation norms at the hook: 5% %2, median %3, 95% %4.%5")
        .arg(s.vectorNorm, 0, 'g', 4)
        .arg(s.normQuantiles[0], 0, 'g', 4)
        .arg(s.normQuantiles[1], 0, 'g', 4)
        .arg(s.normQuantiles[2], 0, 'g', 4)
        .arg(outside ? tr(" The vector is out of that range: the SAE's encoder was never "
                          "trained on such inputs, so f(v) is unreliable.")
                     : QString());
}

void DecompositionResults::selectMethod(const QString &name)
{
    m_method->setCurrentIndex(std::max(0, m_method->findText(name)));
}

void DecompositionResults::showRun(
    qint64 indexId, std::shared_ptr<const core::steer::DecomposeRun> run)
{
    m_indexId = indexId;
    m_run = std::move(run);
    const core::steer::DecomposeRun &s = *m_run;
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

void DecompositionResults::showMethod(int row)
{
    static const core::steer::DecomposeRun empty;
    const core::steer::DecomposeRun &s = m_run ? *m_run : empty;
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
