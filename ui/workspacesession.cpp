#include "ui/workspacesession.h"

#include "core/store/database.h"
#include "core/store/index_store.h"
#include "ui/decompositionpanel.h"
#include "ui/featurebrowser.h"
#include "ui/formstate.h"
#include "ui/mainwindow.h"
#include "ui/matchpanel.h"
#include "ui/promptinspector.h"
#include "ui/steeringpanel.h"
#include "ui/workbench.h"
#include "ui/workspaceactions.h"

#include <QComboBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStatusBar>

namespace fscope::ui {

namespace {
const char *kSessionKey = "ui.session";
constexpr int kSessionVersion = 1;
} // namespace

std::vector<std::pair<const char *, QWidget *>> WorkspaceSession::sessionPanels() const
{
    MainWindow *w = m_window;
    return { { "features", w->featureBrowser() }, { "prompt", w->promptInspector() },
        { "steering", w->steeringPanel() }, { "decomposition", w->decompositionPanel() },
        { "saeMatch", w->matchPanel() } };
}

void WorkspaceSession::save()
{
    auto *db = m_window->workspaceActions()->database();
    if (!db || db->readOnly()) // the banner says the session is not kept
        return;
    QJsonObject panels;
    for (auto [role, panel] : sessionPanels())
        panels.insert(QLatin1String(role), saveFormState(panel));
    QJsonObject session { { QStringLiteral("version"), kSessionVersion },
        { QStringLiteral("window"), QString::fromLatin1(m_window->saveState().toBase64()) },
        { QStringLiteral("panels"), panels },
        { QStringLiteral("steeringExtraEdits"), m_window->steeringPanel()->extraEdits() } };
    const FeatureRef current = m_window->workbench()->current();
    if (current.valid())
        session.insert(QStringLiteral("current"),
            QJsonObject { { QStringLiteral("index"), current.indexId },
                { QStringLiteral("feature"), current.feature } });
    if (auto s = db->setMeta(
            kSessionKey, QJsonDocument(session).toJson(QJsonDocument::Compact).toStdString());
        !s)
        m_window->statusBar()->showMessage(QObject::tr("The session was not saved: %1")
                                               .arg(QString::fromStdString(s.errorMessage())),
            10000);
}

bool WorkspaceSession::restore()
{
    auto *db = m_window->workspaceActions()->database();
    if (!db)
        return false;
    auto stored = db->meta(kSessionKey);
    if (!stored || stored->empty())
        return false;
    QJsonParseError error;
    const QJsonObject session
        = QJsonDocument::fromJson(QByteArray::fromStdString(*stored), &error).object();
    if (error.error != QJsonParseError::NoError
        || session.value(QStringLiteral("version")).toInt() != kSessionVersion) {
        // A damaged or newer session is ignored (and replaced on the next save); nothing else is
        // touched.
        m_window->statusBar()->showMessage(
            QObject::tr("The workspace's saved session could not be read; starting fresh"), 10000);
        return false;
    }
    m_window->restoreState(
        QByteArray::fromBase64(session.value(QStringLiteral("window")).toString().toLatin1()));
    const QJsonObject panels = session.value(QStringLiteral("panels")).toObject();
    for (auto [role, panel] : sessionPanels())
        restoreFormState(panel, panels.value(QLatin1String(role)).toObject());
    m_window->steeringPanel()->setExtraEdits(
        session.value(QStringLiteral("steeringExtraEdits")).toArray());
    // Restored choices do not emit the user's signals: the browser loads its index and filters.
    if (auto *combo
        = m_window->featureBrowser()->findChild<QComboBox *>(QStringLiteral("indexCombo")))
        if (combo->currentData().toLongLong() > 0
            && combo->currentData().toLongLong() != m_window->featureBrowser()->indexId())
            m_window->featureBrowser()->selectIndex(combo->currentData().toLongLong());
    m_window->featureBrowser()->applyFilter();
    const QJsonObject current = session.value(QStringLiteral("current")).toObject();
    const qint64 indexId = current.value(QStringLiteral("index")).toInteger();
    if (indexId > 0) {
        if (auto info = core::store::indexInfo(*db, indexId); info && info->status == "done")
            m_window->workbench()->showFeature(
                indexId, current.value(QStringLiteral("feature")).toInteger());
    }
    return true;
}

} // namespace fscope::ui
