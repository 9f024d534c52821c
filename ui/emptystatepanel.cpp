#include "ui/emptystatepanel.h"

#include "ui/jobrunner.h"

#include <QLabel>
#include <QVBoxLayout>

namespace fscope::ui {

EmptyStatePanel::EmptyStatePanel(
    const QString &title, const QString &explanation, const QString &nextStep, QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->addStretch();
    auto *heading = new QLabel(QStringLiteral("<h3>%1</h3>").arg(title.toHtmlEscaped()), this);
    auto *body = new QLabel(explanation, this);
    auto *hint = m_hint
        = new QLabel(QStringLiteral("<i>%1</i>").arg(nextStep.toHtmlEscaped()), this);
    for (QLabel *label : { heading, body, hint }) {
        label->setAlignment(Qt::AlignCenter);
        label->setWordWrap(true);
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
        layout->addWidget(label);
    }
    body->setForegroundRole(QPalette::PlaceholderText);
    hint->setForegroundRole(QPalette::PlaceholderText);
    m_activity = new QLabel(this);
    m_activity->setObjectName(QStringLiteral("emptyStateActivity"));
    m_activity->setAlignment(Qt::AlignCenter);
    m_activity->setWordWrap(true);
    m_activity->hide();
    layout->addWidget(m_activity);
    layout->addStretch();
}

void EmptyStatePanel::setActivity(const QString &text)
{
    m_activity->setText(
        text.isEmpty() ? QString() : QStringLiteral("<b>%1</b>").arg(text.toHtmlEscaped()));
    m_activity->setVisible(!text.isEmpty());
    m_hint->setVisible(text.isEmpty()); // the next step is being taken
}

void EmptyStatePanel::followJobs(const JobRunner *runner, const QString &outcome)
{
    auto show = [this, runner, outcome] {
        QString text;
        for (int id : runner->jobIds())
            if (const JobState *job = runner->job(id); job && job->running) {
                const auto &p = job->progress;
                text = job->title;
                if (!p.message.empty())
                    text += QStringLiteral(": ") + QString::fromStdString(p.message);
                if (p.total > 0 && p.done > 0) {
                    const double left
                        = core::jobs::estimateSecondsLeft(p.done, p.total, p.elapsedSeconds);
                    text += tr(" (%1%, about %2 left)")
                                .arg(int(100.0 * double(p.done) / double(p.total)))
                                .arg(QString::fromStdString(core::jobs::formatDuration(left)));
                }
                text += QStringLiteral(". ") + outcome;
                break;
            }
        setActivity(text);
    };
    connect(runner, &JobRunner::jobStarted, this, show);
    connect(runner, &JobRunner::jobProgress, this, show);
    connect(runner, &JobRunner::jobFinished, this, show);
}

QString EmptyStatePanel::activity() const
{
    return m_activity->isVisible() ? m_activity->text() : QString();
}

} // namespace fscope::ui
