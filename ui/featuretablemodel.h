#pragma once
// All features of one index as a table: sorting and filtering run on plain column arrays with
// a row permutation (no per-row QVariant work), so a million features stay responsive.

#include <QAbstractTableModel>

#include <limits>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

namespace fscope::ui {

struct FeatureColumns {
    std::vector<qint32> feature;
    std::vector<qint64> count;
    std::vector<float> density, max, mean;
};

// A feature's newest explanation (auto-interpretation or imported) and its score: the mean of
// its detection and fuzzing balanced accuracies, whichever exist (NaN when none).
struct ExplanationCell {
    QString text;
    float score = std::numeric_limits<float>::quiet_NaN();
    QString scores; // "detection 0.92, fuzzing 0.85" for the tooltip
};

struct FeatureFilter {
    enum class Show { All, Live, Dead, Labelled };
    Show show = Show::All;
    double minDensity = 0, maxDensity = 1; // inclusive, applied to live features
    std::optional<std::set<qint64>> only; // e.g. label search hits
};

class FeatureTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column {
        FeatureCol,
        LabelCol,
        DensityCol,
        MaxCol,
        MeanCol,
        CountCol,
        ExplanationCol,
        ScoreCol,
        ColumnCount
    };

    explicit FeatureTableModel(QObject *parent = nullptr);

    void setFeatures(FeatureColumns columns, std::unordered_map<qint64, QString> labels);
    void setLabel(qint64 feature, const QString &label);
    void setExplanations(std::unordered_map<qint64, ExplanationCell> explanations);
    bool hasExplanations() const { return !m_explanations.empty(); }
    void setFilter(const FeatureFilter &filter);
    const FeatureFilter &filter() const { return m_filter; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(
        int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    qint64 featureAt(int row) const;
    int rowOf(qint64 feature) const; // -1 when filtered out
    qint64 totalFeatures() const { return static_cast<qint64>(m_columns.feature.size()); }

private:
    void rebuild();
    QString labelOf(size_t i) const;

    FeatureColumns m_columns;
    std::unordered_map<qint64, QString> m_labels;
    std::unordered_map<qint64, ExplanationCell> m_explanations;
    FeatureFilter m_filter;
    std::vector<qint32> m_rows; // indices into m_columns, filtered and sorted
    int m_sortColumn = FeatureCol;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
};

// "0.0123%" style density, readable across six orders of magnitude.
QString formatDensity(double density);

} // namespace fscope::ui
