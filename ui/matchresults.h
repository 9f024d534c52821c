#pragma once
// SAE Match's results: per-link plots of the folded-decoder MSE and the share of good
// matches, the hidden-state approximation per scheme (with the tokens each counted), the
// chain-length histogram, and for a chosen feature its chain across layers as a strip of
// cards that open each layer's dashboard.

#include "ui/workbench.h"

#include <QWidget>

#include <memory>

class QComboBox;
class QCustomPlot;
class QHBoxLayout;
class QSpinBox;

namespace fscope::core::match {
struct MatchSeries;
}

namespace fscope::ui {

class MatchResults : public QWidget {
    Q_OBJECT
public:
    explicit MatchResults(Workbench *workbench, QWidget *parent = nullptr);
    ~MatchResults() override;

    // Shows a series; returns the one-line summary for the status label.
    QString showSeries(std::shared_ptr<const core::match::MatchSeries> series);
    const core::match::MatchSeries *series() const { return m_series.get(); }
    // Shows the chain through `feature` of layer position `layer`.
    void showChain(int layer, qint64 feature);

private:
    Workbench *m_workbench;
    QCustomPlot *m_linkPlot, *m_chainPlot, *m_evPlot;
    QComboBox *m_chainLayer;
    QSpinBox *m_chainFeature;
    QHBoxLayout *m_chainStrip;
    std::shared_ptr<const core::match::MatchSeries> m_series;
};

} // namespace fscope::ui
