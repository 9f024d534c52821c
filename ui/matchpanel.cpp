#include "ui/matchpanel.h"

#include "ui/jobrunner.h"
#include "ui/matchresults.h"
#include "ui/plotstyle.h"
#include "ui/qcustomplot_include.h"

#include "core/corpus/corpus.h"
#include "core/match/match_series.h"
#include "core/model/hooks.h"
#include "core/model/model_cache.h"
#include "core/store/index_store.h"
#include "core/util/device_memory.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

#include <cmath>
#include <map>

namespace fscope::ui {

MatchPanel::MatchPanel(Workbench *workbench, QWidget *parent)
    : QWidget(parent)
    , m_workbench(workbench)
{
    auto *controls = new QWidget;
    auto *form = new QVBoxLayout(controls);
    form->setContentsMargins(0, 0, 0, 0);
    form->addWidget(new QLabel(tr("SAEs, one per layer, in layer order:")));
    m_saes = new QListWidget;
    m_saes->setObjectName(QStringLiteral("matchSaes"));
    m_saes->setMinimumHeight(80);
    form->addWidget(m_saes, 1);
    auto *buttons = new QHBoxLayout;
    auto *fromWorkspace = new QPushButton(tr("Workspace SAEs"));
    fromWorkspace->setToolTip(tr("The SAEs this workspace has indexed, ordered by layer"));
    auto *add = new QPushButton(tr("Add..."));
    auto *clear = new QPushButton(tr("Clear"));
    buttons->addWidget(fromWorkspace);
    buttons->addWidget(add);
    buttons->addWidget(clear);
    form->addLayout(buttons);
    m_fold = new QCheckBox(tr("Fold JumpReLU thresholds (the paper's method)"));
    m_fold->setObjectName(QStringLiteral("matchFold"));
    m_fold->setChecked(true);
    form->addWidget(m_fold);
    m_cost = new QComboBox;
    m_cost->setObjectName(QStringLiteral("matchCost"));
    for (const char *c : { "decoder", "all", "encoder", "cosine" })
        m_cost->addItem(QString::fromLatin1(c), QString::fromLatin1(c));
    m_solver = new QComboBox;
    m_solver->setObjectName(QStringLiteral("matchSolver"));
    m_solver->addItem(tr("Exact (automatic)"), QStringLiteral("auto"));
    m_solver->addItem(tr("Exact, dense matrix"), QStringLiteral("dense"));
    m_solver->addItem(tr("Exact, priced blocks"), QStringLiteral("priced"));
    m_solver->addItem(tr("Approximate, gap reported"), QStringLiteral("approximate"));
    m_solver->setToolTip(
        tr("Automatic: the dense solver on a CPU, the priced one on a GPU or when the matrix would "
           "not fit in memory. Both prove the optimum. Approximate: nearest candidates only, with "
           "its distance to the optimum bounded by one pricing pass."));
    auto *costRow = new QFormLayout;
    costRow->addRow(tr("Cost"), m_cost);
    costRow->addRow(tr("Solver"), m_solver);
    form->addLayout(costRow);
    m_evaluate = new QCheckBox(tr("Hidden-state approximation (the index's model)"));
    m_evaluate->setObjectName(QStringLiteral("matchEvaluate"));
    m_evaluate->setToolTip(
        tr("Decode layer A's permuted code with B's SAE, splice it in at B's hook and report EV, "
           "delta CE and KL on 16 contexts of an indexed corpus, against unfolded and unmatched "
           "permutations"));
    form->addWidget(m_evaluate);
    auto *runButton = new QPushButton(tr("Match"));
    runButton->setObjectName(QStringLiteral("matchRun"));
    form->addWidget(runButton);
    m_status = new QLabel(tr("Choose two or more SAEs and press Match."));
    m_status->setWordWrap(true);
    form->addWidget(m_status);

    m_results = new MatchResults(m_workbench);

    auto *split = new QSplitter(Qt::Horizontal);
    split->addWidget(controls);
    split->addWidget(m_results);
    split->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(split);

    connect(fromWorkspace, &QPushButton::clicked, this, &MatchPanel::useWorkspaceSaes);
    connect(add, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Add an SAE directory"));
        if (!dir.isEmpty())
            m_saes->addItem(dir);
    });
    connect(clear, &QPushButton::clicked, m_saes, &QListWidget::clear);
    connect(runButton, &QPushButton::clicked, this, &MatchPanel::run);
    connect(m_workbench, &Workbench::indexesChanged, this, [this] {
        if (m_saes->count() == 0)
            useWorkspaceSaes();
    });
    useWorkspaceSaes();
}

