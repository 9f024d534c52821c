#pragma once
// The main window is a frame: it hosts the dashboard (central) and the docks (features,
// prompt, steering, decomposition, SAE Match, jobs), the menus and the status-bar progress
// surface. Each panel is its own class; the frame only places and wires them.

#include <QMainWindow>

#include <utility>
#include <vector>

class QDockWidget;

namespace fscope::ui {

class DecompositionPanel;
class FeatureBrowser;
class MatchPanel;
class FeatureDashboardView;
class JobRunner;
class ProgressSurface;
class ComputeStatus;
class PromptInspector;
class SteeringPanel;
class Workbench;
class WorkspaceActions;
struct IndexSettings;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    JobRunner *jobRunner() const { return m_runner; }
    WorkspaceActions *workspaceActions() const { return m_workspace; }
    ProgressSurface *progressSurface() const { return m_progress; }
    ComputeStatus *computeStatus() const { return m_compute; }
    Workbench *workbench() const { return m_workbench; }
    FeatureBrowser *featureBrowser() const { return m_browser; }
    FeatureDashboardView *dashboard() const { return m_dashboard; }
    PromptInspector *promptInspector() const { return m_inspector; }
    SteeringPanel *steeringPanel() const { return m_steering; }
    DecompositionPanel *decompositionPanel() const { return m_decomposition; }
    MatchPanel *matchPanel() const { return m_match; }
    // Indexes a corpus into the open workspace (File > Index Corpus); returns the job id.
    int indexCorpus(const IndexSettings &settings);
    // Opens the demo workspace in the user's cache directory. The first time, it indexes the
    // demo corpus for every demo SAE (a normal job with progress) and adds the demo's labels;
    // then it shows a labelled feature, preloads the decomposition example and runs SAE Match
    // over the demo's per-layer SAEs. Returns false (with a message) when the assets are missing.
    bool openDemo();
    // The docks by role: "features", "prompt", "steering", "decomposition", "saeMatch", "jobs".
    QDockWidget *dock(const QString &role) const;
    // The workspace session: the docks' layout, the feature on screen and each panel's form
    // (steering and decomposition setups, the browser's list filter, the SAE Match series),
    // stored in the workspace (meta "ui.session") when it closes or another one opens, and
    // restored when it is opened again. restoreSession() is false when none was stored.
    void saveSession();
    bool restoreSession();
    bool sessionRestored() const { return m_sessionRestored; }

Q_SIGNALS:
    // The demo is indexed and labelled and its panels are filled (SAE Match may still run).
    void demoReady();

protected:
    void closeEvent(QCloseEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    QDockWidget *addPanelDock(
        const QString &role, const QString &title, QWidget *panel, Qt::DockWidgetArea area);
    void createDocks();
    void createMenus();
    void restoreSettings();
    void updateTitle(const QString &workspacePath);
    // A bar above the panels while the workspace is read-only (browsing only).
    void updateReadOnlyBanner();
    void rememberWorkspace(const QString &path);
    void rebuildRecentMenu();
    void showIndexDialog();
    // The panels whose forms the session keeps, by their key in the session JSON.

    JobRunner *m_runner;
    WorkspaceActions *m_workspace;
    ProgressSurface *m_progress;
    ComputeStatus *m_compute = nullptr;
    Workbench *m_workbench;
    FeatureBrowser *m_browser = nullptr;
    FeatureDashboardView *m_dashboard = nullptr;
    class QToolBar *m_readOnlyBanner = nullptr;
    PromptInspector *m_inspector = nullptr;
    SteeringPanel *m_steering = nullptr;
    DecompositionPanel *m_decomposition = nullptr;
    MatchPanel *m_match = nullptr;
    QMenu *m_viewMenu = nullptr;
    QMenu *m_recentMenu = nullptr;
    QAction *m_indexAction = nullptr;
    bool m_stateRestored = false;
    bool m_sessionRestored = false;
    bool m_shown = false;
};

} // namespace fscope::ui
