#pragma once
// What a panel shows before it has content: what it is for and how to fill it, centred,
// so a new user always sees the next step instead of a blank area.

#include <QWidget>

namespace fscope::ui {

class EmptyStatePanel : public QWidget {
    Q_OBJECT
public:
    EmptyStatePanel(const QString &title, const QString &explanation, const QString &nextStep,
        QWidget *parent = nullptr);
};

} // namespace fscope::ui
