#include "ui/featuretablemodel.h"

#include <QBrush>
#include <QGuiApplication>
#include <QPalette>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace fscope::ui {

namespace {

// Stable LSD radix sort of rows by a float key (11-bit digits, three passes): O(n), so a
// million features sort in a few milliseconds. Floats map to unsigned integers that order the
// same way; descending flips the bits, which keeps ties in row order.
void radixSortRows(std::vector<qint32> &rows, const std::vector<float> &column, bool ascending)
{
    const size_t n = rows.size();
    std::vector<uint32_t> keys(n), keysTmp(n);
    std::vector<qint32> rowsTmp(n);
    for (size_t k = 0; k < n; ++k) {
        uint32_t bits;
        const float v = column[size_t(rows[k])];
        std::memcpy(&bits, &v, 4);
        bits = (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
        keys[k] = ascending ? bits : ~bits;
    }
    for (int shift = 0; shift < 33; shift += 11) {
        std::vector<size_t> counts(2049, 0);
        for (uint32_t key : keys)
            ++counts[((key >> shift) & 2047u) + 1];
        for (size_t d = 1; d < counts.size(); ++d)
            counts[d] += counts[d - 1];
        for (size_t k = 0; k < n; ++k) {
            const size_t to = counts[(keys[k] >> shift) & 2047u]++;
            keysTmp[to] = keys[k];
            rowsTmp[to] = rows[k];
        }
        keys.swap(keysTmp);
        rows.swap(rowsTmp);
    }
}

} // namespace

QString formatDensity(double density)
{
    if (density <= 0)
        return QStringLiteral("0");
    const double percent = 100 * density;
    return QString::number(percent, 'g', 3) + QLatin1Char('%');
}

FeatureTableModel::FeatureTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void FeatureTableModel::setFeatures(
    FeatureColumns columns, std::unordered_map<qint64, QString> labels)
{
    beginResetModel();
    m_columns = std::move(columns);
    m_labels = std::move(labels);
    m_filter = {};
    rebuild();
    endResetModel();
}

void FeatureTableModel::setLabel(qint64 feature, const QString &label)
{
    if (label.isEmpty())
        m_labels.erase(feature);
    else
        m_labels[feature] = label;
    const int row = rowOf(feature);
    if (row >= 0)
        Q_EMIT dataChanged(index(row, LabelCol), index(row, LabelCol));
}

void FeatureTableModel::setExplanations(std::unordered_map<qint64, ExplanationCell> explanations)
{
    beginResetModel();
    m_explanations = std::move(explanations);
    rebuild();
    endResetModel();
}

void FeatureTableModel::setFilter(const FeatureFilter &filter)
{
    beginResetModel();
    m_filter = filter;
    rebuild();
    endResetModel();
}

QString FeatureTableModel::labelOf(size_t i) const
{
    const auto it = m_labels.find(m_columns.feature[i]);
    return it == m_labels.end() ? QString() : it->second;
}

void FeatureTableModel::rebuild()
{
    m_rows.clear();
    const size_t n = m_columns.feature.size();
    m_rows.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const bool dead = m_columns.count[i] == 0;
        switch (m_filter.show) {
        case FeatureFilter::Show::Live:
            if (dead)
                continue;
            break;
        case FeatureFilter::Show::Dead:
            if (!dead)
                continue;
            break;
        case FeatureFilter::Show::Labelled:
            if (!m_labels.count(m_columns.feature[i]))
                continue;
            break;
        case FeatureFilter::Show::All:
            break;
        }
        if (!dead
            && (m_columns.density[i] < m_filter.minDensity
                || m_columns.density[i] > m_filter.maxDensity))
            continue;
        if (m_filter.only && !m_filter.only->count(m_columns.feature[i]))
            continue;
        m_rows.push_back(static_cast<qint32>(i));
    }
    // Keep the current sort. Keys are copied next to their row first: sorting contiguous
    // (key, row) pairs is several times faster than comparing through the column arrays.
    const bool ascending = m_sortOrder == Qt::AscendingOrder;
    auto by = [&](auto key) {
        using Key = decltype(key(0));
        std::vector<std::pair<Key, qint32>> keyed;
        keyed.reserve(m_rows.size());
        for (qint32 i : m_rows)
            keyed.emplace_back(key(i), i);
        // Ties go by row (= feature order) either way, so the order is fully determined.
        if (ascending)
            std::sort(keyed.begin(), keyed.end());
        else
            std::sort(keyed.begin(), keyed.end(), [](const auto &a, const auto &b) {
                return a.first != b.first ? a.first > b.first : a.second < b.second;
            });
        for (size_t k = 0; k < keyed.size(); ++k)
            m_rows[k] = keyed[k].second;
    };
    // Rows with a text (label, explanation) first, by that text; the rest in feature order.
    auto byTextFirst = [&](auto textOf) {
        std::vector<std::pair<QString, qint32>> withText;
        std::vector<qint32> rest;
        for (qint32 i : m_rows) {
            if (const QString *text = textOf(i))
                withText.emplace_back(*text, i);
            else
                rest.push_back(i);
        }
        std::stable_sort(withText.begin(), withText.end(), [&](const auto &a, const auto &b) {
            const int c = QString::localeAwareCompare(a.first, b.first);
            return ascending ? c < 0 : c > 0;
        });
        size_t k = 0;
        for (const auto &t : withText)
            m_rows[k++] = t.second;
        for (qint32 i : rest)
            m_rows[k++] = i;
    };
    switch (m_sortColumn) {
    case FeatureCol:
        if (!ascending)
            std::reverse(m_rows.begin(), m_rows.end()); // rows are built in feature order
        break;
    case DensityCol:
        radixSortRows(m_rows, m_columns.density, ascending);
        break;
    case MaxCol:
        radixSortRows(m_rows, m_columns.max, ascending);
        break;
    case MeanCol:
        radixSortRows(m_rows, m_columns.mean, ascending);
        break;
    case CountCol:
        by([&](qint32 i) { return m_columns.count[size_t(i)]; });
        break;
    case ScoreCol:
        // Scored features first, by score; unscored ones after, in feature order.
        by([&](qint32 i) {
            const auto it = m_explanations.find(m_columns.feature[size_t(i)]);
            const bool scored = it != m_explanations.end() && !std::isnan(it->second.score);
            const float v = scored ? it->second.score : 0.0f;
            return std::make_pair(ascending ? !scored : scored, v);
        });
        break;
    case ExplanationCol:
        byTextFirst([&](qint32 i) -> const QString * {
            const auto it = m_explanations.find(m_columns.feature[size_t(i)]);
            return it == m_explanations.end() ? nullptr : &it->second.text;
        });
        break;
    case LabelCol:
        byTextFirst([&](qint32 i) -> const QString * {
            const auto it = m_labels.find(m_columns.feature[size_t(i)]);
            return it == m_labels.end() ? nullptr : &it->second;
        });
        break;
    default:
        break;
    }
}

