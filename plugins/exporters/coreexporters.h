#pragma once
// The built-in report exporters whose formats core writes (HTML, Markdown, our JSON,
// Neuronpedia's JSON): thin plugins over core::report::writeReports.

#include "core/report/report_writer.h"
#include "plugins/api/reportexporter.h"

#include <QObject>

namespace fscope::plugins {

class CoreReportExporter : public QObject, public ReportExporter {
    Q_OBJECT
    Q_INTERFACES(fscope::plugins::ReportExporter)
public:
    CoreReportExporter(core::report::ReportFormat format, QString id, QString name, QString suffix);
    QString formatId() const override { return m_id; }
    QString displayName() const override { return m_name; }
    QString fileSuffix() const override { return m_suffix; }
    core::Result<std::vector<std::string>> exportReports(
        const std::vector<core::report::FeatureReport> &reports,
        const QString &path) const override;

private:
    core::report::ReportFormat m_format;
    QString m_id, m_name, m_suffix;
};

class HtmlReportExporter : public CoreReportExporter {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID FSCOPE_REPORT_EXPORTER_IID FILE "html.json")
public:
    HtmlReportExporter();
};

class MarkdownReportExporter : public CoreReportExporter {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID FSCOPE_REPORT_EXPORTER_IID FILE "markdown.json")
public:
    MarkdownReportExporter();
};

class JsonReportExporter : public CoreReportExporter {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID FSCOPE_REPORT_EXPORTER_IID FILE "json.json")
public:
    JsonReportExporter();
};

class NeuronpediaExporter : public CoreReportExporter {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID FSCOPE_REPORT_EXPORTER_IID FILE "neuronpedia.json")
public:
    NeuronpediaExporter();
};

} // namespace fscope::plugins
