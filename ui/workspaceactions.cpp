#include "ui/workspaceactions.h"

#include "core/hub/hub_names.h"
#include "core/io/inspect.h"
#include "core/model/model_config.h"
#include "core/model/model_locator.h"
#include "core/sae/sae_io.h"
#include "core/store/database.h"
#include "core/tokenize/tokenizer.h"
#include "ui/hubsourcedialog.h"
#include "ui/jobrunner.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QKeySequence>
#include <QMessageBox>

namespace fscope::ui {

namespace {

const QString kWorkspaceFilter = QObject::tr("Featurescope workspaces (*.fsdb)");

// Window-modal and non-blocking: no nested event loop while jobs are running.
void showError(QWidget *parent, const QString &title, const QString &text)
{
    auto *box = new QMessageBox(QMessageBox::Warning, title, text, QMessageBox::Ok, parent);
    box->setObjectName(QStringLiteral("errorMessage"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

// A Hub name is shown whole (org/name, hf://org/repo/path); a path by its last part.
QString shownName(const QString &name)
{
    return core::hub::looksLikeRepoName(name.toStdString()) ? name : QFileInfo(name).fileName();
}

} // namespace

WorkspaceActions::WorkspaceActions(JobRunner *runner, QWidget *dialogParent)
    : QObject(dialogParent)
    , m_runner(runner)
    , m_dialogParent(dialogParent)
    , m_new(new QAction(tr("&New Workspace..."), this))
    , m_open(new QAction(tr("&Open Workspace..."), this))
    , m_openReadOnly(new QAction(tr("Open Workspace &Read-Only..."), this))
    , m_openModel(new QAction(tr("Open &Model..."), this))
    , m_addSae(new QAction(tr("Add &SAE..."), this))
{
    m_new->setObjectName(QStringLiteral("actionNewWorkspace"));
    m_open->setObjectName(QStringLiteral("actionOpenWorkspace"));
    m_openModel->setObjectName(QStringLiteral("actionOpenModel"));
    m_addSae->setObjectName(QStringLiteral("actionAddSae"));
    m_new->setShortcut(QKeySequence::New);
    m_open->setShortcut(QKeySequence::Open);
    m_openModel->setStatusTip(
        tr("Open a model: a folder saved by transformers, or a Hub name org/name[@revision]"));
    m_addSae->setStatusTip(tr("Add an SAE: a folder or params.npz on disk, an hf:// name, or "
                              "one SAE of a release (Gemma Scope, SAELens, sparsify)"));
    m_openModel->setToolTip(m_openModel->statusTip());
    m_addSae->setToolTip(m_addSae->statusTip());

    connect(m_new, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            m_dialogParent, tr("New Workspace"), QString(), kWorkspaceFilter);
        if (!path.isEmpty())
            openWorkspaceAt(path.endsWith(QLatin1String(".fsdb")) ? path : path + ".fsdb");
    });
    connect(m_open, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            m_dialogParent, tr("Open Workspace"), QString(), kWorkspaceFilter);
        if (!path.isEmpty())
            openWorkspaceAt(path);
    });
    m_openReadOnly->setStatusTip(
        tr("Browse a workspace without changing it: nothing is written to it, not even the "
           "session"));
    connect(m_openReadOnly, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            m_dialogParent, tr("Open Workspace Read-Only"), QString(), kWorkspaceFilter);
        if (!path.isEmpty())
            openWorkspaceAt(path, true);
    });
    // Window-modal dialogs opened with open(): the jobs keep running while they are up.
    auto ask = [this](HubSourceDialog::Kind kind) {
        auto *dialog = new HubSourceDialog(kind, m_runner, m_dialogParent);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(dialog, &QDialog::accepted, this, [this, dialog, kind] {
            if (kind == HubSourceDialog::Kind::Model)
                inspectModelAt(dialog->name());
            else
                inspectSaeAt(dialog->name());
        });
        dialog->open();
    };
    connect(m_openModel, &QAction::triggered, this, [ask] { ask(HubSourceDialog::Kind::Model); });
    connect(m_addSae, &QAction::triggered, this, [ask] { ask(HubSourceDialog::Kind::Sae); });
}

WorkspaceActions::~WorkspaceActions() = default;

QString WorkspaceActions::workspacePath() const
{
    return m_database ? QString::fromStdString(m_database->path()) : QString();
}

