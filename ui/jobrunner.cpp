#include "ui/jobrunner.h"

#include "core/store/database.h"
#include "core/util/out_of_memory.h"

#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

#include <exception>

namespace fscope::ui {

struct JobRunner::Job {
    JobState state;
    core::jobs::Progress progress;
    QFutureWatcher<core::Result<std::string>> watcher;
    JobRunner::Done done;
};

JobRunner::JobRunner(QObject *parent)
    : QObject(parent)
    , m_pollTimer(new QTimer(this))
{
    // Progress is polled, not pushed: the worker never touches Qt, and ten redraws a second
    // are enough for any progress bar.
    m_pollTimer->setInterval(100);
    connect(m_pollTimer, &QTimer::timeout, this, &JobRunner::poll);
}

JobRunner::~JobRunner()
{
    cancelAll();
    waitForAll();
}

int JobRunner::run(const QString &title, Work work, Done done)
{
    const int id = m_nextId++;
    auto job = std::make_unique<Job>();
    job->state.id = id;
    job->state.title = title;
    job->done = std::move(done);
    Job *raw = job.get();
    m_jobs[id] = std::move(job);
    connect(&raw->watcher, &QFutureWatcherBase::finished, this, [this, id] { finish(id); });
    raw->watcher.setFuture(QtConcurrent::run(
        [raw, work = std::move(work), what = title.toStdString()]() -> core::Result<std::string> {
            try {
                return work(raw->progress);
            } catch (const c10::OutOfMemoryError &) {
                // A job without its own out-of-memory answer still gets one, naming the job and
                // its device; the cached blocks are released so the workbench stays usable.
                const std::string label = raw->progress.snapshot().device;
                c10::Device device(c10::kCPU);
                try {
                    device = c10::Device(label.substr(0, label.find(' ')));
                } catch (const std::exception &) {
                }
                return core::Error { core::util::outOfMemoryMessage(what, device,
                    "Try a smaller batch or prompt, bf16 (the status bar's precision), fewer SAEs, "
                    "or File > Unload Models to free what the panels keep.") };
            } catch (const std::exception &e) {
                // Core turns its own errors into values; this catches what slips through so a
                // bug becomes a failed job, never a crashed workbench.
                return core::Error { std::string("unexpected error: ") + e.what() };
            }
        }));
    m_pollTimer->start();
    Q_EMIT jobStarted(id);
    return id;
}

int JobRunner::runOnWorkspace(
    const QString &title, const QString &workspacePath, WorkspaceWork work, Done done)
{
    return run(
        title,
        [path = workspacePath.toStdString(), work = std::move(work),
            mode = !workspacePath.isEmpty() && workspacePath == m_readOnlyWorkspace
                ? core::store::Database::Mode::ReadOnly
                : core::store::Database::Mode::ReadWrite](
            core::jobs::Progress &progress) -> core::Result<std::string> {
            if (path.empty())
                return work(progress, nullptr);
            auto db = core::store::Database::open(path, mode);
            if (!db)
                return db.error();
            return work(progress, db->get());
        },
        std::move(done));
}

void JobRunner::poll()
{
    bool anyRunning = false;
    for (auto &[id, job] : m_jobs) {
        if (!job->state.running)
            continue;
        anyRunning = true;
        job->state.progress = job->progress.snapshot();
        Q_EMIT jobProgress(id);
    }
    if (!anyRunning)
        m_pollTimer->stop();
}

void JobRunner::finish(int id)
{
    Job *job = m_jobs.at(id).get();
    const auto result = job->watcher.result();
    job->state.progress = job->progress.snapshot();
    job->state.running = false;
    job->state.succeeded = result.ok();
    job->state.outcome
        = QString::fromStdString(result.ok() ? result.value() : result.errorMessage());
    if (job->done)
        job->done(job->state);
    Q_EMIT jobFinished(id);
}

void JobRunner::cancel(int id)
{
    if (auto it = m_jobs.find(id); it != m_jobs.end())
        it->second->progress.cancel();
}

void JobRunner::cancelAll()
{
    for (auto &[id, job] : m_jobs)
        job->progress.cancel();
}

void JobRunner::waitForAll()
{
    for (auto &[id, job] : m_jobs)
        job->watcher.waitForFinished();
}

bool JobRunner::busy() const
{
    for (const auto &[id, job] : m_jobs)
        if (job->state.running)
            return true;
    return false;
}

const JobState *JobRunner::job(int id) const
{
    const auto it = m_jobs.find(id);
    return it == m_jobs.end() ? nullptr : &it->second->state;
}

std::vector<int> JobRunner::jobIds() const
{
    std::vector<int> ids;
    for (const auto &[id, job] : m_jobs)
        ids.push_back(id);
    return ids;
}

} // namespace fscope::ui
