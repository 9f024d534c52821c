#pragma once
// The one job runner of the UI: every long operation runs here, on the thread pool, with
// its progress polled from the UI thread (DESIGN section 2). Compute code stays plain C++.

#include "core/jobs/progress.h"
#include "core/util/result.h"

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <functional>
#include <map>
#include <memory>

class QTimer;

namespace fscope::core::store {
class Database;
}

namespace fscope::ui {

struct JobState {
    int id = 0;
    QString title;
    core::jobs::ProgressSnapshot progress;
    bool running = true;
    bool succeeded = false;
    QString outcome; // summary on success, error message on failure
};

class JobRunner : public QObject {
    Q_OBJECT
public:
    // A job's work: runs off the UI thread, returns a one-line summary or an error.
    using Work = std::function<core::Result<std::string>(core::jobs::Progress &)>;

    explicit JobRunner(QObject *parent = nullptr);
    ~JobRunner() override;

    // Called on the UI thread when the job ends, before jobFinished is emitted.
    using Done = std::function<void(const JobState &)>;

    int run(const QString &title, Work work, Done done = {});

    // The one way a job touches a workspace (docs/architecture.md, "Database access"): the job
    // gets its own connection to `workspacePath`, opened on the worker thread, never the UI
    // thread's. An empty path runs the work with no workspace (null).
    using WorkspaceWork
        = std::function<core::Result<std::string>(core::jobs::Progress &, core::store::Database *)>;
    int runOnWorkspace(
        const QString &title, const QString &workspacePath, WorkspaceWork work, Done done = {});
    // The workspace the user opened read-only: jobs on it get read-only connections too, so
    // none writes to it behind the banner.
    void setReadOnlyWorkspace(const QString &path) { m_readOnlyWorkspace = path; }
    void cancel(int id);
    void cancelAll();
    // Blocks until every job is done (for shutdown and tests).
    void waitForAll();

    bool busy() const;
    const JobState *job(int id) const;
    std::vector<int> jobIds() const;

Q_SIGNALS:
    void jobStarted(int id);
    void jobProgress(int id);
    void jobFinished(int id);

private:
    struct Job;
    void poll();
    void finish(int id);

    std::map<int, std::unique_ptr<Job>> m_jobs;
    QString m_readOnlyWorkspace;
    QTimer *m_pollTimer;
    int m_nextId = 1;
};

} // namespace fscope::ui
