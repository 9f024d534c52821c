#pragma once
// One look for every plot: palette-aware colours (light and dark themes), the same fonts, bar
// colours and margins, and hover tooltips for bar charts.

#include <QColor>
#include <QString>
#include <QStringList>
#include <QVector>

class QCustomPlot;
class QCPBars;
class QCPTextElement;

namespace fscope::ui {

// Background, axes, grid and labels from the application palette; a context menu to save the
// plot (PNG at a chosen DPI, SVG, PDF, JPEG) or copy it to the clipboard.
void applyPlotStyle(QCustomPlot *plot);

// The plot's title: a bold heading row above the axes, created on the first call and updated
// on later ones (exports include it).
QCPTextElement *setPlotTitle(QCustomPlot *plot, const QString &title);

// The accent colours (core/report/chart_style.h, shared with report charts): activations
// (warm), positive and negative effects.
QColor activationColor();
QColor positiveColor();
QColor negativeColor();

// Writes the plot as PNG, JPG or BMP at `dpi` (the image is the on-screen size x dpi / 96, with
// the DPI recorded in the file), or as vector SVG or PDF at the on-screen size, chosen by the
// file's extension; false (and the reason in `error`) when it cannot.
bool exportPlot(QCustomPlot *plot, const QString &path, int dpi = 192, QString *error = nullptr);

// Shows a tooltip with `labels[i]` while the mouse is over bar i of `bars`.
void installBarTooltips(QCustomPlot *plot, QCPBars *bars, const QStringList &labels);

} // namespace fscope::ui
