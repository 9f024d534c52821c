#pragma once
// The steering dock: pick an SAE feature (or arrive from a dashboard's "Steer" / "Ablate"),
// an edit (add, clamp, scale, ablate), a strength in raw units or as a multiple of the
// feature's max activation, positions, and generation settings; then compare the base and
// steered generations side by side, sweep the strength and plot the metrics, or rank the
// prompt's features by the effect of ablating each. Runs through the job runner; results are
// cached in the workspace by their full parameter set. This file is the form and the jobs;
// the fixed-edit list is SteeringEdits, the result tabs SteeringResults.

#include "ui/workbench.h"

#include <QJsonArray>
#include <QWidget>

#include <array>
#include <memory>
#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace fscope::core {
template <typename T> class Result;
namespace model {
class ModelCache;
}
namespace jobs {
class Progress;
}
namespace store {
class Database;
}
} // namespace fscope::core

namespace fscope::ui {

class SteeringEdits;
class SteeringResults;
struct SteeringJob;

class SteeringPanel : public QWidget {
    Q_OBJECT
public:
    explicit SteeringPanel(Workbench *workbench, QWidget *parent = nullptr);
    ~SteeringPanel() override;

    // Prepares an edit of `feature` of index `indexId`: "add", "clamp", "scale" or "ablate".
    void setFeature(qint64 indexId, qint64 feature, const QString &mode);
    void setPrompt(const QString &text);
    void setStrength(double value, bool timesMax = false);
    // Each returns the job id.
    int runComparison();
    int runSweep(double limit, int points);
    int runAblationStudy();
    // Adds a fixed edit to the list applied with the main one: an SAE feature of the panel's
    // SAE, or a steering vector file (.npy / .safetensors) added with `value` as strength.
    void addExtraFeature(qint64 feature, const QString &mode, double value);
    void addExtraVector(const QString &path, double value);
    int extraEditCount() const;
    // The extra edits as JSON ({"feature", "mode", "value"} or {"vector", "value"}), for the
    // workspace session; setExtraEdits replaces the table with them.
    QJsonArray extraEdits() const;
    void setExtraEdits(const QJsonArray &edits);

    // After a comparison: the two continuations as text, the mean KL and whether it was cached.
    QString baseText() const;
    QString steeredText() const;
    double klMean() const { return m_klMean; }
    bool lastFromCache() const { return m_lastCached; }
    // Per sweep point: strength, mean KL, target log-prob change, steered perplexity under base.
    const std::vector<std::array<double, 4>> &sweepPoints() const;

Q_SIGNALS:
    void openFeature(qint64 indexId, qint64 feature);

private:
    std::shared_ptr<SteeringJob> prepare(QString *problem) const;
    void showComparison(const SteeringJob &job);
    void reloadIndexes();

    Workbench *m_workbench;
    QComboBox *m_index;
    QSpinBox *m_feature;
    QComboBox *m_mode;
    QDoubleSpinBox *m_strength;
    QCheckBox *m_timesMax;
    QComboBox *m_positions;
    QPlainTextEdit *m_prompt;
    QSpinBox *m_maxTokens;
    QDoubleSpinBox *m_temperature;
    QSpinBox *m_seed;
    QLineEdit *m_target;
    QLabel *m_status;
    SteeringEdits *m_extraEdits; // applied together with the main (swept) edit
    SteeringResults *m_results;
    double m_klMean = 0;
    bool m_lastCached = false;
};

} // namespace fscope::ui
