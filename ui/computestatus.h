#pragma once
// The status bar's compute corner: where every job runs (auto, cpu, cuda:N with the GPU's name
// and memory), in which precision, and what the resident models and the device hold now.
// The same choices as Edit > Preferences; both follow the workbench.

#include <QWidget>

class QComboBox;
class QLabel;
class QTimer;

namespace fscope::ui {

class Workbench;

class ComputeStatus : public QWidget {
    Q_OBJECT
public:
    explicit ComputeStatus(Workbench *workbench, QWidget *parent = nullptr);

    QComboBox *deviceChoice() const { return m_device; }
    QComboBox *dtypeChoice() const { return m_dtype; }
    QLabel *memoryLabel() const { return m_memory; }

    // Fills a device combo (auto first) and a dtype combo the same way everywhere.
    static void fillDeviceChoice(QComboBox *combo);
    static void fillDtypeChoice(QComboBox *combo);
    // Selects the item whose data is `value` without emitting a change; unknown values leave
    // the selection as it is.
    static void selectChoice(QComboBox *combo, const QString &value);

public Q_SLOTS:
    // Re-reads the resident models' size and the device's memory (also on a timer).
    void updateMemory();

private:
    Workbench *m_workbench;
    QComboBox *m_device;
    QComboBox *m_dtype;
    QLabel *m_memory;
    QTimer *m_timer;
};

} // namespace fscope::ui
