#include "ui/reportexportdialog.h"

#include "core/store/feature_lists.h"
#include "core/store/index_store.h"
#include "plugins/api/reportexporter.h"
#include "ui/reportexport.h"
#include "ui/workbench.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace fscope::ui {

bool parseFeatureIds(const QString &text, std::vector<qint64> *out, QString *bad)
{
    out->clear();
    for (QString part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        part = part.trimmed();
        if (part.isEmpty())
            continue;
        bool okA = false, okB = true;
        qint64 a = 0, b = 0;
        const int dash = part.indexOf(QLatin1Char('-'), 1);
        if (dash > 0) {
            a = part.left(dash).trimmed().toLongLong(&okA);
            b = part.mid(dash + 1).trimmed().toLongLong(&okB);
        } else {
            a = b = part.toLongLong(&okA);
        }
        if (!okA || !okB || a < 0 || b < a || b - a > 100000) {
            if (bad)
                *bad = part;
            return false;
        }
        for (qint64 f = a; f <= b; ++f)
            out->push_back(f);
    }
    return !out->empty();
}

ReportExportDialog::ReportExportDialog(Workbench *workbench, QWidget *parent)
    : QDialog(parent)
    , m_workbench(workbench)
    , m_index(new QComboBox)
    , m_current(new QRadioButton(tr("Current feature")))
    , m_fromList(new QRadioButton(tr("Feature list")))
    , m_labelled(new QRadioButton(tr("Every labelled feature")))
    , m_fromIds(new QRadioButton(tr("Features")))
    , m_list(new QComboBox)
    , m_ids(new QLineEdit)
    , m_format(new QComboBox)
    , m_path(new QLineEdit)
    , m_error(new QLabel)
{
    setWindowTitle(tr("Export Feature Report"));
    setObjectName(QStringLiteral("reportExportDialog"));
    workbench->fillIndexChoice(m_index);
    const FeatureRef current = workbench->current();
    if (current.valid()) {
        const int row = m_index->findData(QVariant::fromValue<qint64>(current.indexId));
        if (row >= 0)
            m_index->setCurrentIndex(row);
        m_current->setText(tr("Current feature (%1)").arg(current.feature));
    }
    m_current->setEnabled(current.valid());
    if (auto *db = workbench->database())
        if (auto lists = core::store::featureLists(*db))
            for (const auto &l : *lists)
                m_list->addItem(tr("%1 (%2)").arg(QString::fromStdString(l.name)).arg(l.items),
                    QString::fromStdString(l.name));
    m_fromList->setEnabled(m_list->count() > 0);
    m_ids->setPlaceholderText(tr("e.g. 3, 17, 40-49"));
    (current.valid() ? m_current : m_labelled)->setChecked(true);
    connect(m_list, &QComboBox::activated, m_fromList, [this] { m_fromList->setChecked(true); });
    connect(m_ids, &QLineEdit::textEdited, m_fromIds, [this] { m_fromIds->setChecked(true); });

    for (auto *exporter : reportExporters(workbench))
        m_format->addItem(exporter->displayName(), exporter->formatId());
    connect(m_format, &QComboBox::currentIndexChanged, this, &ReportExportDialog::updateSuffix);

    auto *which = new QGroupBox(tr("Which features"));
    auto *grid = new QGridLayout(which);
    grid->addWidget(m_current, 0, 0, 1, 2);
    grid->addWidget(m_fromList, 1, 0);
    grid->addWidget(m_list, 1, 1);
    grid->addWidget(m_labelled, 2, 0, 1, 2);
    grid->addWidget(m_fromIds, 3, 0);
    grid->addWidget(m_ids, 3, 1);

    auto *browse = new QToolButton;
    browse->setText(QStringLiteral("..."));
    connect(browse, &QToolButton::clicked, this, &ReportExportDialog::browse);
    auto *pathRow = new QHBoxLayout;
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(browse);
    m_path->setText(QDir::homePath() + QStringLiteral("/feature-report"));
    updateSuffix();

    auto *form = new QFormLayout;
    form->addRow(tr("SAE"), m_index);
    form->addRow(which);
    form->addRow(tr("Format"), m_format);
    form->addRow(tr("File"), pathRow);

    m_error->setStyleSheet(QStringLiteral("color: #c83c3c"));
    m_error->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Export"));
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        if (startExport() > 0)
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    resize(520, sizeHint().height());
}

