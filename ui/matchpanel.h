#pragma once
// The SAE Match dock: a series of SAEs (one per layer; by default the SAEs the workspace has
// indexed, in layer order), folded or unfolded, matched as a job; per-link plots of the
// folded-decoder MSE and the share of good matches, the chain-length histogram, and for a
// chosen feature its chain across layers as a strip of cards that open each layer's
// dashboard. Results are cached in the workspace.

#include "ui/workbench.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QHBoxLayout;
class QLabel;
class QListWidget;
class QSpinBox;

namespace fscope::core::match {
struct MatchSeries;
}

namespace fscope::ui {

class MatchPanel : public QWidget {
    Q_OBJECT
public:
    explicit MatchPanel(Workbench *workbench, QWidget *parent = nullptr);
    ~MatchPanel() override;

    void setSaePaths(const QStringList &paths);
    QStringList saePaths() const;
    int run(); // the job id, 0 when nothing could start
    const core::match::MatchSeries *result() const { return m_result.get(); }
    // Shows the chain through `feature` of layer position `layer`.
    void showChain(int layer, qint64 feature);

private:
    void useWorkspaceSaes();
    void showResult();
    Workbench *m_workbench;
    QListWidget *m_saes;
    QCheckBox *m_fold;
    QComboBox *m_solver = nullptr;
    QComboBox *m_cost;
    QLabel *m_status;
    QCheckBox *m_evaluate;
    QCustomPlot *m_linkPlot, *m_chainPlot, *m_evPlot;
    QComboBox *m_chainLayer;
    QSpinBox *m_chainFeature;
    QHBoxLayout *m_chainStrip;
    std::shared_ptr<core::match::MatchSeries> m_result;
};

} // namespace fscope::ui
