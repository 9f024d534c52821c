#include "plugins/exporters/coreexporters.h"

namespace fscope::plugins {

CoreReportExporter::CoreReportExporter(
    core::report::ReportFormat format, QString id, QString name, QString suffix)
    : m_format(format)
    , m_id(std::move(id))
    , m_name(std::move(name))
    , m_suffix(std::move(suffix))
{
}

core::Result<std::vector<std::string>> CoreReportExporter::exportReports(
    const std::vector<core::report::FeatureReport> &reports, const QString &path) const
{
    return core::report::writeReports(reports, m_format, path.toStdString());
}

HtmlReportExporter::HtmlReportExporter()
    : CoreReportExporter(core::report::ReportFormat::Html, QStringLiteral("html"),
        tr("HTML report"), QStringLiteral("html"))
{
}

MarkdownReportExporter::MarkdownReportExporter()
    : CoreReportExporter(core::report::ReportFormat::Markdown, QStringLiteral("markdown"),
        tr("Markdown report"), QStringLiteral("md"))
{
}

JsonReportExporter::JsonReportExporter()
    : CoreReportExporter(core::report::ReportFormat::Json, QStringLiteral("json"),
        tr("JSON (Featurescope schema)"), QStringLiteral("json"))
{
}

NeuronpediaExporter::NeuronpediaExporter()
    : CoreReportExporter(core::report::ReportFormat::Neuronpedia, QStringLiteral("neuronpedia"),
        tr("Neuronpedia upload JSON"), QStringLiteral("json"))
{
}

} // namespace fscope::plugins
