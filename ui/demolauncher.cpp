#include "ui/demolauncher.h"

#include "core/demo/demo_workspace.h"
#include "ui/decompositionpanel.h"
#include "ui/jobrunner.h"
#include "ui/mainwindow.h"
#include "ui/matchpanel.h"
#include "ui/promptinspector.h"
#include "ui/steeringpanel.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"

#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QMessageBox>
#include <QStatusBar>

#include <memory>

namespace fscope::ui {

namespace {

void populateDemo(MainWindow *window, const core::demo::DemoAssets &a);

} // namespace

bool launchDemo(MainWindow *window)
{
    auto assets = core::demo::locateDemo();
    if (!assets) {
        auto *box = new QMessageBox(QMessageBox::Warning, QObject::tr("Demo"),
            QString::fromStdString(assets.errorMessage()), QMessageBox::Ok, window);
        box->setObjectName(QStringLiteral("errorMessage"));
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
        return false;
    }
    const QString path = QString::fromStdString(core::demo::demoWorkspacePath());
    QDir().mkpath(QFileInfo(path).absolutePath());
    // Populate once the workspace is open (opening is a job too).
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = QObject::connect(window->workspaceActions(), &WorkspaceActions::workspaceChanged,
        window, [window, connection, path, a = *assets](const QString &opened) {
            QObject::disconnect(*connection);
            if (QFileInfo(opened).absoluteFilePath() == QFileInfo(path).absoluteFilePath())
                populateDemo(window, a);
        });
    window->workspaceActions()->openWorkspaceAt(path);
    return true;
}

namespace {

void populateDemo(MainWindow *window, const core::demo::DemoAssets &a)
{
    auto indexIds = std::make_shared<std::vector<int64_t>>();
    window->jobRunner()->runOnWorkspace(
        QObject::tr("Index the demo corpus"), window->workspaceActions()->workspacePath(),
        [a, indexIds, device = window->workbench()->device().toStdString(),
            dtype = window->workbench()->dtype().toStdString()](core::jobs::Progress &progress,
            core::store::Database *db) -> core::Result<std::string> {
            if (!db)
                return core::Error { "no workspace is open" };
            core::demo::DemoWorkspace demo;
            FS_TRY(demo, core::demo::populateDemoWorkspace(*db, a, &progress, device, dtype));
            *indexIds = demo.indexIds;
            return demo.summary;
        },
        [window, a, indexIds](const JobState &job) {
            if (!job.succeeded) {
                if (!job.outcome.startsWith(QLatin1String("cancelled"))) {
                    auto *box = new QMessageBox(QMessageBox::Warning,
                        QObject::tr("Demo indexing failed"), job.outcome, QMessageBox::Ok, window);
                    box->setObjectName(QStringLiteral("errorMessage"));
                    box->setAttribute(Qt::WA_DeleteOnClose);
                    box->open();
                }
                return;
            }
            window->statusBar()->showMessage(job.outcome, 10000);
            window->workbench()->refresh();
            // The first labelled feature, so the dashboard opens on something readable (unless
            // the user's own session came back with the workspace).
            [&] {
                if (window->sessionRestored())
                    return;
                for (const auto &l : a.labels)
                    for (size_t i = 0; i < a.saes.size() && i < indexIds->size(); ++i)
                        if (a.saes[i].name == l.sae) {
                            window->workbench()->showFeature((*indexIds)[i], l.feature);
                            return;
                        }
            }();
            if (!a.vector.empty() && !window->sessionRestored())
                window->decompositionPanel()->setVectorFile(QString::fromStdString(a.vector));
            if (!a.steeringPrompt.empty() && !window->sessionRestored())
                window->steeringPanel()->setPrompt(QString::fromStdString(a.steeringPrompt));
            // SAE Match over the per-layer series (one SAE per layer, in layer order).
            QStringList series;
            int lastLayer = -1;
            for (const auto &s : a.saes)
                if (s.layer > lastLayer) {
                    series << QString::fromStdString(s.path);
                    lastLayer = s.layer;
                }
            window->matchPanel()->setSaePaths(series);
            window->matchPanel()->run();
            if (!a.steeringPrompt.empty() && !window->sessionRestored())
                window->promptInspector()->setPrompt(QString::fromStdString(a.steeringPrompt));
            // The layer-to-layer alignment is the demo's headline view: bring its tab forward.
            if (QDockWidget *d = window->dock(QStringLiteral("saeMatch"));
                d && !window->sessionRestored())
                d->raise();
            Q_EMIT window->demoReady();
        });
}

} // namespace

} // namespace fscope::ui
