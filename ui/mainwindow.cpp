#include "ui/mainwindow.h"

#include "ui/aboutdialog.h"
#include "ui/emptystatepanel.h"
#include "ui/jobrunner.h"
#include "ui/jobspanel.h"
#include "ui/progresssurface.h"
#include "ui/workspaceactions.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileInfo>
#include <QMenuBar>
#include <QSettings>
#include <QStatusBar>

namespace fscope::ui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_runner(new JobRunner(this)),
      m_workspace(new WorkspaceActions(m_runner, this)), m_progress(new ProgressSurface(m_runner, this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/featurescope.png")));
    setDockOptions(AnimatedDocks | AllowTabbedDocks | AllowNestedDocks);

    auto *dashboard = new EmptyStatePanel(
        tr("Feature dashboard"),
        tr("A feature's statistics, activation histogram, logit effects and top-activating "
           "contexts appear here."),
        tr("Open a workspace, add a model and an SAE, then index a corpus."), this);
    dashboard->setObjectName(QStringLiteral("dashboardPanel"));
    setCentralWidget(dashboard);

    createDocks();
    createMenus();
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->showMessage(tr("Ready"));

    connect(m_workspace, &WorkspaceActions::message, this,
            [this](const QString &text) { statusBar()->showMessage(text, 10000); });
    connect(m_workspace, &WorkspaceActions::workspaceChanged, this, &MainWindow::updateTitle);
    updateTitle(QString());
    restoreSettings();
}

MainWindow::~MainWindow() = default;

QDockWidget *MainWindow::addPanelDock(const QString &role, const QString &title, QWidget *panel,
                                      Qt::DockWidgetArea area)
{
    auto *dock = new QDockWidget(title, this);
    dock->setObjectName(role + QStringLiteral("Dock")); // saveState() keys on object names
    dock->setWidget(panel);
    addDockWidget(area, dock);
    return dock;
}

QDockWidget *MainWindow::dock(const QString &role) const
{
    return findChild<QDockWidget *>(role + QStringLiteral("Dock"));
}

void MainWindow::createDocks()
{
    const QString needsIndex = tr("Open a workspace and index a corpus to fill this panel.");
    addPanelDock(QStringLiteral("features"), tr("Features"),
                 new EmptyStatePanel(tr("Feature browser"),
                                     tr("Every feature of the selected SAE with its label, "
                                        "density and maximum activation."),
                                     needsIndex),
                 Qt::LeftDockWidgetArea);
    auto *prompt = addPanelDock(
        QStringLiteral("prompt"), tr("Prompt Inspector"),
        new EmptyStatePanel(tr("Prompt inspector"),
                            tr("Type a prompt to see its tokens and the features active on each."),
                            tr("Needs a model and an SAE.")),
        Qt::RightDockWidgetArea);
    auto *steering = addPanelDock(
        QStringLiteral("steering"), tr("Steering"),
        new EmptyStatePanel(tr("Steering and ablation"),
                            tr("Steer or ablate features and compare generations side by side."),
                            tr("Choose \"Steer with this feature\" on a dashboard.")),
        Qt::RightDockWidgetArea);
    auto *decomposition = addPanelDock(
        QStringLiteral("decomposition"), tr("Decomposition"),
        new EmptyStatePanel(tr("Steering-vector decomposition"),
                            tr("Decompose a steering vector into SAE features with several "
                               "methods side by side."),
                            tr("Build or load a steering vector.")),
        Qt::BottomDockWidgetArea);
    auto *match = addPanelDock(
        QStringLiteral("saeMatch"), tr("SAE Match"),
        new EmptyStatePanel(tr("SAE Match"),
                            tr("Align features across layers without data and follow feature "
                               "chains through the model."),
                            tr("Add SAEs of consecutive layers.")),
        Qt::BottomDockWidgetArea);
    auto *jobs = addPanelDock(QStringLiteral("jobs"), tr("Jobs"), new JobsPanel(m_runner),
                              Qt::BottomDockWidgetArea);
    tabifyDockWidget(prompt, steering);
    prompt->raise();
    tabifyDockWidget(decomposition, match);
    tabifyDockWidget(match, jobs);
    decomposition->raise();
    resizeDocks({dock(QStringLiteral("features")), prompt}, {300, 340}, Qt::Horizontal);
    resizeDocks({decomposition}, {220}, Qt::Vertical);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_workspace->newWorkspace());
    file->addAction(m_workspace->openWorkspace());
    file->addSeparator();
    file->addAction(m_workspace->openModel());
    file->addAction(m_workspace->addSae());
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setObjectName(QStringLiteral("actionQuit"));

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    for (QDockWidget *d : findChildren<QDockWidget *>()) {
        QAction *toggle = d->toggleViewAction();
        toggle->setObjectName(QStringLiteral("actionToggle_") + d->objectName());
        m_viewMenu->addAction(toggle);
    }

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    QAction *about = help->addAction(tr("&About Featurescope"), this, [this] {
        auto *dialog = new AboutDialog(this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
    });
    about->setObjectName(QStringLiteral("actionAbout"));
    about->setMenuRole(QAction::AboutRole);
}

void MainWindow::updateTitle(const QString &workspacePath)
{
    setWindowTitle(workspacePath.isEmpty()
                       ? tr("Featurescope")
                       : tr("%1 - Featurescope").arg(QFileInfo(workspacePath).fileName()));
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1280, 800);
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    m_runner->cancelAll();
    m_runner->waitForAll();
    event->accept();
}

} // namespace fscope::ui
