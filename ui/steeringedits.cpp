#include "ui/steeringedits.h"

#include "ui/tableitems.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace fscope::ui {

SteeringEdits::SteeringEdits(QWidget *parent)
    : QWidget(parent)
    , m_table(new QTableWidget(0, 3, this))
{
    m_table->setObjectName(QStringLiteral("steerExtraEdits"));
    m_table->setHorizontalHeaderLabels({ tr("Feature / vector"), tr("Edit"), tr("Value") });
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setMaximumHeight(90);
    m_table->setToolTip(
        tr("Applied together with the edit above (which Sweep varies), at the same positions"));
    auto *buttons = new QHBoxLayout;
    auto *addCurrent = new QPushButton(tr("Add current"), this);
    addCurrent->setToolTip(tr("Keep the feature, edit and strength above as a fixed edit"));
    auto *addVector = new QPushButton(tr("Add vector..."), this);
    auto *remove = new QPushButton(tr("Remove"), this);
    for (QPushButton *b : { addCurrent, addVector, remove }) {
        b->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
        buttons->addWidget(b, 1);
    }
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_table);
    layout->addLayout(buttons);
    connect(addCurrent, &QPushButton::clicked, this, &SteeringEdits::addCurrentRequested);
    connect(addVector, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Steering vector"), {}, tr("Vectors (*.npy *.safetensors)"));
        if (!f.isEmpty())
            Q_EMIT vectorChosen(f);
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (m_table->currentRow() >= 0)
            m_table->removeRow(m_table->currentRow());
    });
}

void SteeringEdits::addFeature(qint64 feature, const QString &mode, double value)
{
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    auto *source = tableItem(QString::number(feature));
    source->setData(Qt::UserRole, QVariant::fromValue<qint64>(feature));
    m_table->setItem(row, 0, source);
    m_table->setItem(row, 1, tableItem(mode));
    m_table->setItem(row, 2, tableItem(QString::number(value), true));
}

void SteeringEdits::addVector(const QString &path, double value)
{
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    auto *source = tableItem(QFileInfo(path).fileName());
    source->setToolTip(path);
    source->setData(Qt::UserRole + 1, path);
    m_table->setItem(row, 0, source);
    m_table->setItem(row, 1, tableItem(QStringLiteral("add")));
    m_table->setItem(row, 2, tableItem(QString::number(value), true));
}

int SteeringEdits::count() const
{
    return m_table->rowCount();
}

QVector<SteeringEdits::Edit> SteeringEdits::edits() const
{
    QVector<Edit> out;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        const QTableWidgetItem *source = m_table->item(row, 0);
        Edit e;
        e.vectorPath = source->data(Qt::UserRole + 1).toString();
        e.feature = source->data(Qt::UserRole).toLongLong();
        e.mode = m_table->item(row, 1)->text();
        e.value = m_table->item(row, 2)->text().toDouble();
        out.append(e);
    }
    return out;
}

QJsonArray SteeringEdits::toJson() const
{
    QJsonArray out;
    for (const Edit &e : edits()) {
        if (!e.vectorPath.isEmpty())
            out.append(QJsonObject {
                { QStringLiteral("vector"), e.vectorPath }, { QStringLiteral("value"), e.value } });
        else
            out.append(QJsonObject { { QStringLiteral("feature"), e.feature },
                { QStringLiteral("mode"), e.mode }, { QStringLiteral("value"), e.value } });
    }
    return out;
}

void SteeringEdits::setJson(const QJsonArray &edits)
{
    m_table->setRowCount(0);
    for (const QJsonValue &v : edits) {
        const QJsonObject o = v.toObject();
        if (o.contains(QStringLiteral("vector")))
            addVector(o.value(QStringLiteral("vector")).toString(),
                o.value(QStringLiteral("value")).toDouble());
        else if (o.contains(QStringLiteral("feature")))
            addFeature(o.value(QStringLiteral("feature")).toInteger(),
                o.value(QStringLiteral("mode")).toString(),
                o.value(QStringLiteral("value")).toDouble());
    }
}

} // namespace fscope::ui