int WorkspaceActions::openWorkspaceAt(const QString &path, bool readOnly)
{
    auto opened = std::make_shared<std::unique_ptr<core::store::Database>>();
    const int id = m_runner->run(
        tr("Open workspace %1").arg(QFileInfo(path).fileName()),
        [opened, file = path.toStdString(),
            mode = readOnly ? core::store::Database::Mode::ReadOnly
                            : core::store::Database::Mode::ReadWrite](
            core::jobs::Progress &progress) -> core::Result<std::string> {
            progress.begin(0, "Opening " + file);
            auto db = core::store::Database::open(file, mode);
            if (!db)
                return db.error();
            *opened = std::move(db).value();
            return "Opened " + file + ((*opened)->readOnly() ? " read-only" : "")
                + " (schema version " + std::to_string((*opened)->schemaVersion()) + ")";
        },
        [this, opened, path](const JobState &job) {
            if (job.succeeded && *opened) {
                if (m_database)
                    Q_EMIT aboutToChangeWorkspace();
                m_database = std::move(*opened);
                m_runner->setReadOnlyWorkspace(m_database->readOnly() ? path : QString());
                Q_EMIT workspaceChanged(path);
                Q_EMIT message(job.outcome);
            } else {
                // The workspace open before stays open.
                showError(m_dialogParent, tr("Cannot open workspace"), job.outcome);
            }
        });
    return id;
}

int WorkspaceActions::inspectModelAt(const QString &path)
{
    // Reads and validates the model's config, weights' headers and tokenizer, and says what
    // it found; the model itself is loaded by the panels that run it.
    return m_runner->run(
        tr("Read model %1").arg(shownName(path)),
        [name = path.toStdString()](core::jobs::Progress &progress) -> core::Result<std::string> {
            // A Hub name is downloaded into the cache first (progress with rate and ETA).
            std::string file;
            FS_TRY(file, core::hub::resolveModelName(name, &progress));
            FS_TRY(file, core::model::resolveModelPath(file)); // a cached org/name: its snapshot
            progress.begin(0, "Reading " + file);
            auto config = core::model::readModelConfig(file);
            if (!config)
                return config.error();
            auto report = core::io::inspectFile(file);
            if (!report)
                return report.error();
            auto tokenizer = core::tokenize::loadTokenizer(file);
            return "Model " + config->familyName() + ": " + std::to_string(config->layers)
                + " layers, d_model " + std::to_string(config->hidden) + ", vocabulary "
                + std::to_string(config->vocabSize) + ", " + std::to_string(report->tensors.size())
                + " tensors"
                + (tokenizer ? "" : " (no usable tokenizer: " + tokenizer.errorMessage() + ")");
        },
        [this](const JobState &job) { reportOutcome(job, tr("Cannot open model")); });
}

int WorkspaceActions::inspectSaeAt(const QString &path)
{
    return m_runner->run(
        tr("Read SAE %1").arg(shownName(path)),
        [name = path.toStdString()](core::jobs::Progress &progress) -> core::Result<std::string> {
            std::string file;
            FS_TRY(file, core::hub::resolveSaeName(name, &progress));
            progress.begin(0, "Reading " + file);
            auto info = core::sae::describeDictionary(file, {});
            if (!info)
                return info.error();
            const auto &c = info->config;
            std::string text = core::sae::architectureName(c.architecture) + " "
                + core::sae::kindName(c.kind) + " (" + c.sourceFormat
                + "): " + std::to_string(c.dSae) + " features on " + c.hookName + ", d_in "
                + std::to_string(c.dIn);
            if (c.readsSeveralHooks())
                text += ", reading and writing " + std::to_string(c.hooksIn.size()) + " hooks ("
                    + c.hooksIn.front() + " to " + c.hooksIn.back() + "), "
                    + std::to_string(c.hookWidth()) + " wide each";
            else if (c.writesElsewhere())
                text += ", writes " + c.outputHook()
                    + (c.hooksOut.size() > 1
                            ? " and " + std::to_string(c.hooksOut.size() - 1) + " later layers"
                            : std::string());
            if (info->layers > 1)
                text += "; " + std::to_string(info->layers) + " layers (" + file + "#layer=L)";
            if (file != name)
                text += "; in the Hugging Face cache at " + file;
            return text;
        },
        [this](const JobState &job) { reportOutcome(job, tr("Cannot open SAE")); });
}

void WorkspaceActions::reportOutcome(const JobState &job, const QString &failureTitle)
{
    if (job.succeeded)
        Q_EMIT message(job.outcome);
    else
        showError(m_dialogParent, failureTitle, job.outcome);
}

} // namespace fscope::ui
