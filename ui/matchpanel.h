#pragma once
// The SAE Match dock's form: a series of SAEs (one per layer; by default the SAEs the workspace
// has indexed, in layer order), folded or unfolded, matched as a job through core's
// runMatchSeriesCached (the CLI's `match` calls the same); MatchResults shows the plots and
// chains. Results are cached in the workspace.

#include "ui/workbench.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QListWidget;
class QSpinBox;

namespace fscope::core::match {
struct MatchSeries;
}

namespace fscope::ui {

class MatchResults;

class MatchPanel : public QWidget {
    Q_OBJECT
public:
    explicit MatchPanel(Workbench *workbench, QWidget *parent = nullptr);
    ~MatchPanel() override;

    void setSaePaths(const QStringList &paths);
    QStringList saePaths() const;
    int run(); // the job id, 0 when nothing could start
    const core::match::MatchSeries *result() const;
    // Shows the chain through `feature` of layer position `layer`.
    void showChain(int layer, qint64 feature);

private:
    void useWorkspaceSaes();
    Workbench *m_workbench;
    QListWidget *m_saes;
    QCheckBox *m_fold;
    QComboBox *m_solver = nullptr;
    QComboBox *m_cost;
    QLabel *m_status;
    QCheckBox *m_evaluate;
    MatchResults *m_results;
};

} // namespace fscope::ui
