#include "ui/jobspanel.h"

#include "ui/jobrunner.h"
#include "ui/progresssurface.h"

#include <QHeaderView>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace fscope::ui {

namespace {
enum Column { Title, State, Device, Progress, Elapsed, Detail };
}

JobsPanel::JobsPanel(JobRunner *runner, QWidget *parent)
    : QWidget(parent)
    , m_runner(runner)
    , m_list(new QTreeWidget(this))
    , m_cancel(new QPushButton(tr("Cancel job"), this))
{
    m_list->setHeaderLabels(
        { tr("Job"), tr("State"), tr("Device"), tr("Progress"), tr("Elapsed"), tr("Detail") });
    m_list->setRootIsDecorated(false);
    m_list->setAlternatingRowColors(true);
    m_list->header()->setSectionResizeMode(Detail, QHeaderView::Stretch);
    m_list->setColumnWidth(Title, 220);
    m_cancel->setEnabled(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_list);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch();
    buttons->addWidget(m_cancel);
    layout->addLayout(buttons);

    connect(runner, &JobRunner::jobStarted, this, &JobsPanel::update);
    connect(runner, &JobRunner::jobProgress, this, &JobsPanel::update);
    connect(runner, &JobRunner::jobFinished, this, &JobsPanel::update);
    connect(m_list, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *item) {
        const JobState *job
            = item ? m_runner->job(item->data(Title, Qt::UserRole).toInt()) : nullptr;
        m_cancel->setEnabled(job && job->running);
    });
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (auto *item = m_list->currentItem())
            m_runner->cancel(item->data(Title, Qt::UserRole).toInt());
    });
}

QTreeWidgetItem *JobsPanel::itemFor(int id)
{
    for (int i = 0; i < m_list->topLevelItemCount(); ++i)
        if (m_list->topLevelItem(i)->data(Title, Qt::UserRole).toInt() == id)
            return m_list->topLevelItem(i);
    auto *item = new QTreeWidgetItem;
    item->setData(Title, Qt::UserRole, id);
    m_list->insertTopLevelItem(0, item); // newest first
    return item;
}

void JobsPanel::update(int id)
{
    const JobState *job = m_runner->job(id);
    if (!job)
        return;
    QTreeWidgetItem *item = itemFor(id);
    const auto &p = job->progress;
    item->setText(Title, job->title);
    if (job->running)
        item->setText(State, p.cancelled ? tr("Cancelling") : tr("Running"));
    else
        item->setText(State, job->succeeded ? tr("Done") : tr("Failed"));
    item->setForeground(State, !job->running && !job->succeeded ? QBrush(Qt::darkRed) : QBrush());
    item->setText(Device, QString::fromStdString(p.device)); // "cuda:0 bf16" once loaded
    item->setText(Progress,
        p.total > 0 ? QStringLiteral("%1 / %2").arg(p.done).arg(p.total) : QString::number(p.done));
    item->setText(Elapsed, QString::fromStdString(core::jobs::formatDuration(p.elapsedSeconds)));
    item->setText(Detail, job->running ? describeProgress(*job) : job->outcome);
    item->setToolTip(Detail, item->text(Detail));
    if (item == m_list->currentItem())
        m_cancel->setEnabled(job->running);
}

} // namespace fscope::ui
