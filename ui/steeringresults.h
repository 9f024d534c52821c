#pragma once
// The steering dock's result tabs: Compare (base and steered continuations with their
// differences highlighted, next-token probabilities), Sweep (mean KL and a target or fluency
// metric over strengths; a point's generation on click) and Ablation (each top feature's
// effect when ablated; a row opens the feature).

#include <QStringList>
#include <QTabWidget>
#include <QVector>

#include <array>
#include <vector>

class QComboBox;
class QCustomPlot;
class QLabel;
class QTableWidget;
class QTextBrowser;

namespace fscope::core::steer {
struct AblationEffect;
}

namespace fscope::ui {

class SteeringResults : public QTabWidget {
    Q_OBJECT
public:
    struct NextToken {
        QString token;
        double base = 0, steered = 0;
    };
    // Per sweep point: strength, mean KL, target log-prob change, steered perplexity under base.
    using SweepPoint = std::array<double, 4>;

    explicit SteeringResults(QWidget *parent = nullptr);

    void showComparison(const QStringList &baseTokens, const QStringList &steeredTokens,
        const QVector<NextToken> &next);
    void showSweep(std::vector<SweepPoint> points, const QStringList &texts, bool hasTarget);
    void showAblation(const std::vector<core::steer::AblationEffect> &effects, bool byTarget);

    QString baseText() const { return m_baseTokens.join(QString()); }
    QString steeredText() const { return m_steeredTokens.join(QString()); }
    const std::vector<SweepPoint> &sweepPoints() const { return m_sweep; }

Q_SIGNALS:
    void featureActivated(qint64 feature); // an ablation row was double-clicked

private:
    void plotSweep();

    QTextBrowser *m_base, *m_steered;
    QTableWidget *m_next;
    QComboBox *m_sweepMetric; // the right axis: target log-prob change or perplexity
    QCustomPlot *m_sweepPlot;
    QLabel *m_sweepDetail;
    QCustomPlot *m_ablationPlot;
    QTableWidget *m_ablation;
    QStringList m_baseTokens, m_steeredTokens, m_sweepTexts;
    std::vector<SweepPoint> m_sweep;
};

} // namespace fscope::ui
