#pragma once
// A report exporter writes feature reports to a file in one format (HTML, Markdown, PDF, our
// JSON, Neuronpedia's JSON, ...). Exporters are plugins: the built-in ones are linked into the
// app, others are shared libraries in the install or user plugin directory.
//
// exportReports() may run on a worker thread (batch exports are jobs): it must not touch
// widgets and must not keep state between calls.

#include "core/report/feature_report.h"

#include <QString>
#include <QtPlugin>

#include <string>
#include <vector>

namespace fscope::plugins {

class ReportExporter {
public:
    virtual ~ReportExporter() = default;

    // A stable short id ("html", "pdf", "neuronpedia").
    virtual QString formatId() const = 0;
    // The name users see in menus ("HTML report").
    virtual QString displayName() const = 0;
    // The file extension without the dot ("html").
    virtual QString fileSuffix() const = 0;
    // Writes `reports` to `path`; the files written, or an error naming the file and problem.
    virtual core::Result<std::vector<std::string>> exportReports(
        const std::vector<core::report::FeatureReport> &reports, const QString &path) const = 0;
};

} // namespace fscope::plugins

#define FSCOPE_REPORT_EXPORTER_IID "org.featurescope.ReportExporter/1"
Q_DECLARE_INTERFACE(fscope::plugins::ReportExporter, FSCOPE_REPORT_EXPORTER_IID)
