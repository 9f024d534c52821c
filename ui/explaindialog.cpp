#include "ui/explaindialog.h"

#include "core/store/feature_lists.h"
#include "ui/reportexportdialog.h"
#include "ui/workbench.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace fscope::ui {

ExplainDialog::ExplainDialog(Workbench *workbench, QWidget *parent)
    : QDialog(parent)
    , m_workbench(workbench)
    , m_index(new QComboBox)
    , m_current(new QRadioButton(tr("Current feature")))
    , m_labelled(new QRadioButton(tr("Every labelled feature")))
    , m_fromList(new QRadioButton(tr("Feature list")))
    , m_fromIds(new QRadioButton(tr("Features")))
    , m_all(new QRadioButton(tr("Every live feature, densest first, at most")))
    , m_list(new QComboBox)
    , m_ids(new QLineEdit)
    , m_limit(new QSpinBox)
    , m_detection(new QCheckBox(tr("Detection")))
    , m_fuzzing(new QCheckBox(tr("Fuzzing")))
    , m_simulation(new QCheckBox(tr("Simulation")))
    , m_intervention(new QCheckBox(tr("Intervention")))
    , m_backend(new QComboBox)
    , m_backendPages(new QStackedWidget)
    , m_endpoint(new QLineEdit)
    , m_llm(new QLineEdit)
    , m_keyVariable(new QLineEdit)
    , m_localModel(new QLineEdit)
    , m_concurrency(new QSpinBox)
    , m_batch(new QSpinBox)
    , m_error(new QLabel)
{
    setWindowTitle(tr("Explain Features"));
    setObjectName(QStringLiteral("explainDialog"));
    const ExplainSettings last = ExplainSettings::load();
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
    m_ids->setObjectName(QStringLiteral("explainIds"));
    m_ids->setPlaceholderText(tr("e.g. 3, 17, 40-49"));
    m_limit->setRange(1, 10'000'000);
    m_limit->setValue(100);
    (current.valid() ? m_current : m_fromIds)->setChecked(true);
    connect(m_list, &QComboBox::activated, m_fromList, [this] { m_fromList->setChecked(true); });
    connect(m_ids, &QLineEdit::textEdited, m_fromIds, [this] { m_fromIds->setChecked(true); });
    connect(m_limit, &QSpinBox::valueChanged, m_all, [this] { m_all->setChecked(true); });

    auto *which = new QGroupBox(tr("Which features"));
    auto *grid = new QGridLayout(which);
    grid->addWidget(m_current, 0, 0, 1, 2);
    grid->addWidget(m_labelled, 1, 0, 1, 2);
    grid->addWidget(m_fromList, 2, 0);
    grid->addWidget(m_list, 2, 1);
    grid->addWidget(m_fromIds, 3, 0);
    grid->addWidget(m_ids, 3, 1);
    grid->addWidget(m_all, 4, 0);
    grid->addWidget(m_limit, 4, 1);

    auto *scores = new QGroupBox(tr("Scores (delphi's definitions; see docs/autointerp.md)"));
    auto *scoreRow = new QHBoxLayout(scores);
    const std::pair<QCheckBox *, QString> boxes[] = { { m_detection, QStringLiteral("detection") },
        { m_fuzzing, QStringLiteral("fuzzing") }, { m_simulation, QStringLiteral("simulation") },
        { m_intervention, QStringLiteral("intervention") } };
    for (const auto &[box, name] : boxes) {
        box->setObjectName(QStringLiteral("score_") + name);
        box->setChecked(last.scorers.contains(name));
        scoreRow->addWidget(box);
    }
    m_detection->setToolTip(tr("Does the judge tell firing texts from silent ones?"));
    m_fuzzing->setToolTip(tr("Does the judge tell the real firing tokens from random ones?"));
    m_simulation->setToolTip(
        tr("Correlation of the judge's per-token predictions with the activations"));
    m_intervention->setToolTip(tr("Does the judge recognise the continuation written with the "
                                  "feature strengthened?"));

    m_backend->setObjectName(QStringLiteral("explainBackend"));
    m_backend->addItem(tr("OpenAI-compatible server"), QStringLiteral("openai"));
    m_backend->addItem(tr("Instruct model in-process"), QStringLiteral("local"));
    auto *server = new QWidget;
    auto *serverForm = new QFormLayout(server);
    serverForm->setContentsMargins(0, 0, 0, 0);
    m_endpoint->setObjectName(QStringLiteral("explainEndpoint"));
    m_endpoint->setText(last.endpoint);
    m_endpoint->setToolTip(tr("llama.cpp's server, vLLM, Ollama, LM Studio or a hosted API"));
    m_llm->setObjectName(QStringLiteral("explainModel"));
    m_llm->setText(last.llm);
    m_llm->setPlaceholderText(tr("the server's model name"));
    m_keyVariable->setText(last.keyVariable);
    m_keyVariable->setToolTip(tr("The environment variable holding the API key (empty or unset: "
                                 "none is sent). The key itself is never stored."));
    m_concurrency->setRange(1, 256);
    m_concurrency->setValue(last.concurrency);
    serverForm->addRow(tr("Endpoint"), m_endpoint);
    serverForm->addRow(tr("Model"), m_llm);
    serverForm->addRow(tr("Key variable"), m_keyVariable);
    serverForm->addRow(tr("Requests at once"), m_concurrency);
    auto *local = new QWidget;
    auto *localForm = new QFormLayout(local);
    localForm->setContentsMargins(0, 0, 0, 0);
    m_localModel->setText(last.localModel);
    m_localModel->setPlaceholderText(tr("Gemma 2/3 IT, Llama 3 Instruct or Qwen 2 Instruct"));
    auto *browse = new QToolButton;
    browse->setText(QStringLiteral("..."));
    connect(browse, &QToolButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            this, tr("Instruct model directory"), m_localModel->text());
        if (!dir.isEmpty())
            m_localModel->setText(dir);
    });
    auto *modelRow = new QHBoxLayout;
    modelRow->addWidget(m_localModel, 1);
    modelRow->addWidget(browse);
    m_batch->setRange(1, 256);
    m_batch->setValue(last.batch);
    localForm->addRow(tr("Model"), modelRow);
    localForm->addRow(tr("Batch"), m_batch);
    m_backendPages->addWidget(server);
    m_backendPages->addWidget(local);
    connect(m_backend, &QComboBox::currentIndexChanged, m_backendPages,
        &QStackedWidget::setCurrentIndex);
    m_backend->setCurrentIndex(last.backend == QLatin1String("local") ? 1 : 0);
    auto *llm = new QGroupBox(tr("Explainer and judge"));
    auto *llmLayout = new QVBoxLayout(llm);
    llmLayout->addWidget(m_backend);
    llmLayout->addWidget(m_backendPages);

    auto *form = new QFormLayout;
    form->addRow(tr("SAE"), m_index);
    m_error->setObjectName(QStringLiteral("explainError"));
    m_error->setStyleSheet(QStringLiteral("color: #c83c3c"));
    m_error->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Explain"));
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        if (start() > 0)
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(which);
    layout->addWidget(scores);
    layout->addWidget(llm);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    resize(560, sizeHint().height());
}

