#include "ui/featurebrowser.h"

#include "core/store/database.h"
#include "core/store/feature_lists.h"
#include "core/store/index_store.h"
#include "core/store/interp_store.h"
#include "ui/featuretablemodel.h"
#include "ui/jobrunner.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QShortcut>
#include <QTableView>
#include <QVBoxLayout>

namespace fscope::ui {

FeatureBrowser::FeatureBrowser(Workbench *workbench, QWidget *parent)
    : QWidget(parent)
    , m_workbench(workbench)
    , m_model(new FeatureTableModel(this))
    , m_indexCombo(new QComboBox(this))
    , m_search(new QLineEdit(this))
    , m_show(new QComboBox(this))
    , m_minDensity(new QDoubleSpinBox(this))
    , m_maxDensity(new QDoubleSpinBox(this))
    , m_view(new QTableView(this))
    , m_count(new QLabel(this))
{
    setObjectName(QStringLiteral("featureBrowser"));
    m_indexCombo->setObjectName(QStringLiteral("indexCombo"));
    m_indexCombo->setToolTip(tr("The SAE and corpus whose index is browsed"));
    m_indexCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_search->setObjectName(QStringLiteral("featureSearch"));
    m_search->setPlaceholderText(tr("Search labels, notes and explanations, or a feature id"));
    m_search->setClearButtonEnabled(true);
    m_show->setObjectName(QStringLiteral("showFilter"));
    m_show->addItems({ tr("All features"), tr("Live"), tr("Dead"), tr("Labelled") });
    for (QDoubleSpinBox *box : { m_minDensity, m_maxDensity }) {
        box->setRange(0, 100);
        box->setDecimals(4);
        box->setButtonSymbols(QAbstractSpinBox::NoButtons); // narrow: the dock stays slim
        box->setSuffix(QStringLiteral("%"));
        box->setSingleStep(0.01);
        box->setKeyboardTracking(false);
    }
    m_minDensity->setObjectName(QStringLiteral("minDensity"));
    m_maxDensity->setObjectName(QStringLiteral("maxDensity"));
    m_minDensity->setToolTip(tr("Lowest density shown (live features)"));
    m_maxDensity->setToolTip(tr("Highest density shown (live features)"));
    m_maxDensity->setValue(100);

    m_view->setObjectName(QStringLiteral("featureTable"));
    m_view->setModel(m_model);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(FeatureTableModel::FeatureCol, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    // Fixed row heights: the view never measures a million rows.
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setSectionResizeMode(
        FeatureTableModel::LabelCol, QHeaderView::Stretch);
    m_view->horizontalHeader()->setHighlightSections(false);
    for (int c : { int(FeatureTableModel::FeatureCol), int(FeatureTableModel::MeanCol),
             int(FeatureTableModel::CountCol) })
        m_view->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    // Density and max at the width of their usual values, so the label (the most useful
    // column) keeps the rest of a narrow dock; a drag widens them.
    const QFontMetrics metrics = m_view->fontMetrics();
    m_view->horizontalHeader()->setSectionResizeMode(
        FeatureTableModel::DensityCol, QHeaderView::Interactive);
    m_view->horizontalHeader()->setSectionResizeMode(
        FeatureTableModel::MaxCol, QHeaderView::Interactive);
    m_view->setColumnWidth(FeatureTableModel::DensityCol, metrics.horizontalAdvance("0.000%") + 12);
    m_view->setColumnWidth(FeatureTableModel::MaxCol, metrics.horizontalAdvance("00.00") + 12);
    // Mean and count are a right-click on the header away; the dock stays narrow.
    m_view->setColumnHidden(FeatureTableModel::MeanCol, true);
    m_view->setColumnHidden(FeatureTableModel::CountCol, true);
    // Explanations sit next to the labels, shown once the index has any (Explain Features).
    QHeaderView *header = m_view->horizontalHeader();
    header->moveSection(header->visualIndex(FeatureTableModel::ExplanationCol),
        header->visualIndex(FeatureTableModel::LabelCol) + 1);
    header->moveSection(header->visualIndex(FeatureTableModel::ScoreCol),
        header->visualIndex(FeatureTableModel::ExplanationCol) + 1);
    // Label and explanation share what the narrow dock leaves; the score is one number.
    header->setSectionResizeMode(FeatureTableModel::ExplanationCol, QHeaderView::Stretch);
    header->setSectionResizeMode(FeatureTableModel::ScoreCol, QHeaderView::ResizeToContents);
    m_view->setColumnHidden(FeatureTableModel::ExplanationCol, true);
    m_view->setColumnHidden(FeatureTableModel::ScoreCol, true);
    m_view->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view->horizontalHeader(), &QWidget::customContextMenuRequested, this,
        [this](const QPoint &pos) {
            QMenu menu(this);
            for (int c = 0; c < m_model->columnCount(); ++c) {
                QAction *a = menu.addAction(m_model->headerData(c, Qt::Horizontal).toString());
                a->setCheckable(true);
                a->setChecked(!m_view->isColumnHidden(c));
                a->setEnabled(c != FeatureTableModel::FeatureCol);
                connect(a, &QAction::toggled, this,
                    [this, c](bool on) { m_view->setColumnHidden(c, !on); });
            }
            menu.exec(m_view->horizontalHeader()->mapToGlobal(pos));
        });
    m_count->setObjectName(QStringLiteral("featureCount"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_indexCombo);
    layout->addWidget(m_search);
    layout->addWidget(m_show);
    auto *densityRow = new QHBoxLayout;
    densityRow->addWidget(new QLabel(tr("Density"), this));
    densityRow->addWidget(m_minDensity, 1);
    densityRow->addWidget(new QLabel(QStringLiteral("–"), this));
    densityRow->addWidget(m_maxDensity, 1);
    layout->addLayout(densityRow);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_count);

    auto *find = new QShortcut(QKeySequence::Find, this, [this] { focusSearch(); });
    find->setContext(Qt::WindowShortcut);

    connect(m_indexCombo, &QComboBox::activated, this,
        [this](int i) { selectIndex(m_indexCombo->itemData(i).toLongLong()); });
    connect(m_search, &QLineEdit::returnPressed, this, &FeatureBrowser::applyFilter);
    connect(m_search, &QLineEdit::textChanged, this, [this](const QString &t) {
        if (t.isEmpty())
            applyFilter();
    });
    connect(m_show, &QComboBox::currentIndexChanged, this, &FeatureBrowser::applyFilter);
    connect(m_minDensity, &QDoubleSpinBox::valueChanged, this, &FeatureBrowser::applyFilter);
    connect(m_maxDensity, &QDoubleSpinBox::valueChanged, this, &FeatureBrowser::applyFilter);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        [this](const QModelIndex &current) {
            if (m_syncing || !current.isValid())
                return;
            m_workbench->showFeature(m_indexId, m_model->featureAt(current.row()));
        });
    connect(m_model, &QAbstractItemModel::modelReset, this, &FeatureBrowser::updateCount);
    connect(m_workbench, &Workbench::indexesChanged, this, &FeatureBrowser::reloadIndexes);
    connect(m_workbench, &Workbench::indexesChanged, this, &FeatureBrowser::reloadLists);
    connect(m_workbench, &Workbench::listsChanged, this, [this] {
        reloadLists();
        if (m_show->currentIndex() >= 4)
            applyFilter();
    });
    connect(
        m_workbench, &Workbench::currentFeatureChanged, this, &FeatureBrowser::onCurrentFeature);
    connect(
        m_workbench, &Workbench::explanationsChanged, this, &FeatureBrowser::reloadExplanations);
    connect(m_workbench, &Workbench::labelChanged, this,
        [this](qint64 saeId, qint64 feature, const QString &label) {
            if (saeId == m_saeId)
                m_model->setLabel(feature, label);
        });
    updateCount();
}

