#pragma once
// The decomposition dock's results: each method's cosine, FVE and re-steer KL, the cumulative
// FVE-vs-k curves of all methods on one chart, and the selected method's top positive and
// negative features as bars (click one to open its dashboard) with its coefficient table
// (for the naive encoding, each feature's pre-activation at v = 0).

#include <QSplitter>

#include <memory>
#include <vector>

class QComboBox;
class QCustomPlot;
class QTableWidget;

namespace fscope::core::steer {
struct Decomposition;
struct DecomposeRun;
} // namespace fscope::core::steer

namespace fscope::ui {

class DecompositionResults : public QSplitter {
    Q_OBJECT
public:
    explicit DecompositionResults(QWidget *parent = nullptr);
    ~DecompositionResults() override;

    void showRun(qint64 indexId, std::shared_ptr<const core::steer::DecomposeRun> run);
    const std::vector<core::steer::Decomposition> &results() const;
    // The vector's norm against the activation norms at the hook (a warning when outside).
    QString normsText() const;
    void selectMethod(const QString &name);

Q_SIGNALS:
    void openFeature(qint64 indexId, qint64 feature);

private:
    void showMethod(int row);

    QTableWidget *m_summary, *m_table;
    QCustomPlot *m_curves, *m_bars;
    QComboBox *m_method;
    qint64 m_indexId = 0;
    std::shared_ptr<const core::steer::DecomposeRun> m_run;
};

} // namespace fscope::ui
