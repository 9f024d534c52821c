#include "ui/computestatus.h"

#include "core/model/compute_devices.h"
#include "core/model/model_cache.h"
#include "core/util/device_memory.h"
#include "ui/jobrunner.h"
#include "ui/workbench.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QTimer>

namespace fscope::ui {

namespace {
QString bytes(int64_t n)
{
    return QString::fromStdString(core::util::formatBytes(n));
}
} // namespace

void ComputeStatus::selectChoice(QComboBox *combo, const QString &value)
{
    const int row = combo->findData(value);
    if (row >= 0 && row != combo->currentIndex()) {
        const QSignalBlocker quiet(combo);
        combo->setCurrentIndex(row);
    }
}

void ComputeStatus::fillDeviceChoice(QComboBox *combo)
{
    combo->clear();
    const auto devices = core::model::listComputeDevices();
    combo->addItem(QObject::tr("device: auto (%1)")
                       .arg(QString::fromStdString(core::model::resolvedDeviceId("auto"))),
        QStringLiteral("auto"));
    for (const auto &d : devices) {
        QString text = QObject::tr("device: %1").arg(QString::fromStdString(d.id));
        if (d.id != "cpu" && !d.name.empty())
            text += QStringLiteral(" (%1, %2)")
                        .arg(QString::fromStdString(d.name),
                            d.totalBytes > 0 ? bytes(d.totalBytes) : QObject::tr("? GiB"));
        combo->addItem(text, QString::fromStdString(d.id));
    }
}

void ComputeStatus::fillDtypeChoice(QComboBox *combo)
{
    combo->clear();
    combo->addItem(QObject::tr("precision: auto"), QStringLiteral("auto"));
    combo->addItem(QObject::tr("precision: f32"), QStringLiteral("f32"));
    combo->addItem(QObject::tr("precision: bf16"), QStringLiteral("bf16"));
    combo->addItem(QObject::tr("precision: f16 (GPU)"), QStringLiteral("f16"));
    combo->setItemData(0, QObject::tr("bf16 on a GPU, f32 on the CPU"), Qt::ToolTipRole);
}

ComputeStatus::ComputeStatus(Workbench *workbench, QWidget *parent)
    : QWidget(parent)
    , m_workbench(workbench)
    , m_device(new QComboBox(this))
    , m_dtype(new QComboBox(this))
    , m_memory(new QLabel(this))
    , m_timer(new QTimer(this))
{
    m_device->setObjectName(QStringLiteral("deviceChoice"));
    m_device->setToolTip(tr("Where every job runs; auto: the first GPU, else the CPU"));
    fillDeviceChoice(m_device);
    m_dtype->setObjectName(QStringLiteral("dtypeChoice"));
    m_dtype->setToolTip(tr("The models' precision for every job; auto: bf16 on a GPU, f32 on "
                           "the CPU"));
    fillDtypeChoice(m_dtype);
    m_memory->setObjectName(QStringLiteral("memoryInUse"));
    m_memory->setToolTip(tr("Weights of the models and SAEs kept loaded (File > Unload Models "
                            "frees them), and the GPU's memory in use"));

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_memory);
    layout->addWidget(m_device);
    layout->addWidget(m_dtype);

    selectChoice(m_device, workbench->device());
    selectChoice(m_dtype, workbench->dtype());
    connect(m_device, &QComboBox::currentIndexChanged, this,
        [this] { m_workbench->setDevice(m_device->currentData().toString()); });
    connect(m_dtype, &QComboBox::currentIndexChanged, this,
        [this] { m_workbench->setDtype(m_dtype->currentData().toString()); });
    connect(workbench, &Workbench::deviceChanged, this, [this](const QString &d) {
        selectChoice(m_device, d);
        updateMemory();
    });
    connect(workbench, &Workbench::dtypeChanged, this,
        [this](const QString &d) { selectChoice(m_dtype, d); });
    // Loads and frees happen in jobs and File > Unload: a job's end and a slow timer catch both.
    connect(workbench->runner(), &JobRunner::jobFinished, this, &ComputeStatus::updateMemory);
    m_timer->setInterval(3000);
    connect(m_timer, &QTimer::timeout, this, &ComputeStatus::updateMemory);
    m_timer->start();
    updateMemory();
}

void ComputeStatus::updateMemory()
{
    const int64_t resident = m_workbench->models().residentBytes();
    QString text = resident > 0 ? tr("models %1").arg(bytes(resident)) : tr("no model loaded");
    const auto use = core::model::deviceUse(m_workbench->device().toStdString());
    if (use.totalBytes > 0)
        text += tr(" · GPU %1 / %2").arg(bytes(use.usedBytes), bytes(use.totalBytes));
    m_memory->setText(text);
}

} // namespace fscope::ui
