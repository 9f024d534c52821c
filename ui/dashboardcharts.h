#pragma once
// The feature dashboard's charts, drawn from its data: the activation histogram, the logit
// effects and the feature's place among all densities. Plain functions of (plot, data), so
// the dashboard view only lays them out.

#include <QColor>
#include <QString>

#include <cstdint>
#include <string>
#include <vector>

class QCustomPlot;
class QWidget;

namespace fscope::core::store {
struct FeatureDashboard;
}

namespace fscope::ui {

// A token's display text through the model's tokenizer (loaded once per model path).
QString tokenName(const std::string &modelPath, int32_t id);

// A styled plot with a title that does not set the window's minimum width.
QCustomPlot *makePlot(const QString &name, const QString &title, QWidget *parent);

void plotActivationHistogram(QCustomPlot *plot, const core::store::FeatureDashboard &d);
// Top positive and negative direct logit effects, folded by the final norm's gain or not.
void plotLogitEffects(QCustomPlot *plot, const core::store::FeatureDashboard &d, bool folded);
// All features' densities on a log10 axis, with this feature's marked.
void plotDensityContext(QCustomPlot *plot, const core::store::FeatureDashboard &d,
    const std::vector<float> &allDensities, const QColor &muted);

// Where the feature writes: ||W_dec_block[f]|| per output hook (a CLT layer's later layers).
void plotDecoderWrites(QCustomPlot *plot, const core::store::FeatureDashboard &d);

} // namespace fscope::ui
