#pragma once
// A panel's form as JSON: the value of every named input widget under a root (combo boxes,
// spin boxes, check boxes, radio buttons, line and text edits, checkable list items), keyed by
// object name. The workspace session stores these so a panel comes back as it was left.

#include <QJsonObject>

class QWidget;

namespace fscope::ui {

QJsonObject saveFormState(const QWidget *root);
// Restores what `state` holds for widgets that still exist; combo boxes first (other fields
// may depend on them), a combo's choice by its item data, else by its text.
void restoreFormState(QWidget *root, const QJsonObject &state);

} // namespace fscope::ui
