#include "ui/plotstyle.h"

#include "ui/qcustomplot_include.h"

#include <QApplication>
#include <QClipboard>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QPalette>
#include <QToolTip>

namespace fscope::ui {

QColor activationColor()
{
    return QColor(232, 125, 22);
}

QColor positiveColor()
{
    return QColor(46, 139, 87);
}

QColor negativeColor()
{
    return QColor(200, 60, 60);
}

void applyPlotStyle(QCustomPlot *plot)
{
    const QPalette pal = QApplication::palette();
    const QColor text = pal.color(QPalette::WindowText);
    QColor grid = text;
    grid.setAlpha(40);
    plot->setBackground(pal.brush(QPalette::Base));
    for (QCPAxis *axis : {plot->xAxis, plot->yAxis, plot->xAxis2, plot->yAxis2}) {
        axis->setBasePen(QPen(text, 1));
        axis->setTickPen(QPen(text, 1));
        axis->setSubTickPen(QPen(text, 1));
        axis->setTickLabelColor(text);
        axis->setLabelColor(text);
        axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
        axis->grid()->setZeroLinePen(QPen(grid, 1));
        QFont f = plot->font();
        f.setPointSizeF(f.pointSizeF() * 0.9);
        axis->setTickLabelFont(f);
        axis->setLabelFont(plot->font());
    }
    plot->legend->setBrush(pal.brush(QPalette::Base));
    plot->legend->setTextColor(text);
    plot->legend->setBorderPen(QPen(grid));
    plot->setAntialiasedElements(QCP::aeAll);
    if (plot->contextMenuPolicy() != Qt::CustomContextMenu) {
        plot->setContextMenuPolicy(Qt::CustomContextMenu);
        QObject::connect(plot, &QWidget::customContextMenuRequested, plot, [plot](const QPoint &pos) {
            QMenu menu(plot);
            menu.addAction(QObject::tr("Save Plot As..."), plot, [plot] {
                const QString path = QFileDialog::getSaveFileName(plot, QObject::tr("Save plot"), QStringLiteral("plot.png"),
                                                                  QObject::tr("PNG image (*.png);;PDF (*.pdf);;JPEG (*.jpg)"));
                QString error;
                if (!path.isEmpty() && !exportPlot(plot, path, 2.0, &error))
                    QToolTip::showText(QCursor::pos(), error, plot);
            });
            menu.addAction(QObject::tr("Copy Plot"), plot, [plot] { QApplication::clipboard()->setPixmap(plot->toPixmap(0, 0, 2.0)); });
            menu.exec(plot->mapToGlobal(pos));
        });
    }
}

bool exportPlot(QCustomPlot *plot, const QString &path, double scale, QString *error)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    bool ok = false;
    if (suffix == QLatin1String("pdf"))
        ok = plot->savePdf(path);
    else if (suffix == QLatin1String("png"))
        ok = plot->savePng(path, 0, 0, scale);
    else if (suffix == QLatin1String("jpg") || suffix == QLatin1String("jpeg"))
        ok = plot->saveJpg(path, 0, 0, scale);
    else if (suffix == QLatin1String("bmp"))
        ok = plot->saveBmp(path, 0, 0, scale);
    else if (error)
        *error = QObject::tr("%1: unknown image type (use .png, .pdf, .jpg or .bmp)").arg(path);
    if (!ok && error && error->isEmpty())
        *error = QObject::tr("%1: cannot be written").arg(path);
    return ok;
}

void installBarTooltips(QCustomPlot *plot, QCPBars *bars, const QStringList &labels)
{
    plot->setMouseTracking(true);
    QObject::disconnect(plot, &QCustomPlot::mouseMove, nullptr, nullptr);
    QObject::connect(plot, &QCustomPlot::mouseMove, plot, [plot, bars, labels](QMouseEvent *event) {
        const double distance = bars->selectTest(event->position(), false);
        if (distance < 0 || distance > 2) {
            QToolTip::hideText();
            return;
        }
        // The bar under the cursor: nearest key along the bars' key axis.
        const bool vertical = bars->keyAxis()->orientation() == Qt::Horizontal;
        const double key = vertical ? bars->keyAxis()->pixelToCoord(event->position().x())
                                    : bars->keyAxis()->pixelToCoord(event->position().y());
        int best = -1;
        double bestGap = 1e300;
        int i = 0;
        for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it, ++i) {
            const double gap = std::abs(it->key - key);
            if (gap < bestGap) {
                bestGap = gap;
                best = i;
            }
        }
        if (best >= 0 && best < labels.size())
            QToolTip::showText(event->globalPosition().toPoint(), labels[best], plot);
    });
}

} // namespace fscope::ui