static ExplanationCell explanationCell(const core::store::ExplanationSummary &e)
{
    ExplanationCell cell;
    cell.text = QString::fromStdString(e.explanation);
    double sum = 0;
    int n = 0;
    QStringList parts;
    for (const auto &[scorer, v] : e.scores) {
        parts << QStringLiteral("%1 %2").arg(QString::fromStdString(scorer)).arg(v, 0, 'f', 2);
        if (scorer == "detection" || scorer == "fuzzing") {
            sum += v;
            ++n;
        }
    }
    if (n > 0)
        cell.score = float(sum / n);
    cell.scores = parts.join(QStringLiteral(", "));
    return cell;
}

void FeatureBrowser::showExplanationColumns()
{
    const bool any = m_model->hasExplanations();
    m_view->setColumnHidden(FeatureTableModel::ExplanationCol, !any);
    m_view->setColumnHidden(FeatureTableModel::ScoreCol, !any);
}

void FeatureBrowser::reloadExplanations()
{
    core::store::Database *db = m_workbench->database();
    if (!db || m_saeId == 0)
        return;
    std::unordered_map<qint64, ExplanationCell> cells;
    if (auto explained = core::store::explanationsOfSae(*db, m_saeId))
        for (const auto &[f, e] : *explained)
            cells[f] = explanationCell(e);
    m_model->setExplanations(std::move(cells));
    showExplanationColumns();
    applyFilter();
}

