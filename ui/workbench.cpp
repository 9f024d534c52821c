#include "ui/workbench.h"

#include "core/model/model_cache.h"
#include "core/store/index_store.h"
#include "plugins/host/pluginmanager.h"
#include "ui/workspaceactions.h"

#include <QAction>
#include <QComboBox>
#include <QKeySequence>
#include <QSettings>

namespace fscope::ui {

Workbench::Workbench(JobRunner *runner, WorkspaceActions *workspace, QObject *parent)
    : QObject(parent)
    , m_runner(runner)
    , m_workspace(workspace)
    , m_models(std::make_unique<core::model::ModelCache>())
    , m_plugins(new plugins::PluginManager(this))
    , m_back(new QAction(tr("&Back"), this))
    , m_forward(new QAction(tr("&Forward"), this))
{
    m_back->setObjectName(QStringLiteral("actionBack"));
    m_forward->setObjectName(QStringLiteral("actionForward"));
    m_back->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Left));
    m_forward->setShortcut(QKeySequence(Qt::ALT | Qt::Key_Right));
    m_back->setToolTip(tr("Previous feature (Alt+Left)"));
    m_forward->setToolTip(tr("Next feature (Alt+Right)"));
    m_back->setIcon(QIcon::fromTheme(QStringLiteral("go-previous")));
    m_forward->setIcon(QIcon::fromTheme(QStringLiteral("go-next")));
    connect(m_back, &QAction::triggered, this, &Workbench::back);
    connect(m_forward, &QAction::triggered, this, &Workbench::forward);
    connect(m_workspace, &WorkspaceActions::workspaceChanged, this, [this] {
        m_backStack.clear();
        m_forwardStack.clear();
        m_current = {};
        updateActions();
        refresh();
        Q_EMIT currentFeatureChanged(m_current);
    });
    updateActions();
}

Workbench::~Workbench() = default;

void Workbench::fillIndexChoice(QComboBox *combo) const
{
    const qint64 keep = combo->currentData().toLongLong();
    combo->clear();
    if (auto *db = database())
        if (auto list = core::store::listIndexes(*db))
            for (const auto &info : *list)
                if (info.status == "done")
                    combo->addItem(QString::fromStdString(info.saeLabel),
                        QVariant::fromValue<qint64>(info.id));
    const int row = combo->findData(QVariant::fromValue<qint64>(keep));
    if (row >= 0)
        combo->setCurrentIndex(row);
}

core::store::Database *Workbench::database() const
{
    return m_workspace->database();
}

QString Workbench::device() const
{
    return QSettings().value(QStringLiteral("compute/device"), QStringLiteral("auto")).toString();
}

void Workbench::setDevice(const QString &device)
{
    if (device == this->device())
        return;
    QSettings().setValue(QStringLiteral("compute/device"), device);
    Q_EMIT deviceChanged(device);
}

QString Workbench::dtype() const
{
    return QSettings().value(QStringLiteral("compute/dtype"), QStringLiteral("auto")).toString();
}

void Workbench::setDtype(const QString &dtype)
{
    if (dtype == this->dtype())
        return;
    QSettings().setValue(QStringLiteral("compute/dtype"), dtype);
    Q_EMIT dtypeChanged(dtype);
}

QString Workbench::workspacePath() const
{
    return m_workspace->workspacePath();
}

void Workbench::showFeature(qint64 indexId, qint64 feature)
{
    const FeatureRef target { indexId, feature };
    if (target == m_current || !target.valid())
        return;
    if (m_current.valid())
        m_backStack.push_back(m_current);
    m_forwardStack.clear();
    go(target);
}

void Workbench::back()
{
    if (m_backStack.empty())
        return;
    m_forwardStack.push_back(m_current);
    const FeatureRef target = m_backStack.back();
    m_backStack.pop_back();
    go(target);
}

void Workbench::forward()
{
    if (m_forwardStack.empty())
        return;
    m_backStack.push_back(m_current);
    const FeatureRef target = m_forwardStack.back();
    m_forwardStack.pop_back();
    go(target);
}

void Workbench::go(FeatureRef target)
{
    m_current = target;
    updateActions();
    Q_EMIT currentFeatureChanged(m_current);
}

void Workbench::updateActions()
{
    m_back->setEnabled(!m_backStack.empty());
    m_forward->setEnabled(!m_forwardStack.empty());
}

void Workbench::refresh()
{
    Q_EMIT indexesChanged();
}

} // namespace fscope::ui
