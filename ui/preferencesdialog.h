#pragma once
// Edit > Preferences: the compute device and precision every job uses (the status bar shows the
// same two choices). Applied on OK; remembered across sessions.

#include <QDialog>

class QComboBox;

namespace fscope::ui {

class Workbench;

class PreferencesDialog : public QDialog {
    Q_OBJECT
public:
    explicit PreferencesDialog(Workbench *workbench, QWidget *parent = nullptr);

    QComboBox *deviceChoice() const { return m_device; }
    QComboBox *dtypeChoice() const { return m_dtype; }

private:
    void apply();

    Workbench *m_workbench;
    QComboBox *m_device;
    QComboBox *m_dtype;
};

} // namespace fscope::ui
