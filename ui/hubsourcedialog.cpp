#include "ui/hubsourcedialog.h"

#include "core/hub/sae_release.h"
#include "core/model/model_locator.h"
#include "ui/jobrunner.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace fscope::ui {

namespace {

constexpr int kLevels = 4; // site, layer, width, L0

QString entryValue(const core::hub::ReleaseEntry &e, int level)
{
    switch (level) {
    case 0:
        return QString::fromStdString(e.site);
    case 1:
        return e.layer < 0 ? QString() : QString::number(e.layer);
    case 2:
        return QString::fromStdString(e.width);
    default:
        // A folder whose name says none of the four (a hand-made repository) is told apart by
        // its path.
        if (e.site.empty() && e.layer < 0 && e.width.empty() && e.l0.empty())
            return QString::fromStdString(e.path);
        return QString::fromStdString(e.l0)
            + (e.variant.empty() ? QString()
                                 : QStringLiteral(" (%1)").arg(QString::fromStdString(e.variant)));
    }
}

} // namespace

HubSourceDialog::HubSourceDialog(Kind kind, JobRunner *runner, QWidget *parent)
    : QDialog(parent)
    , m_kind(kind)
    , m_runner(runner)
    , m_name(new QLineEdit(this))
{
    const bool sae = kind == Kind::Sae;
    setWindowTitle(sae ? tr("Add SAE") : tr("Open Model"));
    setObjectName(sae ? QStringLiteral("hubSaeDialog") : QStringLiteral("hubModelDialog"));
    m_name->setObjectName(QStringLiteral("hubName"));
    m_name->setMinimumWidth(m_name->fontMetrics().averageCharWidth() * 64);
    m_name->setPlaceholderText(sae
            ? tr("a folder or file on disk, or hf://org/repo/path[@revision]")
            : tr("a folder on disk, or a Hub name org/name[@revision]"));
    auto *browse = new QPushButton(sae ? tr("File...") : tr("Folder..."), this);
    auto *nameRow = new QHBoxLayout;
    nameRow->addWidget(m_name, 1);
    nameRow->addWidget(browse);
    auto *folder = sae ? new QPushButton(tr("Folder..."), this) : nullptr;
    if (folder)
        nameRow->addWidget(folder);

    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(sae
            ? tr("An SAE folder (SAELens, Gemma Scope 1/2, sparsify, circuit-tracer, ITDA), a "
                 "Gemma Scope params.npz, or a folder of a Hub repository. Hub names are "
                 "downloaded into the Hugging Face cache (shared with the Python tools); "
                 "progress shows in the Jobs panel.")
            : tr("A model folder saved by transformers (config.json, tokenizer, safetensors), a "
                 "model already in the Hugging Face cache, or a Hub name such as "
                 "google/gemma-2-2b, downloaded into the cache with progress in the Jobs "
                 "panel. Only safetensors are fetched, never pickles."),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    layout->addLayout(nameRow);

    if (!sae) {
        // Models already in the cache, one click away.
        auto *cached = new QComboBox(this);
        cached->setObjectName(QStringLiteral("hubCachedModels"));
        cached->addItem(tr("In the Hugging Face cache..."));
        for (const auto &m : core::model::listCachedModels())
            cached->addItem(QString::fromStdString(m.repoId));
        cached->setEnabled(cached->count() > 1);
        layout->addWidget(cached);
        connect(cached, &QComboBox::activated, this, [this, cached](int index) {
            if (index > 0)
                m_name->setText(cached->itemText(index));
        });
    } else {
        auto *group = new QGroupBox(tr("SAE release"), this);
        m_repo = new QLineEdit(group);
        m_repo->setObjectName(QStringLiteral("hubReleaseRepo"));
        m_repo->setPlaceholderText(QStringLiteral("google/gemma-scope-2b-pt-res"));
        m_repo->setToolTip(tr("A Hub repository of SAEs (org/name[@revision]); its file listing "
                              "says which sites, layers, widths and L0s it holds"));
        m_list = new QPushButton(tr("List"), group);
        m_list->setObjectName(QStringLiteral("hubReleaseList"));
        auto *repoRow = new QHBoxLayout;
        repoRow->addWidget(m_repo, 1);
        repoRow->addWidget(m_list);
        m_site = new QComboBox(group);
        m_layer = new QComboBox(group);
        m_width = new QComboBox(group);
        m_l0 = new QComboBox(group);
        QComboBox *boxes[kLevels] = { m_site, m_layer, m_width, m_l0 };
        const char *names[kLevels] = { "hubSite", "hubLayer", "hubWidth", "hubL0" };
        for (int level = 0; level < kLevels; ++level) {
            QComboBox *box = boxes[level];
            box->setObjectName(QString::fromLatin1(names[level]));
            box->setEnabled(false);
            box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
            connect(box, &QComboBox::currentIndexChanged, this,
                [this, level](int) { choiceChanged(level); });
        }
        auto *choices = new QHBoxLayout;
        const QString labels[kLevels] = { tr("Site:"), tr("Layer:"), tr("Width:"), tr("L0:") };
        for (int level = 0; level < kLevels; ++level) {
            choices->addWidget(new QLabel(labels[level], group));
            choices->addWidget(boxes[level], level == 0 ? 2 : 1);
        }
        m_releaseStatus = new QLabel(tr("List a release to choose from its SAEs."), group);
        m_releaseStatus->setObjectName(QStringLiteral("hubReleaseStatus"));
        m_releaseStatus->setWordWrap(true);
        m_releaseStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
        auto *groupLayout = new QVBoxLayout(group);
        groupLayout->addLayout(repoRow);
        groupLayout->addLayout(choices);
        groupLayout->addWidget(m_releaseStatus);
        layout->addWidget(group);
        connect(m_list, &QPushButton::clicked, this, [this] { listRelease(m_repo->text()); });
        connect(m_repo, &QLineEdit::returnPressed, this, [this] { listRelease(m_repo->text()); });
    }

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(sae ? tr("Add") : tr("Open"));
    buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
    layout->addStretch();
    layout->addWidget(buttons);
    connect(m_name, &QLineEdit::textChanged, this, [buttons](const QString &text) {
        buttons->button(QDialogButtonBox::Ok)->setEnabled(!text.trimmed().isEmpty());
    });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(browse, &QPushButton::clicked, this, [this, sae] {
        const QString path = sae ? QFileDialog::getOpenFileName(this, tr("SAE File"), QString(),
                                 tr("Dictionary files (cfg.json config.json config.yaml params.npz "
                                    "*.safetensors);;All files (*)"))
                                 : QFileDialog::getExistingDirectory(this, tr("Model Directory"));
        if (path.isEmpty())
            return;
        const QFileInfo info(path);
        // Most dictionaries are folders; a params.npz or a layer_{i}.safetensors is one file.
        const bool file = !sae || info.suffix() == QLatin1String("npz")
            || info.fileName().startsWith(QLatin1String("layer_"));
        m_name->setText(file ? path : info.absolutePath());
    });
    if (folder)
        connect(folder, &QPushButton::clicked, this, [this] {
            const QString dir = QFileDialog::getExistingDirectory(this, tr("SAE Folder"));
            if (!dir.isEmpty())
                m_name->setText(dir);
        });
}

HubSourceDialog::~HubSourceDialog() = default;

QString HubSourceDialog::name() const
{
    return m_name->text().trimmed();
}

void HubSourceDialog::setName(const QString &name)
{
    m_name->setText(name);
}

int HubSourceDialog::listRelease(const QString &repo)
{
    if (m_kind != Kind::Sae || repo.trimmed().isEmpty())
        return 0;
    m_list->setEnabled(false);
    m_releaseStatus->setText(tr("Listing %1...").arg(repo.trimmed()));
    auto listed = std::make_shared<core::hub::SaeRelease>();
    return m_runner->run(
        tr("List SAE release %1").arg(repo.trimmed()),
        [listed, name = repo.trimmed().toStdString()](
            core::jobs::Progress &progress) -> core::Result<std::string> {
            progress.begin(0, "Listing " + name);
            auto release = core::hub::listRelease(name);
            if (!release)
                return release.error();
            *listed = std::move(release).value();
            return std::to_string(listed->entries.size()) + " SAEs in " + listed->repo;
        },
        [this, listed](const JobState &job) {
            m_list->setEnabled(true);
            if (!job.succeeded) {
                m_release.reset();
                for (auto *box : { m_site, m_layer, m_width, m_l0 }) {
                    box->clear();
                    box->setEnabled(false);
                }
                m_releaseStatus->setText(job.outcome);
                Q_EMIT releaseListed(0);
                return;
            }
            m_release = listed;
            fillChoice(m_site, 0);
            Q_EMIT releaseListed(static_cast<int>(listed->entries.size()));
        });
}

int HubSourceDialog::matchingEntries() const
{
    if (!m_release)
        return 0;
    const QComboBox *boxes[kLevels] = { m_site, m_layer, m_width, m_l0 };
    int n = 0;
    for (const auto &e : m_release->entries) {
        bool match = true;
        for (int level = 0; level < kLevels && match; ++level)
            match = entryValue(e, level) == boxes[level]->currentData().toString();
        n += match;
    }
    return n;
}

// The choices at `level` are those of the entries that match every choice above it, so each
// combination offered exists in the release.
void HubSourceDialog::fillChoice(QComboBox *box, int level)
{
    const QComboBox *boxes[kLevels] = { m_site, m_layer, m_width, m_l0 };
    QStringList values;
    for (const auto &e : m_release->entries) {
        bool match = true;
        for (int above = 0; above < level && match; ++above)
            match = entryValue(e, above) == boxes[above]->currentData().toString();
        if (match && !values.contains(entryValue(e, level)))
            values << entryValue(e, level);
    }
    {
        const QSignalBlocker block(box);
        box->clear();
        for (const QString &v : values)
            box->addItem(v.isEmpty() ? QStringLiteral("—") : v, v);
        // A level the release does not vary (Gemma Scope 1 names no site) stays greyed.
        box->setEnabled(values.size() > 1);
        box->setCurrentIndex(0);
    }
    choiceChanged(level);
}

void HubSourceDialog::choiceChanged(int level)
{
    if (!m_release)
        return;
    QComboBox *boxes[kLevels] = { m_site, m_layer, m_width, m_l0 };
    if (level + 1 < kLevels) {
        fillChoice(boxes[level + 1], level + 1);
        return;
    }
    for (const auto &e : m_release->entries) {
        bool match = true;
        for (int l = 0; l < kLevels && match; ++l)
            match = entryValue(e, l) == boxes[l]->currentData().toString();
        if (match) {
            const QString entryName
                = QString::fromStdString(core::hub::releaseEntryName(*m_release, e));
            m_name->setText(entryName);
            // The chosen folder is the name above; the status says what was listed.
            m_releaseStatus->setText(tr("%1 SAEs in %2 (commit %3)%4")
                                         .arg(m_release->entries.size())
                                         .arg(QString::fromStdString(m_release->repo),
                                             QString::fromStdString(m_release->commit.substr(0, 7)),
                                             m_release->fromCache ? tr(
                                                 "; offline: only the folders already in the cache")
                                                                  : QString()));
            return;
        }
    }
}

} // namespace fscope::ui
