#pragma once
// The workspace session: the docks' layout, the feature on screen and each panel's form
// (steering and decomposition setups, the browser's list filter, the SAE Match series),
// stored in the workspace (meta "ui.session") and restored when it is opened again.

#include <utility>
#include <vector>

class QWidget;

namespace fscope::ui {

class MainWindow;

class WorkspaceSession {
public:
    explicit WorkspaceSession(MainWindow *window)
        : m_window(window)
    {
    }
    // Writes the session; a failure is reported in the status bar and loses nothing else.
    void save();
    // False when none was stored, or a damaged or newer one was ignored.
    bool restore();

private:
    std::vector<std::pair<const char *, QWidget *>> sessionPanels() const;
    MainWindow *m_window;
};

} // namespace fscope::ui
