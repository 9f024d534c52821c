#include "ui/dashboardcharts.h"

#include "core/store/index_store.h"
#include "core/tokenize/tokenizer.h"
#include "ui/plotstyle.h"
#include "ui/qcustomplot_include.h"
#include "ui/tokenhtml.h"

#include <algorithm>
#include <cmath>
#include <memory>

namespace fscope::ui {

namespace {

// Token display text through the model's tokenizer, loaded once per model path.
class TokenNames {
public:
    QString operator()(const std::string &modelPath, int32_t id)
    {
        if (modelPath != m_path) {
            m_path = modelPath;
            auto t = core::tokenize::loadTokenizer(modelPath);
            m_tokenizer = t ? std::move(t).value() : nullptr;
        }
        if (!m_tokenizer)
            return QStringLiteral("#%1").arg(id);
        if (id == m_tokenizer->bosId() || id == m_tokenizer->eosId())
            return QStringLiteral("\u00b6"); // a document boundary
        return displayToken(core::tokenize::sanitizeUtf8(m_tokenizer->tokenBytes(id)));
    }

private:
    std::string m_path;
    std::unique_ptr<core::tokenize::Tokenizer> m_tokenizer;
};

} // namespace

QString tokenName(const std::string &modelPath, int32_t id)
{
    static TokenNames names;
    return names(modelPath, id);
}

QCustomPlot *makePlot(const QString &name, const QString &title, QWidget *parent)
{
    auto *plot = new QCustomPlot(parent);
    plot->setObjectName(name);
    plot->setMinimumSize(110, 220); // the title's width must not set the window's minimum
    applyPlotStyle(plot);
    setPlotTitle(plot, title);
    return plot;
}

void plotActivationHistogram(QCustomPlot *plot, const core::store::FeatureDashboard &d)
{
    plot->clearPlottables();
    plot->xAxis->setLabel(QObject::tr("activation (non-zero)"));
    plot->yAxis->setLabel(QObject::tr("tokens"));
    if (d.dead() || d.histogram.empty()) {
        plot->replot();
        return;
    }
    auto *bars = new QCPBars(plot->xAxis, plot->yAxis);
    const double width = (double(d.histHi) - d.histLo) / double(d.histogram.size());
    QVector<double> keys, values;
    QStringList tips;
    double peak = 0;
    for (size_t i = 0; i < d.histogram.size(); ++i) {
        const double lo = d.histLo + width * double(i);
        keys << lo + width / 2;
        values << d.histogram[i];
        peak = std::max(peak, double(d.histogram[i]));
        tips << QObject::tr("%1 – %2: %3 tokens")
                    .arg(lo, 0, 'g', 4)
                    .arg(lo + width, 0, 'g', 4)
                    .arg(d.histogram[i]);
    }
    bars->setData(keys, values, true);
    bars->setWidth(width * 0.95);
    bars->setPen(Qt::NoPen);
    bars->setBrush(activationColor());
    plot->xAxis->setRange(d.histLo, d.histHi);
    plot->yAxis->setRange(0, peak * 1.08 + 1);
    installBarTooltips(plot, bars, tips);
    plot->replot();
}

void plotLogitEffects(QCustomPlot *plot, const core::store::FeatureDashboard &d, bool folded)
{
    plot->clearPlottables();
    const auto &topList = folded ? d.foldedLogitTop : d.logitTop;
    const auto &bottomList = folded ? d.foldedLogitBottom : d.logitBottom;
    if (auto *heading = qobject_cast<QCPTextElement *>(plot->plotLayout()->element(0, 0)))
        heading->setText(folded ? QObject::tr("Logit effects ((W_dec * g) · W_U)")
                                : QObject::tr("Logit effects (W_dec · W_U)"));
    plot->xAxis->setLabel(QObject::tr("direct effect on the logit"));
    // Positive effects on top, negative below, as horizontal bars with the tokens as labels.
    QVector<double> keys, positive, negative;
    QVector<QString> names;
    QStringList tips;
    const size_t n = std::min<size_t>(6, topList.size());
    const size_t m = std::min<size_t>(6, bottomList.size());
    double k = 0, extent = 0;
    for (size_t i = m; i-- > 0;) {
        const auto &[id, v] = bottomList[m - 1 - i];
        keys << ++k;
        negative << v;
        positive << 0;
        names << tokenName(d.index.modelPath, id);
        tips << QObject::tr("'%1': %2").arg(names.back()).arg(double(v), 0, 'g', 4);
        extent = std::max(extent, std::abs(double(v)));
    }
    for (size_t i = n; i-- > 0;) {
        const auto &[id, v] = topList[i];
        keys << ++k;
        positive << v;
        negative << 0;
        names << tokenName(d.index.modelPath, id);
        tips << QObject::tr("'%1': %2").arg(names.back()).arg(double(v), 0, 'g', 4);
        extent = std::max(extent, std::abs(double(v)));
    }
    for (auto [values, color] :
        { std::pair { positive, positiveColor() }, std::pair { negative, negativeColor() } }) {
        auto *bars = new QCPBars(plot->yAxis, plot->xAxis);
        bars->setData(keys, values, true);
        bars->setPen(Qt::NoPen);
        bars->setBrush(color);
        bars->setWidth(0.7);
        if (color == positiveColor())
            installBarTooltips(plot, bars, tips);
    }
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    ticker->addTicks(keys, names);
    plot->yAxis->setTicker(ticker);
    plot->yAxis->setRange(0.3, k + 0.7);
    plot->xAxis->setRange(-extent * 1.1 - 1e-9, extent * 1.1 + 1e-9);
    plot->replot();
}

void plotDensityContext(QCustomPlot *plot, const core::store::FeatureDashboard &d,
    const std::vector<float> &allDensities, const QColor &muted)
{
    // Where this feature sits among all features of the SAE, on a log10 density axis.
    plot->clearPlottables();
    plot->clearItems();
    plot->xAxis->setLabel(QObject::tr("log10 density"));
    // Every other decade: the plot shares its row with up to three others.
    QSharedPointer<QCPAxisTickerFixed> decades(new QCPAxisTickerFixed);
    decades->setTickStep(2);
    decades->setScaleStrategy(QCPAxisTickerFixed::ssNone);
    plot->xAxis->setTicker(decades);
    plot->yAxis->setLabel(QObject::tr("features"));
    const int bins = 30;
    const double lo = -7, hi = 0;
    QVector<double> keys(bins), counts(bins, 0);
    for (int i = 0; i < bins; ++i)
        keys[i] = lo + (hi - lo) * (i + 0.5) / bins;
    for (float density : allDensities) {
        if (density <= 0)
            continue;
        const int b
            = std::clamp(int((std::log10(double(density)) - lo) / (hi - lo) * bins), 0, bins - 1);
        counts[b] += 1;
    }
    auto *bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setData(keys, counts, true);
    bars->setWidth((hi - lo) / bins * 0.9);
    bars->setPen(Qt::NoPen);
    bars->setBrush(muted);
    const double peak = *std::max_element(counts.begin(), counts.end());
    plot->xAxis->setRange(lo, hi);
    plot->yAxis->setRange(0, peak * 1.1 + 1);
    if (!d.dead()) {
        auto *line = new QCPItemStraightLine(plot);
        const double x = std::log10(d.density);
        line->point1->setCoords(x, 0);
        line->point2->setCoords(x, 1);
        line->setPen(QPen(activationColor(), 2));
    }
    plot->replot();
}

void plotDecoderWrites(QCustomPlot *plot, const core::store::FeatureDashboard &d)
{
    plot->clearPlottables();
    plot->yAxis->setLabel(QObject::tr("‖W_dec‖ per layer"));
    QVector<double> keys, norms;
    QVector<QString> names;
    QStringList tips;
    double peak = 0;
    // "blocks.7.hook_mlp_out" -> "7" when the layers are all that varies along the axis (a
    // CLT); a crosscoder over several hook points keeps the point: "0" over "pre".
    auto pointOf = [](const QString &hook) { return hook.section(QLatin1Char('.'), 2); };
    bool onePoint = true;
    for (const auto &w : d.writes)
        onePoint = onePoint
            && pointOf(QString::fromStdString(w.first))
                == pointOf(QString::fromStdString(d.writes.front().first));
    plot->xAxis->setLabel(onePoint ? QObject::tr("layer written") : QObject::tr("hook written"));
    for (const auto &[hook, norm] : d.writes) {
        keys << double(keys.size() + 1);
        norms << double(norm);
        const QString h = QString::fromStdString(hook);
        const QStringList parts = h.split(QLatin1Char('.'));
        const QString layer = parts.size() > 1 ? parts[1] : h;
        // Two lines, the point shortened ("hook_resid_pre" -> "pre"): the plot is narrow.
        names << (onePoint ? layer
                           : layer + QLatin1Char('\n')
                    + pointOf(h)
                          .remove(QStringLiteral("hook_"))
                          .remove(QStringLiteral("resid_"))
                          .remove(QStringLiteral("attn.")));
        tips << QObject::tr("%1: %2").arg(h).arg(double(norm), 0, 'g', 4);
        peak = std::max(peak, double(norm));
    }
    auto *bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setData(keys, norms, true);
    bars->setPen(Qt::NoPen);
    bars->setBrush(activationColor());
    bars->setWidth(0.7);
    installBarTooltips(plot, bars, tips);
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    ticker->addTicks(keys, names);
    plot->xAxis->setTicker(ticker);
    plot->xAxis->setRange(0.3, double(keys.size()) + 0.7);
    plot->yAxis->setRange(0, peak * 1.1 + 1e-9);
    plot->replot();
}

} // namespace fscope::ui
