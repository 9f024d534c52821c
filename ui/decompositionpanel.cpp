#include "ui/decompositionpanel.h"

#include "ui/decompositionresults.h"
#include "ui/jobrunner.h"

#include "core/model/model_cache.h"
#include "core/sae/sae_io.h"
#include "core/steer/decompose_job.h"
#include "core/steer/decomposition.h"
#include "core/steer/steering.h"
#include "core/steer/steering_vector.h"
#include "core/store/index_store.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>

namespace fscope::ui {

namespace {

// Methods run by default: those that need nothing but the vector and the SAE, plus the
// in-context difference (activations come from the index's corpus).
const QStringList kDefaultMethods
    = { "encode", "encode-minus-zero", "decoder-cosine", "mp", "omp", "nnls", "lasso" };

} // namespace

DecompositionPanel::DecompositionPanel(Workbench *workbench, QWidget *parent)
    : QWidget(parent)
    , m_workbench(workbench)
{
    auto *controls = new QWidget;
    auto *form = new QFormLayout(controls);
    form->setContentsMargins(0, 0, 0, 0);
    m_index = new QComboBox;
    m_index->setObjectName(QStringLiteral("decompositionSae"));
    m_index->setToolTip(
        tr("An indexed SAE: its model builds CAA vectors, its corpus supplies activations"));
    form->addRow(tr("SAE"), m_index);
    auto *vectorRow = new QHBoxLayout;
    m_vector = new QLineEdit;
    m_vector->setObjectName(QStringLiteral("decompositionVector"));
    m_vector->setPlaceholderText(tr("steering vector .npy / .safetensors"));
    auto *browse = new QPushButton(tr("..."));
    vectorRow->addWidget(m_vector);
    vectorRow->addWidget(browse);
    form->addRow(tr("Vector"), vectorRow);
    auto *pairsRow = new QHBoxLayout;
    m_pairs = new QLineEdit;
    m_pairs->setObjectName(QStringLiteral("decompositionPairs"));
    m_pairs->setPlaceholderText(tr("or prompt pairs .jsonl (CAA)"));
    auto *browsePairs = new QPushButton(tr("..."));
    m_position = new QComboBox;
    m_position->setObjectName(QStringLiteral("decompositionPosition"));
    m_position->addItem(tr("answer token"), QStringLiteral("answer"));
    m_position->addItem(tr("last token"), QStringLiteral("last"));
    m_position->addItem(tr("completion mean"), QStringLiteral("mean"));
    pairsRow->addWidget(m_pairs);
    pairsRow->addWidget(browsePairs);
    pairsRow->addWidget(m_position);
    form->addRow(tr("Pairs"), pairsRow);
    auto *grid = new QGridLayout;
    int i = 0;
    for (auto method : core::steer::allDecompositionMethods()) {
        const QString name = QString::fromStdString(core::steer::decompositionMethodName(method));
        auto *box = new QCheckBox(name);
        box->setObjectName(QStringLiteral("method-") + name);
        box->setChecked(kDefaultMethods.contains(name));
        if (core::steer::needsActivations(method))
            box->setToolTip(name == QLatin1String("contrastive")
                    ? tr("needs prompt pairs")
                    : tr("reads activations from the index's corpus"));
        grid->addWidget(box, i / 3, i % 3);
        m_methods.push_back(box);
        ++i;
    }
    form->addRow(tr("Methods"), grid);
    m_k = new QSpinBox;
    m_k->setObjectName(QStringLiteral("decompositionK"));
    m_k->setRange(1, 64);
    m_k->setValue(32);
    m_k->setToolTip(tr("Atoms for matching pursuit and OMP; terms of the re-steer rebuild"));
    form->addRow(tr("k"), m_k);
    auto *resteerRow = new QHBoxLayout;
    m_resteerPrompt = new QLineEdit;
    m_resteerPrompt->setObjectName(QStringLiteral("resteerPrompt"));
    m_resteerPrompt->setPlaceholderText(tr("prompt: steer with v and with each top-k rebuild"));
    m_strength = new QDoubleSpinBox;
    m_strength->setObjectName(QStringLiteral("resteerStrength"));
    m_strength->setRange(-1000, 1000);
    m_strength->setValue(1.0);
    m_strength->setToolTip(tr("Multiple of the vector added at every position"));
    m_target = new QLineEdit;
    m_target->setObjectName(QStringLiteral("resteerTarget"));
    m_target->setPlaceholderText(tr("target token"));
    m_target->setMaximumWidth(110);
    resteerRow->addWidget(m_resteerPrompt, 1);
    resteerRow->addWidget(m_strength);
    resteerRow->addWidget(m_target);
    form->addRow(tr("Re-steer"), resteerRow);
    auto *runButton = new QPushButton(tr("Decompose"));
    form->addRow(runButton);
    m_status = new QLabel(tr("Load a vector (or prompt pairs) and press Decompose."));
    m_status->setWordWrap(true);
    form->addRow(m_status);
    m_norms = new QLabel;
    m_norms->setWordWrap(true);
    form->addRow(m_norms);
    m_results = new DecompositionResults;

    auto *split = new QSplitter(Qt::Horizontal);
    split->addWidget(controls);
    split->addWidget(m_results);
    split->setStretchFactor(1, 4);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Steering vector"), {}, tr("Vectors (*.npy *.safetensors)"));
        if (!f.isEmpty())
            m_vector->setText(f);
    });
    connect(browsePairs, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(
            this, tr("Prompt pairs"), {}, tr("JSON lines (*.jsonl *.json)"));
        if (!f.isEmpty())
            m_pairs->setText(f);
    });
    connect(runButton, &QPushButton::clicked, this, &DecompositionPanel::run);
    connect(m_results, &DecompositionResults::openFeature, this, &DecompositionPanel::openFeature);
    connect(m_workbench, &Workbench::indexesChanged, this, &DecompositionPanel::reloadIndexes);
    reloadIndexes();
}

