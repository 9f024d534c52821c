#pragma once
// ITDA dictionaries compared: the Jaccard similarity of every pair's atoms (core/sae/
// itda_similarity.h) as a table and a heatmap, for the layers of one model or one layer of
// several models. Pairs built on different corpora are marked, since their atoms share no
// coordinates to compare.

#include <QDialog>
#include <QStringList>

#include <memory>

class QCustomPlot;
class QLabel;
class QListWidget;
class QPushButton;
class QTableWidget;

namespace fscope::core::sae {
struct ItdaSimilarity;
}

namespace fscope::ui {

class JobRunner;

class ItdaSimilarityDialog : public QDialog {
    Q_OBJECT
public:
    ItdaSimilarityDialog(JobRunner *runner, QWidget *parent = nullptr);
    ~ItdaSimilarityDialog() override;

    void setFolders(const QStringList &folders);
    QStringList folders() const;
    // Compares the listed folders in a job; the table and heatmap fill in when it is done.
    int compare();
    const core::sae::ItdaSimilarity *result() const { return m_result.get(); }
    QCustomPlot *heatmap() const { return m_plot; }
    QTableWidget *table() const { return m_table; }

Q_SIGNALS:
    void compared(bool ok);

private:
    void showResult(std::shared_ptr<const core::sae::ItdaSimilarity> result);
    void addFolder();

    JobRunner *m_runner;
    QListWidget *m_folders;
    QPushButton *m_compare, *m_save;
    QTableWidget *m_table;
    QCustomPlot *m_plot;
    QLabel *m_status;
    std::shared_ptr<const core::sae::ItdaSimilarity> m_result;
};

} // namespace fscope::ui
