#include "ui/reportexport.h"

#include "core/report/feature_report.h"
#include "core/store/database.h"
#include "plugins/api/reportexporter.h"
#include "plugins/host/pluginmanager.h"
#include "ui/jobrunner.h"
#include "ui/workbench.h"

#include <QDir>
#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>

namespace fscope::ui {

QList<plugins::ReportExporter *> reportExporters(const Workbench *workbench)
{
    return workbench->plugins()->objects<plugins::ReportExporter>();
}

plugins::ReportExporter *reportExporter(const Workbench *workbench, const QString &formatId)
{
    for (auto *e : reportExporters(workbench))
        if (e->formatId() == formatId)
            return e;
    return nullptr;
}

QString askReportPath(
    QWidget *parent, const plugins::ReportExporter *exporter, const QString &baseName)
{
    QSettings settings;
    const QString dir
        = settings.value(QStringLiteral("reports/lastDir"), QDir::homePath()).toString();
    const QString suffix = exporter->fileSuffix();
    const QString path = QFileDialog::getSaveFileName(parent,
        QObject::tr("Export %1").arg(exporter->displayName()),
        dir + QLatin1Char('/') + baseName + QLatin1Char('.') + suffix,
        QObject::tr("%1 (*.%2)").arg(exporter->displayName(), suffix));
    if (!path.isEmpty())
        settings.setValue(QStringLiteral("reports/lastDir"), QFileInfo(path).absolutePath());
    return path;
}

int startReportExport(Workbench *workbench, plugins::ReportExporter *exporter, qint64 indexId,
    const std::vector<qint64> &features, const QString &path,
    std::function<void(bool ok, const QString &message)> done)
{
    std::vector<int64_t> ids(features.begin(), features.end());
    auto work = [exporter, indexId, ids, path](core::jobs::Progress &progress,
                    core::store::Database *db) -> core::Result<std::string> {
        if (!db)
            return core::Error { "no workspace is open" };
        std::vector<core::report::FeatureReport> reports;
        FS_TRY(reports, core::report::buildFeatureReports(*db, indexId, ids, &progress));
        progress.begin(0, "Writing " + exporter->displayName().toStdString());
        std::vector<std::string> written;
        FS_TRY(written, exporter->exportReports(reports, path));
        return std::to_string(reports.size()) + (reports.size() == 1 ? " feature" : " features")
            + " written to " + path.toStdString()
            + (written.size() > 1 ? " (+" + std::to_string(written.size() - 1) + " files)" : "");
    };
    const QString title = QObject::tr("Export %1 feature(s) as %2")
                              .arg(features.size())
                              .arg(exporter->displayName());
    return workbench->runner()->runOnWorkspace(
        title, workbench->workspacePath(), work, [done](const JobState &state) {
            if (done)
                done(state.succeeded, state.outcome);
        });
}

void fillReportMenu(
    QMenu *menu, Workbench *workbench, QWidget *dialogParent, std::function<ReportTarget()> target)
{
    // Rebuilt on every show: plugins can be enabled and disabled while the app runs.
    QObject::connect(menu, &QMenu::aboutToShow, menu, [menu, workbench, dialogParent, target] {
        menu->clear();
        const auto exporters = reportExporters(workbench);
        if (exporters.isEmpty())
            menu->addAction(QObject::tr("No report exporter is enabled (Help > Plugins)"))
                ->setEnabled(false);
        for (auto *exporter : exporters) {
            QAction *action = menu->addAction(exporter->displayName() + QStringLiteral("..."));
            action->setObjectName(QStringLiteral("actionExport_") + exporter->formatId());
            QObject::connect(
                action, &QAction::triggered, menu, [workbench, dialogParent, target, exporter] {
                    const ReportTarget t = target();
                    if (t.indexId <= 0 || t.features.empty())
                        return;
                    const QString path = askReportPath(dialogParent, exporter, t.baseName);
                    if (path.isEmpty())
                        return;
                    startReportExport(workbench, exporter, t.indexId, t.features, path,
                        [dialogParent](bool ok, const QString &message) {
                            if (!ok)
                                QMessageBox::warning(
                                    dialogParent, QObject::tr("Export failed"), message);
                        });
                });
        }
    });
}

} // namespace fscope::ui