DecompositionPanel::~DecompositionPanel() = default;

const std::vector<core::steer::Decomposition> &DecompositionPanel::results() const
{
    return m_results->results();
}

void DecompositionPanel::setVectorFile(const QString &path)
{
    m_vector->setText(path);
}

void DecompositionPanel::setPairsFile(const QString &path)
{
    m_pairs->setText(path);
}

void DecompositionPanel::setMethods(const QStringList &names)
{
    for (QCheckBox *box : m_methods)
        box->setChecked(names.contains(box->text()));
}

void DecompositionPanel::selectMethod(const QString &name)
{
    m_results->selectMethod(name);
}

void DecompositionPanel::reloadIndexes()
{
    m_workbench->fillIndexChoice(m_index);
}

int DecompositionPanel::run()
{
    auto *db = m_workbench->database();
    const qint64 indexId = m_index->currentData().toLongLong();
    if (!db || indexId <= 0) {
        m_status->setText(
            tr("Index an SAE first: decompositions are read against an indexed SAE."));
        return 0;
    }
    auto info = core::store::indexInfo(*db, indexId);
    if (!info) {
        m_status->setText(QString::fromStdString(info.errorMessage()));
        return 0;
    }
    if (m_vector->text().isEmpty() && m_pairs->text().isEmpty()) {
        m_status->setText(tr("Choose a vector file or a prompt-pairs file."));
        return 0;
    }
    std::vector<core::steer::DecompositionMethod> methods;
    for (QCheckBox *box : m_methods)
        if (box->isChecked())
            if (auto m = core::steer::parseDecompositionMethod(box->text().toStdString()))
                methods.push_back(*m);
    if (methods.empty()) {
        m_status->setText(tr("Tick at least one method."));
        return 0;
    }
    // Activations from the index's own corpus (16 contexts), read here on the UI thread.
    std::vector<std::vector<int32_t>> contexts;
    for (int64_t c = 0; c < 16; ++c) {
        auto ids = core::store::loadContext(*db, info->corpusId, c);
        if (!ids || ids->empty())
            break;
        contexts.push_back(std::move(ids).value());
    }
    struct Inputs {
        std::string modelPath, saePath, hook, vectorPath, pairsPath, position, resteerPrompt,
            target, device, dtype;
        std::vector<std::vector<int32_t>> contexts;
        std::vector<core::steer::DecompositionMethod> methods;
        int64_t k = 32;
        double strength = 1;
    };
    auto in = std::make_shared<Inputs>();
    in->modelPath = info->modelPath;
    in->device = m_workbench->device().toStdString();
    in->dtype = m_workbench->dtype().toStdString();
    in->saePath = info->saePath;
    in->hook = info->hook;
    in->vectorPath = m_vector->text().toStdString();
    in->pairsPath = m_pairs->text().toStdString();
    in->position = m_position->currentData().toString().toStdString();
    in->contexts = std::move(contexts);
    in->methods = methods;
    in->k = m_k->value();
    in->resteerPrompt = m_resteerPrompt->text().toStdString();
    in->target = m_target->text().toStdString();
    in->strength = m_strength->value();
    auto out = std::make_shared<core::steer::DecomposeRun>();
    core::model::ModelCache *models = &m_workbench->models();
    // The workflow is core's (runDecomposition, shared with the CLI); this only gathers inputs.
    auto work = [in, out, models](core::jobs::Progress &progress,
                    core::store::Database *workspace) -> core::Result<std::string> {
        core::model::ModelCache::Model model;
        FS_TRY(model, models->model(in->modelPath, in->device, in->dtype, &progress));
        std::shared_ptr<core::sae::Sae> sae;
        FS_TRY(sae, models->sae(in->saePath, in->hook, model.decoder->device()));
        core::steer::DecomposeRequest request;
        request.sae = sae.get();
        request.decoder = model.decoder.get();
        request.tokenizer = model.tokenizer.get();
        request.vectorPath = in->vectorPath;
        request.pairsPath = in->pairsPath;
        request.position = in->position;
        request.methods = in->methods;
        request.skipUnavailable = true;
        request.options.k = in->k;
        request.resteerPrompt = in->resteerPrompt;
        request.target = in->target;
        request.strength = in->strength;
        if (!in->contexts.empty()) {
            std::vector<int64_t> flat;
            for (const auto &c : in->contexts)
                flat.insert(flat.end(), c.begin(), c.end());
            request.contexts
                = at::tensor(flat, at::kLong).reshape({ int64_t(in->contexts.size()), -1 });
        }
        FS_TRY(*out, core::steer::runDecomposition(workspace, request, &progress));
        const int64_t fromCache = std::count(out->cached.begin(), out->cached.end(), true);
        std::string skipped;
        for (auto m : out->skipped)
            skipped += (skipped.empty() ? "" : ", ") + core::steer::decompositionMethodName(m);
        return std::to_string(out->results.size()) + " decompositions"
            + (fromCache ? " (" + std::to_string(fromCache) + " from the workspace)"
                         : std::string())
            + (skipped.empty() ? "" : " (skipped for lack of inputs: " + skipped + ")");
    };
    m_status->setText(tr("Decomposing..."));
    return m_workbench->runner()->runOnWorkspace(tr("Decompose a steering vector"),
        m_workbench->workspacePath(), work, [this, out, indexId](const JobState &state) {
            if (!state.succeeded) {
                m_status->setText(state.outcome);
                return;
            }
            m_status->setText(state.outcome);
            m_results->showRun(indexId, out);
            m_norms->setText(m_results->normsText());
        });
}

} // namespace fscope::ui