void FeatureBrowser::focusSearch()
{
    m_search->setFocus(Qt::ShortcutFocusReason);
    m_search->selectAll();
}

void FeatureBrowser::reloadLists()
{
    // Entries past the four fixed ones are the workspace's lists ("In list: Bookmarks").
    QSignalBlocker block(m_show);
    const QVariant keep = m_show->currentData();
    while (m_show->count() > 4)
        m_show->removeItem(4);
    if (m_workbench->database())
        if (auto lists = core::store::featureLists(*m_workbench->database()))
            for (const auto &l : *lists)
                m_show->addItem(tr("In list: %1").arg(QString::fromStdString(l.name)),
                    QVariant::fromValue<qint64>(l.id));
    const int row = keep.isValid() ? m_show->findData(keep) : -1;
    m_show->setCurrentIndex(row >= 0 ? row : std::min(m_show->currentIndex(), 3));
}

void FeatureBrowser::reloadIndexes()
{
    m_indexCombo->clear();
    core::store::Database *db = m_workbench->database();
    if (!db) {
        m_model->setFeatures({}, {});
        return;
    }
    auto indexes = core::store::listIndexes(*db);
    if (!indexes)
        return;
    for (const auto &info : *indexes) {
        if (info.status != "done")
            continue;
        m_indexCombo->addItem(QString::fromStdString(info.saeLabel + "  ·  " + info.corpusLabel),
            QVariant::fromValue<qint64>(info.id));
    }
    const int keep = m_indexCombo->findData(QVariant::fromValue<qint64>(m_indexId));
    if (keep >= 0)
        m_indexCombo->setCurrentIndex(keep);
    else if (m_indexCombo->count() > 0)
        selectIndex(m_indexCombo->itemData(0).toLongLong());
    else
        m_model->setFeatures({}, {});
}

