#include "ui/indexdialog.h"

#include "ui/computestatus.h"
#include "ui/hubsourcedialog.h"

#include "core/corpus/corpus.h"
#include "core/model/model_locator.h"
#include "core/sae/sae_io.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

namespace fscope::ui {

IndexDialog::IndexDialog(JobRunner *runner, QWidget *parent)
    : QDialog(parent)
    , m_model(new QComboBox(this))
    , m_saes(new QListWidget(this))
    , m_corpus(new QLineEdit(this))
    , m_tokens(new QLineEdit(this))
    , m_context(new QSpinBox(this))
    , m_batch(new QSpinBox(this))
    , m_device(new QComboBox(this))
    , m_dtype(new QComboBox(this))
    , m_split(new QComboBox(this))
{
    setObjectName(QStringLiteral("indexDialog"));
    setWindowTitle(tr("Index Corpus"));
    m_model->setEditable(true);
    m_model->setObjectName(QStringLiteral("indexModel"));
    m_model->setToolTip(tr("A model directory, a model in the Hugging Face cache, or a Hub name "
                           "org/name[@revision] (downloaded into the cache first)"));
    for (const auto &cached : core::model::listCachedModels())
        m_model->addItem(QString::fromStdString(cached.repoId));
    m_model->setCurrentText(QString());
    auto *browseModel = new QPushButton(tr("Browse..."), this);
    m_saes->setObjectName(QStringLiteral("indexSaes"));
    m_saes->setMinimumHeight(m_saes->fontMetrics().height() * 6); // grows with the dialog
    auto *addSae = new QPushButton(tr("Add SAE..."), this);
    auto *hubSae = new QPushButton(tr("From the Hub..."), this);
    hubSae->setToolTip(tr("An SAE folder of a Hub repository, hf://org/repo/path[@revision], "
                          "downloaded into the Hugging Face cache when the index starts"));
    auto *folderSae = new QPushButton(tr("Add Folder..."), this);
    folderSae->setToolTip(tr("Every SAE in a folder and below it, e.g. all the layers of a "
                             "downloaded release: indexed together in one pass"));
    auto *removeSae = new QPushButton(tr("Remove"), this);
    m_corpus->setObjectName(QStringLiteral("indexCorpus"));
    m_corpus->setPlaceholderText(tr("text / JSONL file, or a directory of them"));
    auto *browseCorpus = new QPushButton(tr("File..."), this);
    auto *browseCorpusDir = new QPushButton(tr("Folder..."), this);
    m_tokens->setObjectName(QStringLiteral("indexTokens"));
    m_tokens->setText(QStringLiteral("1M"));
    m_tokens->setToolTip(tr("Token budget, e.g. 100k, 3M"));
    m_context->setRange(8, 8192);
    m_context->setValue(128);
    m_batch->setRange(0, 1024);
    m_batch->setSpecialValueText(tr("auto"));
    m_batch->setValue(8);
    m_batch->setToolTip(tr("Contexts per forward pass; auto: the largest the device holds (8 on "
                           "a CPU). A batch that runs out of device memory is halved and "
                           "retried."));
    m_device->setObjectName(QStringLiteral("indexDevice"));
    m_dtype->setObjectName(QStringLiteral("indexDtype"));
    ComputeStatus::fillDeviceChoice(m_device);
    ComputeStatus::fillDtypeChoice(m_dtype);
    m_split->addItems({ tr("one document per line"), tr("one document per file") });

    auto row = [this](QWidget *main, std::initializer_list<QWidget *> extra) {
        auto *w = new QWidget(this);
        auto *l = new QHBoxLayout(w);
        l->setContentsMargins(0, 0, 0, 0);
        l->addWidget(main, 1);
        for (QWidget *e : extra)
            l->addWidget(e);
        return w;
    };
    auto *saeButtons = new QWidget(this);
    auto *saeButtonLayout = new QVBoxLayout(saeButtons);
    saeButtonLayout->setContentsMargins(0, 0, 0, 0);
    saeButtonLayout->addWidget(addSae);
    saeButtonLayout->addWidget(folderSae);
    saeButtonLayout->addWidget(hubSae);
    saeButtonLayout->addWidget(removeSae);
    saeButtonLayout->addStretch();

    auto *form = new QFormLayout;
    form->addRow(tr("Model:"), row(m_model, { browseModel }));
    form->addRow(tr("SAEs:"), row(m_saes, { saeButtons }));
    form->addRow(tr("Corpus:"), row(m_corpus, { browseCorpus, browseCorpusDir }));
    form->addRow(tr("Text files:"), m_split);
    form->addRow(tr("Tokens:"), m_tokens);
    form->addRow(tr("Context length:"), m_context);
    form->addRow(tr("Batch size:"), m_batch);
    form->addRow(tr("Device:"), row(m_device, { m_dtype }));
    auto *note = new QLabel(
        tr("One pass over the corpus feeds every SAE. Results are cached in the workspace: "
           "indexing the same inputs again is instant, and a cancelled run resumes."),
        this);
    note->setWordWrap(true);
    auto *problemLabel = new QLabel(this);
    problemLabel->setObjectName(QStringLiteral("indexProblem"));
    QPalette warn = problemLabel->palette();
    warn.setColor(QPalette::WindowText, QColor(200, 60, 60));
    problemLabel->setPalette(warn);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Index"));
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(problemLabel);
    layout->addWidget(buttons);

    connect(browseModel, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Model Directory"));
        if (!dir.isEmpty())
            m_model->setCurrentText(dir);
    });
    hubSae->setVisible(runner != nullptr);
    connect(hubSae, &QPushButton::clicked, this, [this, runner] {
        // hf:// names or one SAE of a release; downloaded when the index starts.
        auto *dialog = new HubSourceDialog(HubSourceDialog::Kind::Sae, runner, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &QDialog::accepted, this, [this, dialog] {
            if (!dialog->name().isEmpty())
                m_saes->addItem(dialog->name());
        });
        dialog->open();
    });
    connect(addSae, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Add SAE"), QString(),
            tr("Dictionary files (cfg.json config.json config.yaml params.npz *.safetensors)"));
        if (path.isEmpty())
            return;
        const QFileInfo info(path);
        if (info.suffix() == QLatin1String("npz")
            || info.fileName().startsWith(QLatin1String("layer_"))) {
            m_saes->addItem(path); // a file that is one dictionary
            return;
        }
        // A folder: one dictionary, or one per layer (a CLT lists each layer, DIR#layer=L).
        auto found = core::sae::findSaes(info.absolutePath().toStdString());
        if (!found) {
            QMessageBox::warning(
                this, tr("No SAE found"), QString::fromStdString(found.errorMessage()));
            return;
        }
        for (const auto &p : *found)
            m_saes->addItem(QString::fromStdString(p));
    });
    connect(folderSae, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder of SAEs"));
        if (dir.isEmpty())
            return;
        auto found = core::sae::findSaes(dir.toStdString());
        if (!found) {
            QMessageBox::warning(
                this, tr("No SAE found"), QString::fromStdString(found.errorMessage()));
            return;
        }
        for (const auto &path : *found)
            m_saes->addItem(QString::fromStdString(path));
    });
    connect(removeSae, &QPushButton::clicked, this, [this] { delete m_saes->currentItem(); });
    connect(browseCorpus, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("Corpus File"), QString(),
            tr("Text or JSONL (*.txt *.text *.md *.jsonl *.ndjson);;All files (*)"));
        if (!f.isEmpty())
            m_corpus->setText(f);
    });
    connect(browseCorpusDir, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Corpus Folder"));
        if (!d.isEmpty())
            m_corpus->setText(d);
    });
    connect(buttons, &QDialogButtonBox::accepted, this, [this, problemLabel] {
        problemLabel->setText(problem());
        if (problem().isEmpty())
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

void IndexDialog::setCompute(const QString &device, const QString &dtype)
{
    ComputeStatus::selectChoice(m_device, device);
    ComputeStatus::selectChoice(m_dtype, dtype);
}

IndexSettings IndexDialog::settings() const
{
    IndexSettings s;
    s.model = m_model->currentText().trimmed();
    for (int i = 0; i < m_saes->count(); ++i)
        s.saes << m_saes->item(i)->text();
    if (!m_corpus->text().trimmed().isEmpty())
        s.corpus << m_corpus->text().trimmed();
    s.tokens = m_tokens->text().trimmed();
    s.contextLength = m_context->value();
    s.batchSize = m_batch->value();
    s.device = m_device->currentData().toString();
    s.dtype = m_dtype->currentData().toString();
    s.wholeFiles = m_split->currentIndex() == 1;
    return s;
}

QString IndexDialog::problem() const
{
    const IndexSettings s = settings();
    if (s.model.isEmpty())
        return tr("Choose a model.");
    if (s.saes.isEmpty())
        return tr("Add at least one SAE.");
    if (s.corpus.isEmpty())
        return tr("Choose a corpus.");
    if (auto n = core::corpus::parseTokenCount(s.tokens.toStdString()); !n)
        return QString::fromStdString(n.errorMessage());
    return {};
}

} // namespace fscope::ui
