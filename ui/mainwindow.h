#pragma once
// The main window is a frame: it hosts the dashboard (central) and the docks (features,
// prompt, steering, decomposition, SAE Match, jobs), the menus and the status-bar progress
// surface. Each panel is its own class; the frame only places and wires them.

#include <QMainWindow>

class QDockWidget;

namespace fscope::ui {

class JobRunner;
class ProgressSurface;
class WorkspaceActions;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    JobRunner *jobRunner() const { return m_runner; }
    WorkspaceActions *workspaceActions() const { return m_workspace; }
    ProgressSurface *progressSurface() const { return m_progress; }
    // The docks by role: "features", "prompt", "steering", "decomposition", "saeMatch", "jobs".
    QDockWidget *dock(const QString &role) const;

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    QDockWidget *addPanelDock(const QString &role, const QString &title, QWidget *panel,
                              Qt::DockWidgetArea area);
    void createDocks();
    void createMenus();
    void restoreSettings();
    void updateTitle(const QString &workspacePath);

    JobRunner *m_runner;
    WorkspaceActions *m_workspace;
    ProgressSurface *m_progress;
    QMenu *m_viewMenu = nullptr;
};

} // namespace fscope::ui
