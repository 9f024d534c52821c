#pragma once
// Plugins the plugin tests load: a valid report exporter (TSV), and three broken ones the host
// must refuse (an unknown interface, a newer plugin API, an unresolved symbol).

#include "plugins/api/reportexporter.h"

#include <QObject>

namespace fscope::testplugins {

class TsvExporterBase : public QObject, public plugins::ReportExporter {
    Q_OBJECT
    Q_INTERFACES(fscope::plugins::ReportExporter)
public:
    QString formatId() const override { return QStringLiteral("tsv"); }
    QString displayName() const override { return QStringLiteral("TSV summary"); }
    QString fileSuffix() const override { return QStringLiteral("tsv"); }
    core::Result<std::vector<std::string>> exportReports(
        const std::vector<core::report::FeatureReport> &reports,
        const QString &path) const override;
};

} // namespace fscope::testplugins
