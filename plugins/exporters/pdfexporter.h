#pragma once
// The PDF report exporter: the paged HTML report laid out by QTextDocument on A4, each feature
// starting a page, charts rendered from their SVG at print resolution.

#include "plugins/api/reportexporter.h"

#include <QObject>

namespace fscope::plugins {

// Writes the PDF atomically; returns its number of pages, or an error.
core::Result<int> writeReportPdf(
    const std::vector<core::report::FeatureReport> &reports, const QString &path);

class PdfReportExporter : public QObject, public ReportExporter {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID FSCOPE_REPORT_EXPORTER_IID FILE "pdf.json")
    Q_INTERFACES(fscope::plugins::ReportExporter)
public:
    QString formatId() const override { return QStringLiteral("pdf"); }
    QString displayName() const override { return tr("PDF report"); }
    QString fileSuffix() const override { return QStringLiteral("pdf"); }
    core::Result<std::vector<std::string>> exportReports(
        const std::vector<core::report::FeatureReport> &reports,
        const QString &path) const override;
};

} // namespace fscope::plugins
