#pragma once
// The File menu's work: create/open a workspace database, open a model, add an SAE. Each runs
// through the job runner; results and errors reach the user in plain words with the file name.

#include <QObject>
#include <QString>

#include <memory>

class QAction;
class QWidget;

namespace fscope::core::store {
class Database;
}

namespace fscope::ui {

class JobRunner;
struct JobState;

class WorkspaceActions : public QObject {
    Q_OBJECT
public:
    WorkspaceActions(JobRunner *runner, QWidget *dialogParent);
    ~WorkspaceActions() override;

    QAction *newWorkspace() const { return m_new; }
    QAction *openWorkspace() const { return m_open; }
    QAction *openWorkspaceReadOnly() const { return m_openReadOnly; }
    QAction *openModel() const { return m_openModel; }
    QAction *addSae() const { return m_addSae; }

    // The workspace open now, or null.
    core::store::Database *database() const { return m_database.get(); }
    QString workspacePath() const;

    // Direct entry points (the actions ask for a path first). Return the job id.
    // Read-only: for browsing a workspace without changing it (also what a workspace this user
    // cannot write opens as).
    int openWorkspaceAt(const QString &path, bool readOnly = false);
    int inspectModelAt(const QString &path);
    int inspectSaeAt(const QString &path);

Q_SIGNALS:
    // The open workspace is about to be replaced by another (it is still open now).
    void aboutToChangeWorkspace();
    void workspaceChanged(const QString &path);
    // One line for the status bar.
    void message(const QString &text);

private:
    void reportOutcome(const JobState &job, const QString &failureTitle);

    JobRunner *m_runner;
    QWidget *m_dialogParent;
    QAction *m_new;
    QAction *m_open;
    QAction *m_openReadOnly;
    QAction *m_openModel;
    QAction *m_addSae;
    std::shared_ptr<core::store::Database> m_database;
};

} // namespace fscope::ui
