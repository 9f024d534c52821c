#pragma once
// File > Export Feature Report: one SAE's features (the current one, a feature list, every
// labelled feature or typed ids) in any exporter's format, written by a job.

#include <QDialog>

#include <vector>

class QComboBox;
class QLineEdit;
class QRadioButton;
class QLabel;

namespace fscope::ui {

class Workbench;

class ReportExportDialog : public QDialog {
    Q_OBJECT
public:
    explicit ReportExportDialog(Workbench *workbench, QWidget *parent = nullptr);

    // The features chosen now, or an error message in `error`.
    std::vector<qint64> chosenFeatures(QString *error) const;
    // Starts the export job (what OK does); the job id, or 0 with a message shown.
    int startExport();

    QComboBox *indexChoice() const { return m_index; }
    QComboBox *formatChoice() const { return m_format; }
    QComboBox *listChoice() const { return m_list; }
    QRadioButton *currentButton() const { return m_current; }
    QRadioButton *listButton() const { return m_fromList; }
    QRadioButton *labelledButton() const { return m_labelled; }
    QRadioButton *idsButton() const { return m_fromIds; }
    QLineEdit *idsEdit() const { return m_ids; }
    QLineEdit *pathEdit() const { return m_path; }

private:
    void updateSuffix();
    void browse();

    Workbench *m_workbench;
    QComboBox *m_index;
    QRadioButton *m_current, *m_fromList, *m_labelled, *m_fromIds;
    QComboBox *m_list;
    QLineEdit *m_ids;
    QComboBox *m_format;
    QLineEdit *m_path;
    QLabel *m_error;
};

// "3, 7, 10-12" -> {3, 7, 10, 11, 12}; false (with the offending part) on bad input.
bool parseFeatureIds(const QString &text, std::vector<qint64> *out, QString *bad);

} // namespace fscope::ui
