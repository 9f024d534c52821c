#pragma once
// The jobs dock: every job of this session with its state, progress and outcome; cancel the
// selected one.

#include <QWidget>

class QTreeWidget;
class QTreeWidgetItem;
class QPushButton;

namespace fscope::ui {

class JobRunner;

class JobsPanel : public QWidget {
    Q_OBJECT
public:
    explicit JobsPanel(JobRunner *runner, QWidget *parent = nullptr);

    QTreeWidget *list() const { return m_list; }

private:
    QTreeWidgetItem *itemFor(int id);
    void update(int id);

    JobRunner *m_runner;
    QTreeWidget *m_list;
    QPushButton *m_cancel;
};

} // namespace fscope::ui
