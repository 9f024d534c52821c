#include "ui/mainwindow.h"

#include "plugins/host/pluginmanager.h"
#include "ui/pluginmanagerdialog.h"
#include "ui/preferencesdialog.h"
#include "ui/reportexportdialog.h"

#include "core/hub/hub_names.h"
#include "core/index/index_job.h"
#include "core/model/compute_devices.h"
#include "core/model/model_cache.h"
#include "core/store/database.h"
#include "core/store/index_store.h"
#include "core/util/device_memory.h"
#include "ui/aboutdialog.h"
#include "ui/computestatus.h"
#include "ui/decompositionpanel.h"
#include "ui/demolauncher.h"
#include "ui/explaindialog.h"
#include "ui/featurebrowser.h"
#include "ui/featuredashboard.h"
#include "ui/formstate.h"
#include "ui/indexdialog.h"
#include "ui/itdasimilaritydialog.h"
#include "ui/jobrunner.h"
#include "ui/jobspanel.h"
#include "ui/matchpanel.h"
#include "ui/progresssurface.h"
#include "ui/promptinspector.h"
#include "ui/steeringpanel.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"
#include "ui/workspacesession.h"

#include <QComboBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <QMessageBox>
#include <QScrollArea>
#include <QShowEvent>

#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QGuiApplication>
#include <QLabel>
#include <QMenuBar>
#include <QScreen>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>

