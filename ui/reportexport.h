#pragma once
// Feature-report export from the workbench: every exporter plugin as a menu entry, a save
// dialog per format, and the export itself as a job (reading a long list of features and
// rendering a PDF take a while).

#include <QList>
#include <QString>

#include <functional>
#include <vector>

class QMenu;
class QWidget;

namespace fscope::plugins {
class ReportExporter;
}

namespace fscope::ui {

class Workbench;

// The enabled exporters, in menu order.
QList<plugins::ReportExporter *> reportExporters(const Workbench *workbench);
plugins::ReportExporter *reportExporter(const Workbench *workbench, const QString &formatId);

// Asks where to write a report in the exporter's format; empty when cancelled.
QString askReportPath(
    QWidget *parent, const plugins::ReportExporter *exporter, const QString &baseName);

// Runs the export as a job: builds the features' reports from the workspace, then the
// exporter writes them. `done(ok, message)` runs on the UI thread. Returns the job id.
int startReportExport(Workbench *workbench, plugins::ReportExporter *exporter, qint64 indexId,
    const std::vector<qint64> &features, const QString &path,
    std::function<void(bool ok, const QString &message)> done = {});

// Fills `menu` with one entry per exporter; choosing one asks for a path and exports what
// `target` returns then (index id and features; an empty list does nothing).
struct ReportTarget {
    qint64 indexId = 0;
    std::vector<qint64> features;
    QString baseName; // suggested file name without extension
};
void fillReportMenu(
    QMenu *menu, Workbench *workbench, QWidget *dialogParent, std::function<ReportTarget()> target);

} // namespace fscope::ui
