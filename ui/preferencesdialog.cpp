#include "ui/preferencesdialog.h"

#include "ui/computestatus.h"
#include "ui/workbench.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace fscope::ui {

PreferencesDialog::PreferencesDialog(Workbench *workbench, QWidget *parent)
    : QDialog(parent)
    , m_workbench(workbench)
    , m_device(new QComboBox(this))
    , m_dtype(new QComboBox(this))
{
    setObjectName(QStringLiteral("preferencesDialog"));
    setWindowTitle(tr("Preferences"));
    m_device->setObjectName(QStringLiteral("preferencesDevice"));
    m_dtype->setObjectName(QStringLiteral("preferencesDtype"));
    ComputeStatus::fillDeviceChoice(m_device);
    ComputeStatus::fillDtypeChoice(m_dtype);
    ComputeStatus::selectChoice(m_device, workbench->device());
    ComputeStatus::selectChoice(m_dtype, workbench->dtype());

    auto *form = new QFormLayout;
    form->addRow(tr("Compute &device:"), m_device);
    form->addRow(tr("Model &precision:"), m_dtype);
    auto *note = new QLabel(tr("Every job (indexing, the prompt inspector, steering, sweeps, "
                               "decomposition, SAE Match, explanations) runs here. Models already "
                               "loaded on another device stay until File > Unload Models; each "
                               "result records the device that computed it."),
        this);
    note->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        apply();
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(buttons);
}

void PreferencesDialog::apply()
{
    m_workbench->setDevice(m_device->currentData().toString());
    m_workbench->setDtype(m_dtype->currentData().toString());
}

} // namespace fscope::ui