void ReportExportDialog::updateSuffix()
{
    auto *exporter = reportExporter(m_workbench, m_format->currentData().toString());
    if (!exporter)
        return;
    const QFileInfo info(m_path->text());
    m_path->setText(info.path() + QLatin1Char('/') + info.completeBaseName() + QLatin1Char('.')
        + exporter->fileSuffix());
}

void ReportExportDialog::browse()
{
    auto *exporter = reportExporter(m_workbench, m_format->currentData().toString());
    if (!exporter)
        return;
    const QString path
        = askReportPath(this, exporter, QFileInfo(m_path->text()).completeBaseName());
    if (!path.isEmpty())
        m_path->setText(path);
}

std::vector<qint64> ReportExportDialog::chosenFeatures(QString *error) const
{
    std::vector<qint64> features;
    const qint64 indexId = m_index->currentData().toLongLong();
    auto *db = m_workbench->database();
    if (!db || indexId <= 0) {
        *error = tr("The workspace has no finished index to report on.");
        return {};
    }
    auto info = core::store::indexInfo(*db, indexId);
    if (!info) {
        *error = QString::fromStdString(info.errorMessage());
        return {};
    }
    if (m_current->isChecked()) {
        const FeatureRef current = m_workbench->current();
        if (current.valid() && current.indexId == indexId)
            features.push_back(current.feature);
        else
            *error = tr("The current feature belongs to another SAE.");
    } else if (m_fromList->isChecked()) {
        const std::string name = m_list->currentData().toString().toStdString();
        if (auto lists = core::store::featureLists(*db))
            for (const auto &l : *lists)
                if (l.name == name)
                    if (auto items = core::store::featureListItems(*db, l.id, info->saeId))
                        features.assign(items->begin(), items->end());
        if (features.empty())
            *error = tr("The list holds no feature of %1.")
                         .arg(QString::fromStdString(info->saeLabel));
    } else if (m_labelled->isChecked()) {
        if (auto labels = core::store::allLabels(*db, info->saeId))
            for (const auto &l : *labels)
                features.push_back(l.first);
        if (features.empty())
            *error = tr("No feature of %1 has a label yet.")
                         .arg(QString::fromStdString(info->saeLabel));
    } else {
        QString bad;
        if (!parseFeatureIds(m_ids->text(), &features, &bad))
            *error = bad.isEmpty() ? tr("Type feature ids, e.g. 3, 17, 40-49.")
                                   : tr("'%1' is not a feature id or range.").arg(bad);
        for (qint64 f : features)
            if (f >= info->dSae) {
                *error = tr("Feature %1 is outside %2 (0..%3).")
                             .arg(f)
                             .arg(QString::fromStdString(info->saeLabel))
                             .arg(info->dSae - 1);
                features.clear();
                break;
            }
    }
    return error->isEmpty() ? features : std::vector<qint64>();
}

int ReportExportDialog::startExport()
{
    QString error;
    const auto features = chosenFeatures(&error);
    auto *exporter = reportExporter(m_workbench, m_format->currentData().toString());
    if (error.isEmpty() && !exporter)
        error = tr("No report exporter is enabled (Help > Plugins).");
    if (error.isEmpty() && m_path->text().trimmed().isEmpty())
        error = tr("Choose a file to write.");
    m_error->setText(error);
    if (!error.isEmpty())
        return 0;
    return startReportExport(m_workbench, exporter, m_index->currentData().toLongLong(), features,
        m_path->text().trimmed());
}

} // namespace fscope::ui
