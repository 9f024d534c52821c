#include "ui/emptystatepanel.h"

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
    auto *hint = new QLabel(QStringLiteral("<i>%1</i>").arg(nextStep.toHtmlEscaped()), this);
    for (QLabel *label : { heading, body, hint }) {
        label->setAlignment(Qt::AlignCenter);
        label->setWordWrap(true);
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
        layout->addWidget(label);
    }
    body->setForegroundRole(QPalette::PlaceholderText);
    hint->setForegroundRole(QPalette::PlaceholderText);
    layout->addStretch();
}

} // namespace fscope::ui