void FeatureTableModel::sort(int column, Qt::SortOrder order)
{
    beginResetModel();
    m_sortColumn = column;
    m_sortOrder = order;
    rebuild();
    endResetModel();
}

int FeatureTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int FeatureTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant FeatureTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= static_cast<int>(m_rows.size()))
        return {};
    const auto i = static_cast<size_t>(m_rows[static_cast<size_t>(index.row())]);
    const bool dead = m_columns.count[i] == 0;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case FeatureCol:
            return m_columns.feature[i];
        case LabelCol:
            return dead && labelOf(i).isEmpty() ? tr("(dead)") : labelOf(i);
        case DensityCol:
            return formatDensity(m_columns.density[i]);
        case MaxCol:
            return dead ? QString() : QString::number(double(m_columns.max[i]), 'g', 4);
        case MeanCol:
            return dead ? QString() : QString::number(double(m_columns.mean[i]), 'g', 4);
        case CountCol:
            return QString::number(m_columns.count[i]);
        case ExplanationCol: {
            const auto it = m_explanations.find(m_columns.feature[i]);
            return it == m_explanations.end() ? QString() : it->second.text;
        }
        case ScoreCol: {
            const auto it = m_explanations.find(m_columns.feature[i]);
            return it == m_explanations.end() || std::isnan(it->second.score)
                ? QString()
                : QString::number(double(it->second.score), 'f', 2);
        }
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole
        && (index.column() == ExplanationCol || index.column() == ScoreCol)) {
        const auto it = m_explanations.find(m_columns.feature[i]);
        if (it == m_explanations.end())
            return {};
        return it->second.scores.isEmpty()
            ? it->second.text
            : it->second.text + QStringLiteral("\n") + it->second.scores;
    }
    if (role == Qt::TextAlignmentRole && index.column() != LabelCol
        && index.column() != ExplanationCol)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ForegroundRole && dead)
        return QGuiApplication::palette().brush(QPalette::Disabled, QPalette::Text);
    if (role == Qt::ToolTipRole && index.column() == DensityCol)
        return tr("Fires on %1 tokens").arg(m_columns.count[i]);
    if (role == Qt::UserRole)
        return m_columns.feature[i];
    return {};
}

QVariant FeatureTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case FeatureCol:
        return tr("Feature");
    case LabelCol:
        return tr("Label");
    case DensityCol:
        return tr("Density");
    case MaxCol:
        return tr("Max");
    case MeanCol:
        return tr("Mean");
    case CountCol:
        return tr("Count");
    case ExplanationCol:
        return tr("Explanation");
    case ScoreCol:
        return tr("Score");
    default:
        return {};
    }
}

qint64 FeatureTableModel::featureAt(int row) const
{
    if (row < 0 || row >= static_cast<int>(m_rows.size()))
        return -1;
    return m_columns.feature[static_cast<size_t>(m_rows[static_cast<size_t>(row)])];
}

int FeatureTableModel::rowOf(qint64 feature) const
{
    for (size_t r = 0; r < m_rows.size(); ++r)
        if (m_columns.feature[static_cast<size_t>(m_rows[r])] == feature)
            return static_cast<int>(r);
    return -1;
}

} // namespace fscope::ui