bool ExplainDialog::settings(ExplainSettings *out, QString *error) const
{
    ExplainSettings s;
    s.indexId = m_index->currentData().toLongLong();
    if (s.indexId <= 0) {
        *error = tr("The workspace has no finished index to explain.");
        return false;
    }
    if (m_current->isChecked()) {
        const FeatureRef current = m_workbench->current();
        if (!current.valid() || current.indexId != s.indexId) {
            *error = tr("The current feature belongs to another SAE.");
            return false;
        }
        s.scope = ExplainSettings::Scope::Current;
        s.feature = current.feature;
    } else if (m_labelled->isChecked()) {
        s.scope = ExplainSettings::Scope::Labelled;
    } else if (m_fromList->isChecked()) {
        s.scope = ExplainSettings::Scope::List;
        s.list = m_list->currentData().toString();
    } else if (m_fromIds->isChecked()) {
        s.scope = ExplainSettings::Scope::Ids;
        QString bad;
        if (!parseFeatureIds(m_ids->text(), &s.ids, &bad)) {
            *error = bad.isEmpty() ? tr("Type feature ids, e.g. 3, 17, 40-49.")
                                   : tr("'%1' is not a feature id or range.").arg(bad);
            return false;
        }
    } else {
        s.scope = ExplainSettings::Scope::AllLive;
        s.limit = m_limit->value();
    }
    s.scorers.clear();
    for (const auto &[box, name] : { std::pair { m_detection, "detection" },
             std::pair { m_fuzzing, "fuzzing" }, std::pair { m_simulation, "simulation" },
             std::pair { m_intervention, "intervention" } })
        if (box->isChecked())
            s.scorers << QString::fromLatin1(name);
    s.backend = m_backend->currentData().toString();
    s.endpoint = m_endpoint->text().trimmed();
    s.llm = m_llm->text().trimmed();
    s.keyVariable = m_keyVariable->text().trimmed();
    s.concurrency = m_concurrency->value();
    s.localModel = m_localModel->text().trimmed();
    s.batch = m_batch->value();
    if (s.backend == QLatin1String("openai") && (s.endpoint.isEmpty() || s.llm.isEmpty())) {
        *error = tr("Give the server's endpoint (e.g. http://127.0.0.1:8080/v1) and its model.");
        return false;
    }
    if (s.backend == QLatin1String("local") && s.localModel.isEmpty()) {
        *error = tr("Choose the instruct model's directory.");
        return false;
    }
    *out = s;
    return true;
}

int ExplainDialog::start()
{
    ExplainSettings s;
    QString error;
    if (!settings(&s, &error)) {
        m_error->setText(error);
        return 0;
    }
    s.save();
    return startExplainJob(m_workbench, s);
}

} // namespace fscope::ui
