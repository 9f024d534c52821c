#include "plugins/exporters/pdfexporter.h"

#include "core/report/report_html.h"

#include <QImage>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgRenderer>
#include <QTextDocument>
#include <QUrl>

namespace fscope::plugins {

namespace {

// Charts are drawn at this many image pixels per layout pixel (crisp at print resolution).
constexpr int kChartScale = 3;

QImage renderChart(const core::report::ReportChart &chart)
{
    QSvgRenderer svg(QByteArray::fromStdString(chart.svg));
    QImage image(chart.width * kChartScale, chart.height * kChartScale, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    svg.render(&painter);
    return image;
}

} // namespace

core::Result<int> writeReportPdf(
    const std::vector<core::report::FeatureReport> &reports, const QString &path)
{
    if (reports.empty())
        return core::Error { path.toStdString() + ": no features to write" };
    core::report::HtmlOptions options;
    options.paged = true;
    options.maxExamples = 8; // a report page, not the whole index: the HTML report has them all

    QTextDocument doc;
    doc.setDocumentMargin(0);
    // Each chart is built once: rendered to an image here, named by the paged HTML.
    std::vector<std::vector<core::report::ReportChart>> charts;
    for (const auto &r : reports) {
        charts.push_back(core::report::reportCharts(r));
        for (const auto &chart : charts.back())
            doc.addResource(QTextDocument::ImageResource, QUrl(QString::fromStdString(chart.name)),
                renderChart(chart));
    }
    doc.setHtml(QString::fromStdString(core::report::reportsHtml(reports, options, &charts)));
    // An explicit page size (the A4 page inside 15 mm margins, in layout pixels at 96 dpi)
    // paginates the document itself: print() then maps each page onto a PDF page, and
    // pageCount() is the number of pages the file will have.
    constexpr double kPxPerMm = 96.0 / 25.4;
    doc.setPageSize(QSizeF((210 - 30) * kPxPerMm, (297 - 30) * kPxPerMm));
    const int pages = doc.pageCount();

    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return core::fileError(
            path.toStdString(), "cannot be written: " + file.errorString().toStdString());
    {
        QPdfWriter writer(&file);
        writer.setTitle(QString::fromStdString(core::report::reportTitle(reports)));
        writer.setCreator(QStringLiteral("Featurescope " FEATURESCOPE_VERSION));
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Portrait,
            QMarginsF(15, 15, 15, 15), QPageLayout::Millimeter));
        writer.setResolution(300);
        doc.print(&writer);
    }
    if (!file.commit())
        return core::fileError(
            path.toStdString(), "cannot be written: " + file.errorString().toStdString());
    return pages;
}

core::Result<std::vector<std::string>> PdfReportExporter::exportReports(
    const std::vector<core::report::FeatureReport> &reports, const QString &path) const
{
    auto pages = writeReportPdf(reports, path);
    if (!pages)
        return pages.error();
    return std::vector<std::string> { path.toStdString() };
}

} // namespace fscope::plugins