MatchPanel::~MatchPanel() = default;

void MatchPanel::setSaePaths(const QStringList &paths)
{
    m_saes->clear();
    m_saes->addItems(paths);
}

QStringList MatchPanel::saePaths() const
{
    QStringList out;
    for (int i = 0; i < m_saes->count(); ++i)
        out << m_saes->item(i)->text();
    return out;
}

void MatchPanel::useWorkspaceSaes()
{
    auto *db = m_workbench->database();
    if (!db)
        return;
    auto list = core::store::listIndexes(*db);
    if (!list)
        return;
    std::map<std::pair<int64_t, std::string>, bool> byLayer; // layer, path
    for (const auto &info : *list)
        if (info.status == "done")
            byLayer[{ info.layer, info.saePath }] = true;
    QStringList paths;
    for (const auto &[key, unused] : byLayer)
        paths << QString::fromStdString(key.second);
    if (paths.size() >= 2)
        setSaePaths(paths);
}

int MatchPanel::run()
{
    const QStringList paths = saePaths();
    if (paths.size() < 2) {
        m_status->setText(tr("Matching needs two or more SAEs."));
        return 0;
    }
    auto request = std::make_shared<core::match::MatchSeriesRequest>();
    for (const QString &p : paths)
        request->saePaths.push_back(p.toStdString());
    request->options.fold = m_fold->isChecked();
    request->device = m_workbench->device().toStdString();
    const std::string dtype = m_workbench->dtype().toStdString();
    if (auto cost = core::match::parseMatchCost(m_cost->currentData().toString().toStdString()))
        request->options.cost = *cost;
    if (auto solver
        = core::match::parseMatchSolver(m_solver->currentData().toString().toStdString()))
        request->options.solver = *solver;
    auto out = std::make_shared<core::match::MatchSeries>();
    core::store::Database *db = m_workbench->database();
    std::string modelPath;
    std::vector<int64_t> contextIds;
    int64_t contextLength = 0;
    if (m_evaluate->isChecked()) {
        // The model and 16 contexts of the first finished index (read here, on the UI thread).
        if (db)
            if (auto list = core::store::listIndexes(*db))
                for (const auto &info : *list)
                    if (info.status == "done") {
                        modelPath = info.modelPath;
                        for (int64_t c = 0; c < 16; ++c) {
                            auto ids = core::store::loadContext(*db, info.corpusId, c);
                            if (!ids || ids->empty())
                                break;
                            contextLength = int64_t(ids->size());
                            contextIds.insert(contextIds.end(), ids->begin(), ids->end());
                        }
                        break;
                    }
        if (modelPath.empty() || contextIds.empty()) {
            m_status->setText(tr("The hidden-state approximation needs an index in this workspace "
                                 "(its model and corpus)."));
            return 0;
        }
    }
    core::model::ModelCache *models = &m_workbench->models();
    auto work = [request, out, modelPath, contextIds, contextLength, models, dtype](
                    core::jobs::Progress &progress,
                    core::store::Database *workspace) -> core::Result<std::string> {
        core::model::ModelCache::Model model;
        // The SAEs' costs and solvers run on the chosen device in float32.
        at::Device device = at::kCPU;
        FS_TRY(device, core::model::resolveDevice(request->device));
        progress.setDevice(core::util::deviceLabel(device, at::kFloat));
        if (!modelPath.empty()) {
            FS_TRY(model, models->model(modelPath, request->device, dtype, &progress));
            request->decoder = model.decoder.get();
            FS_TRY(request->modelFingerprint, core::store::fingerprintModel(modelPath));
            request->contexts = at::tensor(contextIds, at::kLong).reshape({ -1, contextLength });
            request->specialTokens = core::corpus::specialTokens(*model.tokenizer);
        }
        core::match::MatchSeries s;
        FS_TRY(s, core::match::runMatchSeriesCached(workspace, *request, &progress));
        *out = std::move(s);
        return std::string(out->cached ? "from the workspace" : "matched");
    };
    m_status->setText(tr("Matching %1 SAEs...").arg(paths.size()));
    return m_workbench->runner()->runOnWorkspace(tr("SAE Match over %1 SAEs").arg(paths.size()),
        m_workbench->workspacePath(), work, [this, out](const JobState &state) {
            if (!state.succeeded) {
                m_status->setText(state.outcome);
                return;
            }
            m_status->setText(m_results->showSeries(out));
        });
}

const core::match::MatchSeries *MatchPanel::result() const
{
    return m_results->series();
}

void MatchPanel::showChain(int layer, qint64 feature)
{
    m_results->showChain(layer, feature);
}

} // namespace fscope::ui
