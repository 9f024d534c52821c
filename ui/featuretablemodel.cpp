#include "ui/featuretablemodel.h"

#include <QBrush>
#include <QGuiApplication>
#include <QPalette>

#include <algorithm>
#include <numeric>

namespace fscope::ui {

QString formatDensity(double density)
{
    if (density <= 0)
        return QStringLiteral("0");
    const double percent = 100 * density;
    return QString::number(percent, 'g', 3) + QLatin1Char('%');
}

FeatureTableModel::FeatureTableModel(QObject *parent) : QAbstractTableModel(parent) {}

void FeatureTableModel::setFeatures(FeatureColumns columns, std::unordered_map<qint64, QString> labels)
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
        case FeatureFilter::Show::All: break;
        }
        if (!dead && (m_columns.density[i] < m_filter.minDensity || m_columns.density[i] > m_filter.maxDensity))
            continue;
        if (m_filter.only && !m_filter.only->count(m_columns.feature[i]))
            continue;
        m_rows.push_back(static_cast<qint32>(i));
    }
    // Keep the current sort.
    const int column = m_sortColumn;
    const Qt::SortOrder order = m_sortOrder;
    auto by = [&](auto key) {
        if (order == Qt::AscendingOrder)
            std::stable_sort(m_rows.begin(), m_rows.end(), [&](qint32 a, qint32 b) { return key(a) < key(b); });
        else
            std::stable_sort(m_rows.begin(), m_rows.end(), [&](qint32 a, qint32 b) { return key(b) < key(a); });
    };
    switch (column) {
    case FeatureCol: by([&](qint32 i) { return m_columns.feature[size_t(i)]; }); break;
    case DensityCol: by([&](qint32 i) { return m_columns.density[size_t(i)]; }); break;
    case MaxCol: by([&](qint32 i) { return m_columns.max[size_t(i)]; }); break;
    case MeanCol: by([&](qint32 i) { return m_columns.mean[size_t(i)]; }); break;
    case CountCol: by([&](qint32 i) { return m_columns.count[size_t(i)]; }); break;
    case LabelCol: {
        // Labelled features first (by label), then the rest by id.
        std::vector<std::pair<QString, qint32>> keyed;
        keyed.reserve(m_rows.size());
        for (qint32 i : m_rows)
            keyed.emplace_back(labelOf(size_t(i)), i);
        std::stable_sort(keyed.begin(), keyed.end(), [&](const auto &a, const auto &b) {
            if (a.first.isEmpty() != b.first.isEmpty())
                return b.first.isEmpty();
            const int c = QString::localeAwareCompare(a.first, b.first);
            return order == Qt::AscendingOrder ? c < 0 : c > 0;
        });
        for (size_t k = 0; k < keyed.size(); ++k)
            m_rows[k] = keyed[k].second;
        break;
    }
    default: break;
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
        case FeatureCol: return m_columns.feature[i];
        case LabelCol: return dead && labelOf(i).isEmpty() ? tr("(dead)") : labelOf(i);
        case DensityCol: return formatDensity(m_columns.density[i]);
        case MaxCol: return dead ? QString() : QString::number(double(m_columns.max[i]), 'g', 4);
        case MeanCol: return dead ? QString() : QString::number(double(m_columns.mean[i]), 'g', 4);
        case CountCol: return QString::number(m_columns.count[i]);
        default: return {};
        }
    }
    if (role == Qt::TextAlignmentRole && index.column() != LabelCol)
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
    case FeatureCol: return tr("Feature");
    case LabelCol: return tr("Label");
    case DensityCol: return tr("Density");
    case MaxCol: return tr("Max");
    case MeanCol: return tr("Mean");
    case CountCol: return tr("Count");
    default: return {};
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
