#pragma once
// The state the workbench's panels share: the open workspace's feature indexes, the feature
// on screen with its back/forward history, and the models and SAEs loaded for prompt work.
// Panels talk to each other only through this object's signals.

#include <QObject>
#include <QString>

#include <memory>
#include <vector>

class QComboBox;

class QAction;

namespace fscope::core::model {
class ModelCache;
}
namespace fscope::core::store {
class Database;
}
namespace fscope::plugins {
class PluginManager;
}

namespace fscope::ui {

class JobRunner;
class WorkspaceActions;

struct FeatureRef {
    qint64 indexId = 0;
    qint64 feature = -1;
    bool valid() const { return indexId > 0 && feature >= 0; }
    bool operator==(const FeatureRef &o) const
    {
        return indexId == o.indexId && feature == o.feature;
    }
};

class Workbench : public QObject {
    Q_OBJECT
public:
    Workbench(JobRunner *runner, WorkspaceActions *workspace, QObject *parent = nullptr);
    ~Workbench() override;

    JobRunner *runner() const { return m_runner; }
    WorkspaceActions *workspace() const { return m_workspace; }
    core::store::Database *database() const;
    QString workspacePath() const;
    core::model::ModelCache &models() const { return *m_models; }
    // The device every job runs on: "auto" (the first GPU, else the CPU), "cpu" or "cuda:N".
    // One choice for the whole workbench (the status bar), remembered across sessions.
    QString device() const;
    void setDevice(const QString &device);
    // The model dtype of every job: "auto" (bf16 on a GPU, f32 on a CPU), "f32", "bf16", "f16".
    QString dtype() const;
    void setDtype(const QString &dtype);
    // The plugin registry (report exporters, ...); loaded by the main window.
    plugins::PluginManager *plugins() const { return m_plugins; }
    // Fills `combo` with the workspace's finished indexes (SAE label, index id as data),
    // keeping the selected index when it is still there: the SAE choice of every panel.
    void fillIndexChoice(QComboBox *combo) const;

    FeatureRef current() const { return m_current; }
    QAction *backAction() const { return m_back; }
    QAction *forwardAction() const { return m_forward; }

public Q_SLOTS:
    // Shows a feature (the dashboard follows); records it in the history.
    void showFeature(qint64 indexId, qint64 feature);
    void back();
    void forward();
    // The workspace's indexes changed (an index job finished, a workspace opened).
    void refresh();

Q_SIGNALS:
    void currentFeatureChanged(fscope::ui::FeatureRef feature);
    void indexesChanged();
    // A label or note was edited (the browser updates its label column).
    void labelChanged(qint64 saeId, qint64 feature, const QString &label);
    // A feature list was created or its items changed.
    void listsChanged();
    // Explanations or scores were stored (an Explain job finished, one was used as a label).
    void explanationsChanged();
    void deviceChanged(const QString &device);
    void dtypeChanged(const QString &dtype);
    // "Steer with this feature" / "Ablate" (mode "add" or "ablate") from a view.
    void steerRequested(qint64 indexId, qint64 feature, const QString &mode);

private:
    void go(FeatureRef target);
    void updateActions();

    JobRunner *m_runner;
    WorkspaceActions *m_workspace;
    std::unique_ptr<core::model::ModelCache> m_models;
    plugins::PluginManager *m_plugins;
    FeatureRef m_current;
    std::vector<FeatureRef> m_backStack, m_forwardStack;
    QAction *m_back;
    QAction *m_forward;
};

} // namespace fscope::ui
