#include "ui/pluginmanagerdialog.h"

#include "plugins/api/pluginapi.h"
#include "plugins/host/pluginmanager.h"

#include <QDialogButtonBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace fscope::ui {

namespace {
enum Column { Enabled, Name, Version, Status, Source, Columns };
}

PluginManagerDialog::PluginManagerDialog(plugins::PluginManager *manager, QWidget *parent)
    : QDialog(parent)
    , m_manager(manager)
    , m_table(new QTableWidget(0, Columns))
    , m_paths(new QLabel)
{
    setWindowTitle(tr("Plugins"));
    setObjectName(QStringLiteral("pluginManagerDialog"));
    m_table->setHorizontalHeaderLabels(
        { tr("On"), tr("Plugin"), tr("Version"), tr("Status"), tr("File") });
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(Status, QHeaderView::Stretch);
    m_table->setWordWrap(true);
    connect(m_table, &QTableWidget::itemChanged, this, [this](QTableWidgetItem *item) {
        if (m_filling || item->column() != Enabled)
            return;
        m_manager->setEnabled(
            item->data(Qt::UserRole).toString(), item->checkState() == Qt::Checked);
    });
    connect(
        m_manager, &plugins::PluginManager::pluginsChanged, this, &PluginManagerDialog::refresh);

    m_paths->setWordWrap(true);
    m_paths->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    QPushButton *rescan = buttons->addButton(tr("Rescan"), QDialogButtonBox::ActionRole);
    connect(rescan, &QPushButton::clicked, m_manager, &plugins::PluginManager::loadPlugins);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_paths);
    layout->addWidget(buttons);
    resize(820, 380);
    refresh();
}

void PluginManagerDialog::refresh()
{
    m_filling = true;
    const auto specs = m_manager->plugins();
    m_table->setRowCount(static_cast<int>(specs.size()));
    for (int row = 0; row < specs.size(); ++row) {
        const plugins::PluginSpec &s = specs[row];
        auto *on = new QTableWidgetItem;
        on->setData(Qt::UserRole, s.id);
        on->setFlags(s.error.isEmpty() || s.loaded ? Qt::ItemIsEnabled | Qt::ItemIsUserCheckable
                                                   : Qt::NoItemFlags);
        on->setCheckState(s.enabled ? Qt::Checked : Qt::Unchecked);
        m_table->setItem(row, Enabled, on);
        auto *name = new QTableWidgetItem(s.name);
        name->setToolTip(QStringLiteral("%1\n%2\n%3").arg(s.id, s.description, s.vendor));
        m_table->setItem(row, Name, name);
        m_table->setItem(row, Version, new QTableWidgetItem(s.version));
        auto *source
            = new QTableWidgetItem(s.builtIn ? tr("built in") : QFileInfo(s.filePath).fileName());
        source->setToolTip(s.filePath);
        m_table->setItem(row, Source, source);
        QString status;
        if (!s.error.isEmpty())
            status = tr("Not loaded: %1").arg(s.error);
        else if (!s.enabled)
            status = tr("Disabled");
        else
            status = s.loaded ? tr("Loaded (%1)").arg(s.category) : tr("Enabled");
        auto *statusItem = new QTableWidgetItem(status);
        statusItem->setToolTip(status);
        if (!s.error.isEmpty())
            statusItem->setForeground(QColor(200, 60, 60));
        m_table->setItem(row, Status, statusItem);
    }
    m_table->resizeColumnsToContents();
    m_table->horizontalHeader()->setSectionResizeMode(Status, QHeaderView::Stretch);
    m_table->resizeRowsToContents();
    m_paths->setText(tr("Plugin API %1. Shared plugins are loaded from: %2")
                         .arg(plugins::kPluginApiVersion)
                         .arg(m_manager->searchPaths().join(QLatin1String("; "))));
    m_filling = false;
}

} // namespace fscope::ui