int FeatureBrowser::selectIndex(qint64 indexId)
{
    const int comboRow = m_indexCombo->findData(QVariant::fromValue<qint64>(indexId));
    if (comboRow >= 0)
        m_indexCombo->setCurrentIndex(comboRow);
    m_indexId = indexId;
    const QString path = m_workbench->workspacePath();
    struct Loaded {
        FeatureColumns columns;
        std::unordered_map<qint64, QString> labels;
        std::unordered_map<qint64, ExplanationCell> explanations;
        qint64 saeId = 0;
    };
    auto loaded = std::make_shared<Loaded>();
    // Its own connection: the UI thread's stays free for the dashboard meanwhile.
    return m_workbench->runner()->runOnWorkspace(
        tr("Load features"), path,
        [loaded, indexId](core::jobs::Progress &progress,
            core::store::Database *workspace) -> core::Result<std::string> {
            progress.begin(0, "Loading the feature table");
            if (!workspace)
                return core::Error { "no workspace is open" };
            core::store::Database *db = workspace;
            core::store::IndexInfo info;
            FS_TRY(info, core::store::indexInfo(*db, indexId));
            core::store::FeatureTable table;
            FS_TRY(table, core::store::loadFeatureTable(*db, indexId));
            std::vector<std::pair<int64_t, std::string>> labels;
            FS_TRY(labels, core::store::allLabels(*db, info.saeId));
            loaded->saeId = info.saeId;
            loaded->columns.feature = std::move(table.feature);
            loaded->columns.count = std::vector<qint64>(table.count.begin(), table.count.end());
            loaded->columns.density = std::move(table.density);
            loaded->columns.max = std::move(table.max);
            loaded->columns.mean = std::move(table.mean);
            for (auto &[f, l] : labels)
                loaded->labels[f] = QString::fromStdString(l);
            std::map<int64_t, core::store::ExplanationSummary> explained;
            FS_TRY(explained, core::store::explanationsOfSae(*db, info.saeId));
            for (const auto &[f, e] : explained)
                loaded->explanations[f] = explanationCell(e);
            return std::to_string(loaded->columns.feature.size()) + " features of " + info.saeLabel;
        },
        [this, loaded, indexId](const JobState &job) {
            if (!job.succeeded || indexId != m_indexId)
                return;
            m_saeId = loaded->saeId;
            m_model->setFeatures(std::move(loaded->columns), std::move(loaded->labels));
            m_model->setExplanations(std::move(loaded->explanations));
            showExplanationColumns();
            applyFilter();
            if (m_workbench->current().indexId != indexId && m_model->rowCount() > 0)
                m_view->selectRow(0);
        });
}

void FeatureBrowser::applyFilter()
{
    FeatureFilter f;
    const bool byList = m_show->currentIndex() >= 4;
    f.show = byList ? FeatureFilter::Show::All
                    : static_cast<FeatureFilter::Show>(m_show->currentIndex());
    if (byList && m_workbench->database()) {
        f.only = std::set<qint64>();
        if (auto items = core::store::featureListItems(
                *m_workbench->database(), m_show->currentData().toLongLong(), m_saeId))
            f.only->insert(items->begin(), items->end());
    }
    f.minDensity = m_minDensity->value() / 100.0;
    f.maxDensity = m_maxDensity->value() / 100.0;
    const QString text = m_search->text().trimmed();
    bool isId = false;
    const qint64 id = text.toLongLong(&isId);
    if (!text.isEmpty() && !isId && m_workbench->database()) {
        auto hits
            = core::store::searchLabels(*m_workbench->database(), m_saeId, text.toStdString());
        std::set<qint64> found;
        if (hits)
            found.insert(hits->begin(), hits->end());
        if (auto explained = core::store::searchExplanations(
                *m_workbench->database(), m_saeId, text.toStdString()))
            found.insert(explained->begin(), explained->end());
        if (f.only) { // both a list and a search: their intersection
            std::set<qint64> both;
            for (qint64 x : found)
                if (f.only->count(x))
                    both.insert(x);
            found = std::move(both);
        }
        f.only = std::move(found);
    }
    m_model->setFilter(f);
    if (isId && id >= 0 && id < m_model->totalFeatures()) {
        // Jump to an id: shown even when the filters would hide it.
        if (m_model->rowOf(id) < 0)
            m_model->setFilter({});
        m_view->selectRow(m_model->rowOf(id));
        m_view->scrollTo(
            m_model->index(m_model->rowOf(id), 0), QAbstractItemView::PositionAtCenter);
        return;
    }
    onCurrentFeature(m_workbench->current());
}

void FeatureBrowser::onCurrentFeature(FeatureRef ref)
{
    if (ref.indexId != m_indexId || !ref.valid())
        return;
    const int row = m_model->rowOf(ref.feature);
    if (row < 0)
        return;
    m_syncing = true;
    m_view->selectRow(row);
    m_view->scrollTo(m_model->index(row, 0));
    m_syncing = false;
}

void FeatureBrowser::updateCount()
{
    m_count->setText(m_model->totalFeatures() == 0
            ? tr("No feature index yet: File > Index Corpus...")
            : tr("%1 of %2 features").arg(m_model->rowCount()).arg(m_model->totalFeatures()));
}

} // namespace fscope::ui
