#pragma once
// The feature browser dock: pick an index (SAE x corpus), then every feature in a sortable,
// filterable table; search labels and notes, jump to an id, open a feature's dashboard.

#include "ui/workbench.h"

#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace fscope::ui {

class FeatureTableModel;
struct ExplanationCell;

class FeatureBrowser : public QWidget {
    Q_OBJECT
public:
    explicit FeatureBrowser(Workbench *workbench, QWidget *parent = nullptr);

    FeatureTableModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    qint64 indexId() const { return m_indexId; }
    // Selects an index by id (reloads its features through the job runner); returns the job id.
    int selectIndex(qint64 indexId);
    void focusSearch();
    // Re-reads the search, list and density filters (after they were set programmatically).
    void applyFilter();
    // Re-reads the explanations and scores of the index's SAE (after an Explain job).
    void reloadExplanations();

private:
    void showExplanationColumns();
    void reloadIndexes();
    void reloadLists();
    void onCurrentFeature(FeatureRef ref);
    void updateCount();

    Workbench *m_workbench;
    FeatureTableModel *m_model;
    QComboBox *m_indexCombo;
    QLineEdit *m_search;
    QComboBox *m_show;
    QDoubleSpinBox *m_minDensity;
    QDoubleSpinBox *m_maxDensity;
    QTableView *m_view;
    QLabel *m_count;
    qint64 m_indexId = 0;
    qint64 m_saeId = 0;
    bool m_syncing = false;
};

} // namespace fscope::ui
