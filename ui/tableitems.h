#pragma once
// A read-only table cell, numbers right-aligned: the one cell shape the panels' tables use.

#include <QTableWidgetItem>

namespace fscope::ui {

inline QTableWidgetItem *tableItem(const QString &text, bool number = false)
{
    auto *i = new QTableWidgetItem(text);
    if (number)
        i->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return i;
}

} // namespace fscope::ui
