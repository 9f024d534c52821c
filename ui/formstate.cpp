#include "ui/formstate.h"

#include <QAbstractButton>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QJsonArray>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QRadioButton>
#include <QSpinBox>

namespace fscope::ui {

namespace {

// Only the user's inputs: widgets inside spin boxes and combo boxes (their line edits) are
// parts of those and carry no name of their own.
template <class W> QList<W *> named(const QWidget *root)
{
    QList<W *> out;
    for (W *w : root->findChildren<W *>())
        if (!w->objectName().isEmpty() && !w->objectName().startsWith(QLatin1String("qt_")))
            out.append(w);
    return out;
}

} // namespace

QJsonObject saveFormState(const QWidget *root)
{
    QJsonObject state;
    for (auto *c : named<QComboBox>(root)) {
        QJsonObject o { { QStringLiteral("text"), c->currentText() } };
        if (c->currentData().isValid())
            o.insert(QStringLiteral("data"), QJsonValue::fromVariant(c->currentData()));
        if (c->isEditable())
            o.insert(QStringLiteral("edit"), c->currentText());
        state.insert(c->objectName(), o);
    }
    for (auto *s : named<QSpinBox>(root))
        state.insert(s->objectName(), s->value());
    for (auto *s : named<QDoubleSpinBox>(root))
        state.insert(s->objectName(), s->value());
    for (auto *b : named<QAbstractButton>(root))
        if (b->isCheckable())
            state.insert(b->objectName(), b->isChecked());
    for (auto *e : named<QLineEdit>(root))
        state.insert(e->objectName(), e->text());
    for (auto *e : named<QPlainTextEdit>(root))
        if (!e->isReadOnly())
            state.insert(e->objectName(), e->toPlainText());
    for (auto *l : named<QListWidget>(root)) {
        QJsonArray checked;
        for (int i = 0; i < l->count(); ++i)
            if ((l->item(i)->flags() & Qt::ItemIsUserCheckable)
                && l->item(i)->checkState() == Qt::Checked)
                checked.append(l->item(i)->text());
        state.insert(l->objectName(), QJsonObject { { QStringLiteral("checked"), checked } });
    }
    return state;
}

void restoreFormState(QWidget *root, const QJsonObject &state)
{
    for (auto *c : named<QComboBox>(root)) {
        const QJsonObject o = state.value(c->objectName()).toObject();
        if (o.isEmpty())
            continue;
        int row = o.contains(QStringLiteral("data"))
            ? c->findData(o.value(QStringLiteral("data")).toVariant())
            : -1;
        if (row < 0)
            row = c->findText(o.value(QStringLiteral("text")).toString());
        if (row >= 0)
            c->setCurrentIndex(row);
        else if (c->isEditable() && o.contains(QStringLiteral("edit")))
            c->setEditText(o.value(QStringLiteral("edit")).toString());
    }
    for (auto *s : named<QSpinBox>(root))
        if (state.contains(s->objectName()))
            s->setValue(state.value(s->objectName()).toInt());
    for (auto *s : named<QDoubleSpinBox>(root))
        if (state.contains(s->objectName()))
            s->setValue(state.value(s->objectName()).toDouble());
    for (auto *b : named<QAbstractButton>(root))
        if (b->isCheckable() && state.contains(b->objectName()))
            b->setChecked(state.value(b->objectName()).toBool());
    for (auto *e : named<QLineEdit>(root))
        if (state.contains(e->objectName()))
            e->setText(state.value(e->objectName()).toString());
    for (auto *e : named<QPlainTextEdit>(root))
        if (!e->isReadOnly() && state.contains(e->objectName()))
            e->setPlainText(state.value(e->objectName()).toString());
    for (auto *l : named<QListWidget>(root)) {
        if (!state.contains(l->objectName()))
            continue;
        const QJsonArray checked
            = state.value(l->objectName()).toObject().value(QStringLiteral("checked")).toArray();
        for (int i = 0; i < l->count(); ++i)
            if (l->item(i)->flags() & Qt::ItemIsUserCheckable)
                l->item(i)->setCheckState(
                    checked.contains(l->item(i)->text()) ? Qt::Checked : Qt::Unchecked);
    }
}

} // namespace fscope::ui
