#pragma once
// The status-bar progress surface: the running job's message, a bar, the ETA and a cancel
// button; hidden when nothing runs. The one place progress is shown outside the jobs dock.

#include <QWidget>

class QLabel;
class QProgressBar;
class QToolButton;

namespace fscope::ui {

class JobRunner;
struct JobState;

class ProgressSurface : public QWidget {
    Q_OBJECT
public:
    explicit ProgressSurface(JobRunner *runner, QWidget *parent = nullptr);

    int shownJob() const { return m_shownJob; }

private:
    void showJob(int id);
    void refresh();
    void onFinished(int id);

    JobRunner *m_runner;
    QLabel *m_label;
    QProgressBar *m_bar;
    QToolButton *m_cancel;
    int m_shownJob = 0;
};

// "message  42%  ETA 0:12" for a job, as both progress views show it.
QString describeProgress(const JobState &job);

} // namespace fscope::ui
