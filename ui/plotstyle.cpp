#include "ui/plotstyle.h"

#include "ui/qcustomplot_include.h"

#include "core/report/chart_style.h"

#include <QApplication>
#include <QBuffer>
#include <QClipboard>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QMenu>
#include <QMessageBox>
#include <QPalette>
#include <QSaveFile>
#include <QSettings>
#include <QSvgGenerator>
#include <QToolTip>

namespace fscope::ui {

namespace {

QColor toColor(const core::report::Rgb &c)
{
    return QColor(c.r, c.g, c.b);
}

// Asks for a file and, for raster formats, a resolution; then exports.
void savePlotInteractively(QCustomPlot *plot)
{
    QSettings settings;
    const QString dir
        = settings.value(QStringLiteral("plots/lastDir"), QDir::homePath()).toString();
    QString name = plot->objectName().isEmpty() ? QStringLiteral("plot") : plot->objectName();
    const QString path = QFileDialog::getSaveFileName(plot, QObject::tr("Save plot"),
        dir + QLatin1Char('/') + name + QStringLiteral(".png"),
        QObject::tr(
            "PNG image (*.png);;SVG vector image (*.svg);;PDF (*.pdf);;JPEG image (*.jpg)"));
    if (path.isEmpty())
        return;
    settings.setValue(QStringLiteral("plots/lastDir"), QFileInfo(path).absolutePath());
    int dpi = settings.value(QStringLiteral("plots/dpi"), 192).toInt();
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("png") || suffix == QLatin1String("jpg")
        || suffix == QLatin1String("jpeg")) {
        bool ok = false;
        dpi = QInputDialog::getInt(plot, QObject::tr("Image resolution"),
            QObject::tr("Dots per inch (96 = screen size, 300 = print):"), dpi, 48, 1200, 1, &ok);
        if (!ok)
            return;
        settings.setValue(QStringLiteral("plots/dpi"), dpi);
    }
    QString error;
    if (!exportPlot(plot, path, dpi, &error))
        QMessageBox::warning(plot, QObject::tr("Plot not saved"), error);
}

} // namespace

QColor activationColor()
{
    return toColor(core::report::kActivationColor);
}

QColor positiveColor()
{
    return toColor(core::report::kPositiveColor);
}

QColor negativeColor()
{
    return toColor(core::report::kNegativeColor);
}

QCPTextElement *setPlotTitle(QCustomPlot *plot, const QString &title)
{
    if (plot->plotLayout()->rowCount() > 0)
        if (auto *existing = qobject_cast<QCPTextElement *>(plot->plotLayout()->element(0, 0))) {
            existing->setText(title);
            return existing;
        }
    plot->plotLayout()->insertRow(0);
    QFont bold = plot->font();
    bold.setBold(true);
    auto *heading = new QCPTextElement(plot, title, bold);
    heading->setTextColor(QApplication::palette().color(QPalette::WindowText));
    plot->plotLayout()->addElement(0, 0, heading);
    return heading;
}

void applyPlotStyle(QCustomPlot *plot)
{
    const QPalette pal = QApplication::palette();
    const QColor text = pal.color(QPalette::WindowText);
    QColor grid = text;
    grid.setAlpha(40);
    plot->setBackground(pal.brush(QPalette::Base));
    for (QCPAxis *axis : { plot->xAxis, plot->yAxis, plot->xAxis2, plot->yAxis2 }) {
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
        QObject::connect(
            plot, &QWidget::customContextMenuRequested, plot, [plot](const QPoint &pos) {
                QMenu menu(plot);
                menu.addAction(
                    QObject::tr("Save Plot As..."), plot, [plot] { savePlotInteractively(plot); });
                menu.addAction(QObject::tr("Copy Plot"), plot,
                    [plot] { QApplication::clipboard()->setPixmap(plot->toPixmap(0, 0, 2.0)); });
                menu.exec(plot->mapToGlobal(pos));
            });
    }
}

bool exportPlot(QCustomPlot *plot, const QString &path, int dpi, QString *error)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    const double scale = std::max(dpi, 1) / 96.0;
    bool ok = false;
    if (suffix == QLatin1String("pdf")) {
        ok = plot->savePdf(path);
    } else if (suffix == QLatin1String("svg")) {
        // QSvgGenerator into memory, then one atomic write: a failed export leaves no partial file.
        QBuffer buffer;
        buffer.open(QIODevice::WriteOnly);
        QSvgGenerator svg;
        svg.setOutputDevice(&buffer);
        svg.setSize(plot->size());
        svg.setViewBox(QRect(QPoint(0, 0), plot->size()));
        svg.setResolution(96);
        if (auto *title = plot->plotLayout()->rowCount() > 0
                ? qobject_cast<QCPTextElement *>(plot->plotLayout()->element(0, 0))
                : nullptr)
            svg.setTitle(title->text());
        svg.setDescription(QStringLiteral("Featurescope plot"));
        QCPPainter painter;
        if (painter.begin(&svg)) {
            plot->toPainter(&painter, plot->width(), plot->height());
            painter.end();
            QSaveFile file(path);
            ok = file.open(QIODevice::WriteOnly) && file.write(buffer.data()) == buffer.size()
                && file.commit();
        }
    } else if (suffix == QLatin1String("png")) {
        ok = plot->savePng(path, 0, 0, scale, -1, dpi, QCP::ruDotsPerInch);
    } else if (suffix == QLatin1String("jpg") || suffix == QLatin1String("jpeg")) {
        ok = plot->saveJpg(path, 0, 0, scale, -1, dpi, QCP::ruDotsPerInch);
    } else if (suffix == QLatin1String("bmp")) {
        ok = plot->saveBmp(path, 0, 0, scale, dpi, QCP::ruDotsPerInch);
    } else if (error) {
        *error
            = QObject::tr("%1: unknown image type (use .png, .svg, .pdf, .jpg or .bmp)").arg(path);
    }
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
