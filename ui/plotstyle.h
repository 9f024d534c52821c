#pragma once
// One look for every plot: palette-aware colours (light and dark themes), the same fonts, bar
// colours and margins, and hover tooltips for bar charts.

#include <QColor>
#include <QString>
#include <QStringList>
#include <QVector>

class QCustomPlot;
class QCPBars;

namespace fscope::ui {

// Background, axes, grid and labels from the application palette; a context menu to save the
// plot (PNG at 2x, PDF) or copy it to the clipboard.
void applyPlotStyle(QCustomPlot *plot);

// The accent colours: activations (warm), positive and negative effects.
QColor activationColor();
QColor positiveColor();
QColor negativeColor();

// Writes the plot as PNG (at `scale` times its on-screen size), JPG, BMP or PDF, chosen by the
// file's extension; false (and the reason in `error`) when it cannot.
bool exportPlot(QCustomPlot *plot, const QString &path, double scale = 2.0, QString *error = nullptr);

// Shows a tooltip with `labels[i]` while the mouse is over bar i of `bars`.
void installBarTooltips(QCustomPlot *plot, QCPBars *bars, const QStringList &labels);

} // namespace fscope::ui