namespace fscope::ui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_runner(new JobRunner(this))
    , m_workspace(new WorkspaceActions(m_runner, this))
    , m_progress(new ProgressSurface(m_runner, this))
    , m_workbench(new Workbench(m_runner, m_workspace, this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/featurescope.png")));
    setDockOptions(AnimatedDocks | AllowTabbedDocks | AllowNestedDocks);

    m_dashboard = new FeatureDashboardView(m_workbench, this);
    setCentralWidget(m_dashboard);

    createDocks();
    // Plugins first: the panels' export menus list what they register.
    m_workbench->plugins()->loadPlugins();
    createMenus();
    statusBar()->addPermanentWidget(m_progress);
    // One device and precision for every job (the model, the SAEs and their work), remembered.
    m_compute = new ComputeStatus(m_workbench, this);
    statusBar()->addPermanentWidget(m_compute);
    const QStringList pluginErrors = m_workbench->plugins()->errors();
    statusBar()->showMessage(pluginErrors.isEmpty()
            ? tr("Ready")
            : tr("%n plugin(s) could not be loaded (Help > Plugins)", nullptr,
                static_cast<int>(pluginErrors.size())));

    connect(m_workspace, &WorkspaceActions::message, this,
        [this](const QString &text) { statusBar()->showMessage(text, 10000); });
    connect(m_workspace, &WorkspaceActions::workspaceChanged, this, &MainWindow::updateTitle);
    connect(
        m_workspace, &WorkspaceActions::workspaceChanged, this, &MainWindow::updateReadOnlyBanner);
    connect(m_workspace, &WorkspaceActions::workspaceChanged, this, &MainWindow::rememberWorkspace);
    connect(m_workspace, &WorkspaceActions::aboutToChangeWorkspace, this, &MainWindow::saveSession);
    connect(m_workspace, &WorkspaceActions::workspaceChanged, this, [this] { restoreSession(); });
    updateTitle(QString());
    restoreSettings();
}

MainWindow::~MainWindow() = default;

QDockWidget *MainWindow::addPanelDock(
    const QString &role, const QString &title, QWidget *panel, Qt::DockWidgetArea area)
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

namespace {
// Panels with forms and plots sit in scroll areas: their content must not set the window's
// minimum size.
QScrollArea *scrollable(QWidget *panel)
{
    auto *scroll = new QScrollArea;
    scroll->setWidget(panel);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setMinimumSize(200, 60);
    return scroll;
}
} // namespace

void MainWindow::createDocks()
{
    m_browser = new FeatureBrowser(m_workbench);
    addPanelDock(QStringLiteral("features"), tr("Features"), m_browser, Qt::LeftDockWidgetArea);
    m_inspector = new PromptInspector(m_workbench);
    auto *prompt = addPanelDock(
        QStringLiteral("prompt"), tr("Prompt Inspector"), m_inspector, Qt::RightDockWidgetArea);
    m_steering = new SteeringPanel(m_workbench);
    auto *steering = addPanelDock(QStringLiteral("steering"), tr("Steering"),
        scrollable(m_steering), Qt::RightDockWidgetArea);
    connect(m_steering, &SteeringPanel::openFeature, m_workbench, &Workbench::showFeature);
    connect(m_inspector, &PromptInspector::steerPrompt, m_steering, &SteeringPanel::setPrompt);
    connect(m_workbench, &Workbench::steerRequested, this,
        [this, steering](qint64 indexId, qint64 feature, const QString &mode) {
            m_steering->setFeature(indexId, feature, mode);
            steering->show();
            steering->raise();
        });
    m_decomposition = new DecompositionPanel(m_workbench);
    connect(
        m_decomposition, &DecompositionPanel::openFeature, m_workbench, &Workbench::showFeature);
    auto *decomposition = addPanelDock(QStringLiteral("decomposition"), tr("Decomposition"),
        scrollable(m_decomposition), Qt::BottomDockWidgetArea);
    m_match = new MatchPanel(m_workbench);
    auto *match = addPanelDock(
        QStringLiteral("saeMatch"), tr("SAE Match"), scrollable(m_match), Qt::BottomDockWidgetArea);
    auto *jobs = addPanelDock(
        QStringLiteral("jobs"), tr("Jobs"), new JobsPanel(m_runner), Qt::BottomDockWidgetArea);
    tabifyDockWidget(prompt, steering);
    prompt->raise();
    tabifyDockWidget(decomposition, match);
    tabifyDockWidget(match, jobs);
    jobs->raise();
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_workspace->newWorkspace());
    file->addAction(m_workspace->openWorkspace());
    file->addAction(m_workspace->openWorkspaceReadOnly());
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("menuRecent"));
    rebuildRecentMenu();
    file->addSeparator();
    file->addAction(m_workspace->openModel());
    file->addAction(m_workspace->addSae());
    m_indexAction = file->addAction(tr("&Index Corpus..."), this, &MainWindow::showIndexDialog);
    m_indexAction->setObjectName(QStringLiteral("actionIndexCorpus"));
    m_indexAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    m_indexAction->setStatusTip(tr("Index a corpus with a model and SAEs into the workspace"));
    QAction *explain = file->addAction(tr("E&xplain Features..."), this, [this] {
        if (!m_workspace->database()) {
            statusBar()->showMessage(tr("Open a workspace with an index first"), 8000);
            return;
        }
        auto *dialog = new ExplainDialog(m_workbench, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
    });
    explain->setObjectName(QStringLiteral("actionExplainFeatures"));
    explain->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    explain->setStatusTip(tr("Explain and score features with an LLM (a local server or an "
                             "in-process instruct model)"));
    QAction *compareItda = file->addAction(tr("Compare &ITDA Dictionaries..."), this, [this] {
        auto *dialog = new ItdaSimilarityDialog(m_runner, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->resize(1000, 640);
        dialog->open();
    });
    compareItda->setObjectName(QStringLiteral("actionCompareItda"));
    compareItda->setStatusTip(tr("Jaccard similarity of ITDA dictionaries (layers or models) as "
                                 "a table and a heatmap"));
    QAction *exportReport = file->addAction(tr("&Export Feature Report..."), this, [this] {
        auto *dialog = new ReportExportDialog(m_workbench, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
    });
    exportReport->setObjectName(QStringLiteral("actionExportReport"));
    exportReport->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    exportReport->setStatusTip(tr("Write feature reports (HTML, Markdown, PDF, JSON, Neuronpedia) "
                                  "for one feature or a list"));
    QAction *unload = file->addAction(tr("&Unload Models"), this, [this] {
        const int n = int(m_workbench->models().loadedModels().size());
        const QString size = QString::fromStdString(
            core::util::formatBytes(m_workbench->models().residentBytes()));
        m_workbench->models().clear();
        statusBar()->showMessage(tr("Unloaded %n model(s) (%1): their memory is freed once running "
                                    "jobs finish",
                                     nullptr, n)
                                     .arg(size),
            10000);
        m_compute->updateMemory();
    });
    unload->setObjectName(QStringLiteral("actionUnloadModels"));
    unload->setStatusTip(tr("Free the models and SAEs the panels keep loaded"));
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    quit->setObjectName(QStringLiteral("actionQuit"));

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    QAction *preferences = edit->addAction(tr("&Preferences..."), this, [this] {
        auto *dialog = new PreferencesDialog(m_workbench, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
    });
    preferences->setObjectName(QStringLiteral("actionPreferences"));
    preferences->setMenuRole(QAction::PreferencesRole);
    preferences->setShortcut(QKeySequence::Preferences);
    preferences->setStatusTip(tr("The compute device and precision of every job"));

    QMenu *go = menuBar()->addMenu(tr("&Go"));
    go->addAction(m_workbench->backAction());
    go->addAction(m_workbench->forwardAction());
    QAction *find = go->addAction(tr("&Find Feature..."), this, [this] {
        dock(QStringLiteral("features"))->show();
        dock(QStringLiteral("features"))->raise();
        m_browser->focusSearch();
    });
    find->setObjectName(QStringLiteral("actionFindFeature"));
    find->setShortcut(QKeySequence::Find);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    for (QDockWidget *d : findChildren<QDockWidget *>()) {
        QAction *toggle = d->toggleViewAction();
        toggle->setObjectName(QStringLiteral("actionToggle_") + d->objectName());
        m_viewMenu->addAction(toggle);
    }

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    QAction *pluginsAction = help->addAction(tr("&Plugins..."), this, [this] {
        auto *dialog = new PluginManagerDialog(m_workbench->plugins(), this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
    });
    pluginsAction->setObjectName(QStringLiteral("actionPlugins"));
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

void MainWindow::updateReadOnlyBanner()
{
    auto *db = m_workspace->database();
    const bool readOnly = db && db->readOnly();
    if (!m_readOnlyBanner && !readOnly)
        return;
    if (!m_readOnlyBanner) {
        m_readOnlyBanner = new QToolBar(tr("Read-only workspace"), this);
        m_readOnlyBanner->setObjectName(QStringLiteral("readOnlyBanner"));
        m_readOnlyBanner->setMovable(false);
        m_readOnlyBanner->setFloatable(false);
        auto *text = new QLabel(m_readOnlyBanner);
        text->setObjectName(QStringLiteral("readOnlyText"));
        text->setContentsMargins(8, 4, 8, 4);
        m_readOnlyBanner->addWidget(text);
        m_readOnlyBanner->setStyleSheet(
            QStringLiteral("QToolBar#readOnlyBanner { background: #fff4d6; border: none; }"));
        addToolBar(Qt::TopToolBarArea, m_readOnlyBanner);
    }
    if (readOnly)
        m_readOnlyBanner->findChild<QLabel *>(QStringLiteral("readOnlyText"))
            ->setText(tr("%1 is read-only: browse its features and results; labels, notes, "
                         "indexes and the session cannot be saved here. Copy it somewhere "
                         "writable to work in it.")
                          .arg(QFileInfo(QString::fromStdString(db->path())).fileName()));
    m_readOnlyBanner->setVisible(readOnly);
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray())) {
        // First start: most of the screen, centred (not a small window in a corner).
        if (const QScreen *screen = QGuiApplication::primaryScreen()) {
            const QRect area = screen->availableGeometry();
            resize(area.size() * 0.85);
            move(area.center() - rect().center());
        } else {
            resize(1280, 800);
        }
    }
    m_stateRestored = restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    if (m_shown)
        return;
    m_shown = true;
    // First start: dock sizes only take once the window has its real size.
    if (!m_stateRestored) {
        resizeDocks({ dock(QStringLiteral("features")), dock(QStringLiteral("prompt")) },
            { width() * 27 / 100, width() / 5 }, Qt::Horizontal);
        resizeDocks({ dock(QStringLiteral("decomposition")) }, { height() * 3 / 10 }, Qt::Vertical);
    }
}

void MainWindow::rememberWorkspace(const QString &path)
{
    if (path.isEmpty())
        return;
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("recentWorkspaces")).toStringList();
    const QString absolute = QFileInfo(path).absoluteFilePath();
    recent.removeAll(absolute);
    recent.prepend(absolute);
    while (recent.size() > 8)
        recent.removeLast();
    settings.setValue(QStringLiteral("recentWorkspaces"), recent);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = QSettings().value(QStringLiteral("recentWorkspaces")).toStringList();
    for (const QString &path : recent) {
        QAction *a = m_recentMenu->addAction(
            QFileInfo(path).fileName(), this, [this, path] { m_workspace->openWorkspaceAt(path); });
        a->setStatusTip(path);
        a->setEnabled(QFileInfo::exists(path));
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::showIndexDialog()
{
    if (!m_workspace->database()) {
        auto *box = new QMessageBox(QMessageBox::Information, tr("Index Corpus"),
            tr("Open or create a workspace first (File > New Workspace): the index is stored in "
               "it."),
            QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
        return;
    }
    auto *dialog = new IndexDialog(m_runner, this);
    dialog->setCompute(m_workbench->device(), m_workbench->dtype());
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { indexCorpus(dialog->settings()); });
    dialog->open();
}

int MainWindow::indexCorpus(const IndexSettings &s)
{
    core::index::IndexRequest request;
    request.model = s.model.toStdString();
    request.device = s.device.toStdString();
    request.dtype = s.dtype.toStdString();
    for (const QString &sae : s.saes)
        request.saes.push_back(sae.toStdString());
    for (const QString &c : s.corpus)
        request.corpus.paths.push_back(c.toStdString());
    request.corpus.contextLength = s.contextLength;
    request.corpus.split = s.wholeFiles ? core::corpus::Split::Files : core::corpus::Split::Lines;
    if (auto n = core::corpus::parseTokenCount(s.tokens.toStdString()))
        request.corpus.tokenBudget = *n;
    request.options.batchContexts = s.batchSize;
    // The job's own connection (runOnWorkspace): the UI keeps reading through its own meanwhile.
    return m_runner->runOnWorkspace(
        tr("Index %1").arg(s.corpus.join(QStringLiteral(", "))), m_workspace->workspacePath(),
        [request](core::jobs::Progress &progress,
            core::store::Database *db) -> core::Result<std::string> {
            if (!db)
                return core::Error { "no workspace is open" };
            // Hub names (org/name[@rev], hf://org/repo/path) are fetched into the cache first.
            core::index::IndexRequest resolved = request;
            FS_TRY(resolved.model, core::hub::resolveModelName(request.model, &progress));
            for (auto &sae : resolved.saes)
                FS_TRY(sae, core::hub::resolveSaeName(sae, &progress));
            auto r = core::index::runIndexJob(*db, resolved, &progress);
            if (!r)
                return r.error();
            int computed = 0;
            for (bool c : r->outcome.computed)
                computed += c ? 1 : 0;
            std::string done = "Indexed " + std::to_string(r->outcome.tokens) + " tokens for "
                + std::to_string(r->saeLabels.size()) + " SAE(s) (" + std::to_string(computed)
                + " computed, " + std::to_string(r->saeLabels.size() - size_t(computed))
                + " from the cache)";
            if (!r->outcome.notes.empty()) // out-of-memory back-offs: the last one holds
                done += "; " + r->outcome.notes.back();
            return done;
        },
        [this](const JobState &job) {
            if (job.succeeded) {
                statusBar()->showMessage(job.outcome, 10000);
                m_workbench->refresh();
            } else if (!job.outcome.startsWith(QLatin1String("cancelled"))) {
                auto *box = new QMessageBox(QMessageBox::Warning, tr("Indexing failed"),
                    job.outcome, QMessageBox::Ok, this);
                box->setObjectName(QStringLiteral("errorMessage"));
                box->setAttribute(Qt::WA_DeleteOnClose);
                box->open();
            } else {
                statusBar()->showMessage(
                    tr("Indexing cancelled; running it again resumes where it stopped."), 10000);
            }
        });
}

bool MainWindow::openDemo()
{
    return launchDemo(this);
}

void MainWindow::saveSession()
{
    WorkspaceSession(this).save();
}

bool MainWindow::restoreSession()
{
    m_sessionRestored = WorkspaceSession(this).restore();
    return m_sessionRestored;
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveSession();
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    m_runner->cancelAll();
    m_runner->waitForAll();
    event->accept();
}

} // namespace fscope::ui
