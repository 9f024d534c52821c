#pragma once
// What a panel shows before it has content: what it is for and how to fill it, centred,
// so a new user always sees the next step instead of a blank area.

#include <QWidget>

class QLabel;

namespace fscope::ui {

class JobRunner;

class EmptyStatePanel : public QWidget {
    Q_OBJECT
public:
    EmptyStatePanel(const QString &title, const QString &explanation, const QString &nextStep,
        QWidget *parent = nullptr);

    // What is being computed right now that will fill the panel (empty: nothing).
    void setActivity(const QString &text);
    QString activity() const;
    // Shows the running job of `runner` (title, message, share done, time left) as the
    // activity, followed by `outcome` (what the job will bring here).
    void followJobs(const JobRunner *runner, const QString &outcome);

private:
    QLabel *m_hint, *m_activity;
};

} // namespace fscope::ui
