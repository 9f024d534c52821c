#include "ui/progresssurface.h"

#include "ui/jobrunner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QToolButton>

namespace fscope::ui {

QString describeProgress(const JobState &job)
{
    const auto &p = job.progress;
    QString text = QString::fromStdString(p.message.empty() ? job.title.toStdString() : p.message);
    if (p.total > 0) {
        const double eta = core::jobs::estimateSecondsLeft(p.done, p.total, p.elapsedSeconds);
        text += QStringLiteral("  ETA %1")
                    .arg(QString::fromStdString(core::jobs::formatDuration(eta)));
    }
    if (p.cancelled)
        text += QStringLiteral("  (cancelling)");
    return text;
}

ProgressSurface::ProgressSurface(JobRunner *runner, QWidget *parent)
    : QWidget(parent)
    , m_runner(runner)
    , m_label(new QLabel(this))
    , m_bar(new QProgressBar(this))
    , m_cancel(new QToolButton(this))
{
    setObjectName(QStringLiteral("progressSurface"));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_bar->setMaximumWidth(180);
    m_bar->setTextVisible(true);
    m_cancel->setText(tr("Cancel"));
    m_cancel->setToolTip(tr("Cancel the running job"));
    m_cancel->setAutoRaise(true);
    layout->addWidget(m_label);
    layout->addWidget(m_bar);
    layout->addWidget(m_cancel);
    hide();

    connect(m_cancel, &QToolButton::clicked, this, [this] { m_runner->cancel(m_shownJob); });
    connect(runner, &JobRunner::jobStarted, this, &ProgressSurface::showJob);
    connect(runner, &JobRunner::jobProgress, this, [this](int id) {
        if (id == m_shownJob)
            refresh();
    });
    connect(runner, &JobRunner::jobFinished, this, &ProgressSurface::onFinished);
}

void ProgressSurface::showJob(int id)
{
    m_shownJob = id;
    refresh();
    show();
}

void ProgressSurface::refresh()
{
    const JobState *job = m_runner->job(m_shownJob);
    if (!job)
        return;
    const auto &p = job->progress;
    if (p.total > 0) {
        // QProgressBar holds ints: show per-mille so token counts beyond 2^31 still fit.
        m_bar->setRange(0, 1000);
        m_bar->setValue(static_cast<int>(1000.0 * std::min(p.done, p.total) / p.total));
        m_bar->setFormat(QStringLiteral("%p%"));
    } else {
        m_bar->setRange(0, 0); // busy indicator
    }
    m_label->setText(describeProgress(*job));
    m_cancel->setEnabled(job->running && !p.cancelled);
}

void ProgressSurface::onFinished(int id)
{
    if (id != m_shownJob)
        return;
    // Switch to another running job if there is one, else hide.
    for (int other : m_runner->jobIds()) {
        if (const JobState *j = m_runner->job(other); j && j->running) {
            showJob(other);
            return;
        }
    }
    m_shownJob = 0;
    hide();
}

} // namespace fscope::ui
