#include "ui/featuredashboard.h"

#include "core/report/feature_report.h"
#include "core/sae/dictionary_io.h"
#include "core/sae/itda.h"
#include "core/store/database.h"
#include "core/store/feature_lists.h"
#include "core/store/index_store.h"
#include "core/tokenize/tokenizer.h"
#include "ui/dashboardcharts.h"
#include "ui/emptystatepanel.h"
#include "ui/examplelist.h"
#include "ui/explanationpanel.h"
#include "ui/featuretablemodel.h"
#include "ui/plotstyle.h"
#include "ui/reportexport.h"
#include "ui/tokenhtml.h"

#include "ui/qcustomplot_include.h"

#include <QCheckBox>
#include <QCursor>
#include <QEvent>
#include <QGridLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QStackedWidget>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>

#include <cmath>

namespace fscope::ui {

FeatureDashboardView::FeatureDashboardView(Workbench *workbench, QWidget *parent)
    : QWidget(parent)
    , m_workbench(workbench)
    , m_stack(new QStackedWidget(this))
    , m_title(new QLabel(this))
    , m_stats(new QLabel(this))
    , m_label(new QLineEdit(this))
    , m_notes(new QPlainTextEdit(this))
    , m_explanation(new ExplanationPanel(this))
    , m_histogram(makePlot(QStringLiteral("histogramPlot"), tr("Activation histogram"), this))
    , m_logits(makePlot(QStringLiteral("logitPlot"), tr("Logit effects (W_dec · W_U)"), this))
    , m_foldNorm(new QCheckBox(tr("Final norm folded in"), this))
    , m_density(makePlot(QStringLiteral("densityPlot"), tr("Feature densities"), this))
    , m_writes(makePlot(QStringLiteral("writesPlot"), tr("Writes to"), this))
    , m_examples(new ExampleList(this))
    , m_error(new QLabel(this))
    , m_bookmark(new QToolButton(this))
    , m_lists(new QToolButton(this))
    , m_listMenu(new QMenu(this))
{
    setObjectName(QStringLiteral("dashboardPanel"));
    auto *empty = new EmptyStatePanel(tr("Feature dashboard"),
        tr("A feature's statistics, activation histogram, logit effects and "
           "top-activating contexts appear here."),
        tr("Open a workspace and index a corpus (File > Index Corpus...), then "
           "pick a feature in the browser."),
        this);
    // While it is empty, say what is being computed and how long it will take (the first
    // minutes of the demo are an index job), rather than only "open a workspace".
    empty->followJobs(m_workbench->runner(), tr("The dashboard fills in when it finishes."));

    auto *page = new QWidget(this);
    m_title->setObjectName(QStringLiteral("dashboardTitle"));
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.4);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // A long SAE name (a CLT layer's "DIR#layer=L (hook)") is elided in the middle, on one line,
    // instead of wrapping over three or setting the window's minimum width (it must fit 1366
    // px); the tooltip and headerText() keep all of it.
    m_title->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_title->installEventFilter(this);
    m_stats->setObjectName(QStringLiteral("dashboardStats"));
    m_stats->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_stats->setWordWrap(true);
    m_label->setObjectName(QStringLiteral("labelEdit"));
    m_label->setPlaceholderText(tr("Label this feature (Enter to save)"));
    m_notes->setObjectName(QStringLiteral("notesEdit"));
    m_notes->setPlaceholderText(tr("Notes"));
    m_notes->setMaximumHeight(m_notes->fontMetrics().height() * 4);
    m_error->setWordWrap(true);

    auto *back = new QToolButton(this);
    back->setDefaultAction(m_workbench->backAction());
    back->setArrowType(Qt::LeftArrow);
    back->setToolButtonStyle(Qt::ToolButtonIconOnly);
    auto *forward = new QToolButton(this);
    forward->setDefaultAction(m_workbench->forwardAction());
    forward->setArrowType(Qt::RightArrow);
    forward->setToolButtonStyle(Qt::ToolButtonIconOnly);
    auto *saveNotes = new QPushButton(tr("Save notes"), this);
    saveNotes->setObjectName(QStringLiteral("saveNotes"));

    m_bookmark->setObjectName(QStringLiteral("bookmarkButton"));
    m_bookmark->setCheckable(true);
    m_bookmark->setText(tr("Bookmark"));
    m_bookmark->setToolTip(tr("Add this feature to the Bookmarks list (Ctrl+D)"));
    m_bookmark->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    m_lists->setObjectName(QStringLiteral("addToListButton"));
    m_lists->setText(tr("Lists"));
    m_lists->setToolTip(tr("Add this feature to a named list"));
    m_lists->setPopupMode(QToolButton::InstantPopup);
    m_lists->setMenu(m_listMenu);
    connect(m_listMenu, &QMenu::aboutToShow, this, &FeatureDashboardView::updateListButtons);
    connect(m_bookmark, &QToolButton::clicked, this, [this](bool on) {
        if (!m_workbench->database())
            return;
        if (auto id = core::store::createFeatureList(*m_workbench->database(), "Bookmarks"))
            setInList(*id, on);
    });
    auto *steer = new QPushButton(tr("Steer..."), this);
    steer->setObjectName(QStringLiteral("steerButton"));
    steer->setToolTip(tr("Open the steering panel with this feature (add its decoder direction)"));
    auto *ablate = new QPushButton(tr("Ablate..."), this);
    ablate->setObjectName(QStringLiteral("ablateButton"));
    ablate->setToolTip(tr("Open the steering panel to ablate this feature (clamp it to 0)"));
    for (auto [button, mode] : { std::pair { steer, QStringLiteral("add") },
             std::pair { ablate, QStringLiteral("ablate") } })
        connect(button, &QPushButton::clicked, this, [this, mode] {
            if (m_data)
                Q_EMIT m_workbench->steerRequested(m_data->index.id, m_data->feature, mode);
        });
    auto *exportButton = new QToolButton(this);
    exportButton->setObjectName(QStringLiteral("exportReportButton"));
    exportButton->setText(tr("Export"));
    exportButton->setToolTip(
        tr("Write this feature's report (HTML, Markdown, PDF, JSON, Neuronpedia)"));
    exportButton->setPopupMode(QToolButton::InstantPopup);
    auto *exportMenu = new QMenu(exportButton);
    exportButton->setMenu(exportMenu);
    fillReportMenu(exportMenu, m_workbench, this, [this] {
        ReportTarget t;
        if (m_data) {
            t.indexId = m_data->index.id;
            t.features = { m_data->feature };
            t.baseName
                = QStringLiteral("feature-%1-%2")
                      .arg(QString::fromStdString(core::report::fileSafe(m_data->index.saeLabel)))
                      .arg(m_data->feature);
        }
        return t;
    });
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(steer);
    buttons->addWidget(ablate);
    buttons->addWidget(m_bookmark);
    buttons->addWidget(m_lists);
    buttons->addWidget(saveNotes);

    auto *header = new QGridLayout;
    header->addWidget(back, 0, 0);
    header->addWidget(forward, 0, 1);
    // Export sits on the title row, so the button row (and the window's minimum width) stays
    // as it was; the title spans both columns, so it also has the width column 3 gets from the
    // button row below.
    auto *titleRow = new QHBoxLayout;
    titleRow->setContentsMargins(0, 0, 0, 0);
    titleRow->addWidget(m_title, 1);
    titleRow->addWidget(exportButton, 0, Qt::AlignRight);
    header->addLayout(titleRow, 0, 2, 1, 2);
    header->addWidget(m_stats, 1, 2, 1, 2);
    header->addWidget(m_label, 2, 2);
    header->addLayout(buttons, 2, 3);
    header->addWidget(m_notes, 3, 2, 1, 2);
    header->addWidget(m_explanation, 4, 2, 1, 2);
    connect(m_explanation, &ExplanationPanel::useAsLabel, this, [this](const QString &text) {
        m_label->setText(text);
        saveLabel();
    });
    connect(m_workbench, &Workbench::explanationsChanged, this, [this] {
        if (m_data)
            m_explanation->showFeature(
                m_workbench->database(), m_data->index.saeId, m_data->feature);
    });
    header->setColumnStretch(2, 1);

    m_foldNorm->setObjectName(QStringLiteral("foldNorm"));
    m_foldNorm->setToolTip(
        tr("Off: W_dec[f] · W_U, as SAEDashboard and Neuronpedia show it.\n"
           "On: (W_dec[f] * g) · W_U with the final norm's per-channel scale g."));
    auto *logitColumn = new QVBoxLayout;
    logitColumn->setContentsMargins(0, 0, 0, 0);
    logitColumn->addWidget(m_logits, 1);
    logitColumn->addWidget(m_foldNorm);
    auto *plots = new QHBoxLayout;
    plots->addWidget(m_histogram, 3);
    plots->addLayout(logitColumn, 3);
    plots->addWidget(m_density, 2);
    plots->addWidget(m_writes, 2);
    m_writes->setVisible(false);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    auto *top = new QWidget(splitter);
    auto *topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addLayout(header);
    topLayout->addLayout(plots, 1);
    topLayout->addWidget(m_error);
    splitter->addWidget(top);
    splitter->addWidget(m_examples);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);

    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addWidget(splitter);
    m_stack->addWidget(empty);
    m_stack->addWidget(page);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(m_stack);

    connect(m_label, &QLineEdit::editingFinished, this, &FeatureDashboardView::saveLabel);
    connect(m_foldNorm, &QCheckBox::toggled, this, [this] {
        if (m_data)
            renderLogits();
    });
    connect(saveNotes, &QPushButton::clicked, this, &FeatureDashboardView::saveLabel);
    connect(m_workbench, &Workbench::currentFeatureChanged, this, [this](FeatureRef ref) {
        if (!ref.valid()) {
            m_data.reset();
            m_stack->setCurrentIndex(0);
            return;
        }
        showFeature(ref);
    });
}

FeatureDashboardView::~FeatureDashboardView() = default;

bool FeatureDashboardView::showFeature(FeatureRef ref)
{
    core::store::Database *db = m_workbench->database();
    if (!db)
        return false;
    auto d = core::store::loadFeatureDashboard(*db, ref.indexId, ref.feature);
    m_stack->setCurrentIndex(1);
    if (!d) {
        m_data.reset();
        setTitle(tr("Feature %1").arg(ref.feature));
        m_stats->clear();
        m_error->setText(QString::fromStdString(d.errorMessage()));
        m_examples->setRows({});
        return false;
    }
    m_error->clear();
    m_data = std::make_unique<core::store::FeatureDashboard>(std::move(d).value());
    if (m_densityIndex != ref.indexId) {
        m_densityIndex = ref.indexId;
        m_allDensities.clear();
        if (auto t = core::store::loadFeatureTable(*db, ref.indexId))
            m_allDensities = std::move(t->density);
    }
    render();
    return true;
}

void FeatureDashboardView::setTitle(const QString &title)
{
    m_titleText = title;
    m_title->setToolTip(title);
    elideTitle();
}

void FeatureDashboardView::elideTitle()
{
    m_title->setText(
        m_title->fontMetrics().elidedText(m_titleText, Qt::ElideMiddle, m_title->width()));
}

bool FeatureDashboardView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_title && event->type() == QEvent::Resize)
        elideTitle(); // the layout gave the title a new width
    return QWidget::eventFilter(watched, event);
}

QString FeatureDashboardView::atomOrigin(const core::store::FeatureDashboard &d)
{
    // An ITDA atom is a token's own activation: say which token it was.
    if (!core::sae::isItdaFolder(d.index.saePath))
        return {};
    if (m_originsPath != d.index.saePath) {
        m_originsPath = d.index.saePath;
        m_origins.clear();
        if (auto origins = core::sae::readItdaOrigins(d.index.saePath))
            for (const auto &o : *origins)
                m_origins.push_back({ o.context, o.position, o.token });
    }
    if (d.feature < 0 || d.feature >= static_cast<int64_t>(m_origins.size()))
        return {};
    const auto &[context, position, token] = m_origins[static_cast<size_t>(d.feature)];
    return tr("ITDA atom: the activation of '%1' at position %2 of context %3 of the corpus it "
              "was built from")
        .arg(tokenName(d.index.modelPath, static_cast<int32_t>(token)))
        .arg(position)
        .arg(context);
}

QString FeatureDashboardView::headerText() const
{
    return m_titleText + QLatin1Char('\n') + m_stats->text();
}

void FeatureDashboardView::render()
{
    const auto &d = *m_data;
    setTitle(tr("%1  ·  feature %2").arg(QString::fromStdString(d.index.saeLabel)).arg(d.feature));
    if (d.dead()) {
        m_stats->setText(tr("Dead: never fired on the %1 indexed tokens of %2.")
                             .arg(d.index.tokens)
                             .arg(QString::fromStdString(d.index.corpusLabel)));
    } else {
        m_stats->setText(tr("Density %1 (%2 of %3 tokens)  ·  max %4  ·  mean %5")
                             .arg(formatDensity(d.density))
                             .arg(d.count)
                             .arg(d.index.tokens)
                             .arg(double(d.max), 0, 'g', 4)
                             .arg(d.mean, 0, 'g', 4));
    }
    if (const QString origin = atomOrigin(d); !origin.isEmpty())
        m_stats->setText(m_stats->text() + QLatin1Char('\n') + origin);
    m_label->setText(QString::fromStdString(d.label));
    updateListButtons();
    m_notes->setPlainText(QString::fromStdString(d.notes));
    // A read-only workspace shows its labels and notes but takes no edits (the banner says why).
    const bool writable = m_workbench->database() && !m_workbench->database()->readOnly();
    m_label->setReadOnly(!writable);
    m_notes->setReadOnly(!writable);
    m_label->setPlaceholderText(writable ? tr("Label this feature (Enter to save)")
                                         : tr("No label (the workspace is read-only)"));
    if (auto *save = findChild<QPushButton *>(QStringLiteral("saveNotes")))
        save->setEnabled(writable);
    m_explanation->showFeature(m_workbench->database(), d.index.saeId, d.feature);
    renderHistogram();
    renderLogits();
    renderDensityContext();
    renderWrites();
    renderExamples();
}

void FeatureDashboardView::renderHistogram()
{
    plotActivationHistogram(m_histogram, *m_data);
}

void FeatureDashboardView::renderLogits()
{
    plotLogitEffects(m_logits, *m_data, m_foldNorm->isChecked());
}

void FeatureDashboardView::renderDensityContext()
{
    QColor muted = palette().color(QPalette::WindowText);
    muted.setAlpha(90);
    plotDensityContext(m_density, *m_data, m_allDensities, muted);
}

void FeatureDashboardView::renderWrites()
{
    // Only a dictionary that writes several hooks has anything to show here.
    m_writes->setVisible(m_data->writes.size() > 1);
    if (m_writes->isVisible())
        plotDecoderWrites(m_writes, *m_data);
}

void FeatureDashboardView::renderExamples()
{
    const auto &d = *m_data;
    std::vector<ExampleRow> rows;
    auto addExamples = [&](const std::vector<core::store::ExampleView> &list, int band) {
        for (const auto &e : list) {
            if (band >= 0 && e.band != band)
                continue;
            ExampleRow row;
            row.caption = QString::number(double(e.value), 'f', 3);
            row.scale = d.max;
            for (size_t t = 0; t < e.ids.size(); ++t)
                row.tokens.push_back({ tokenName(d.index.modelPath, e.ids[t]), e.activations[t],
                    int(t) == e.maxPos });
            rows.push_back(std::move(row));
        }
    };
    if (d.dead())
        rows.push_back(
            { {}, tr("This feature never fired on the indexed corpus: no examples."), {}, 1 });
    if (!d.top.empty()) {
        rows.push_back({ {}, tr("Top activations (one per context)"), {}, 1 });
        addExamples(d.top, -1);
    }
    for (size_t b = d.bands.size(); b-- > 0;) {
        const auto &band = d.bands[b];
        rows.push_back({ {},
            tr("Quantile band %1 of %2:  %3 – %4,  %5 tokens")
                .arg(b + 1)
                .arg(d.bands.size())
                .arg(double(band.lo), 0, 'g', 4)
                .arg(double(band.hi), 0, 'g', 4)
                .arg(band.count),
            {}, 1 });
        addExamples(d.quantiles, int(b));
    }
    m_examples->setRows(std::move(rows));
}

void FeatureDashboardView::updateListButtons()
{
    m_listMenu->clear();
    core::store::Database *db = m_workbench->database();
    if (!m_data || !db)
        return;
    auto lists = core::store::featureLists(*db);
    auto member = core::store::listsContaining(*db, m_data->index.saeId, m_data->feature);
    if (!lists || !member)
        return;
    for (const auto &list : *lists) {
        const bool in = std::find(member->begin(), member->end(), list.id) != member->end();
        if (list.name == "Bookmarks") {
            m_bookmark->setChecked(in);
            m_bookmark->setText(in ? tr("Bookmarked") : tr("Bookmark"));
        }
        QAction *a = m_listMenu->addAction(QString::fromStdString(list.name));
        a->setCheckable(true);
        a->setChecked(in);
        connect(a, &QAction::toggled, this, [this, id = list.id](bool on) { setInList(id, on); });
    }
    m_listMenu->addSeparator();
    m_listMenu->addAction(tr("New List..."), this, [this] {
        bool ok = false;
        const QString name = QInputDialog::getText(
            this, tr("New List"), tr("Name:"), QLineEdit::Normal, QString(), &ok)
                                 .trimmed();
        if (!ok || name.isEmpty() || !m_workbench->database())
            return;
        if (auto id = core::store::createFeatureList(*m_workbench->database(), name.toStdString()))
            setInList(*id, true);
    });
}

void FeatureDashboardView::setInList(qint64 listId, bool member)
{
    core::store::Database *db = m_workbench->database();
    if (!m_data || !db)
        return;
    const auto s = member
        ? core::store::addToFeatureList(*db, listId, m_data->index.saeId, m_data->feature)
        : core::store::removeFromFeatureList(*db, listId, m_data->index.saeId, m_data->feature);
    if (s)
        Q_EMIT m_workbench->listsChanged();
    updateListButtons();
}

void FeatureDashboardView::saveLabel()
{
    if (!m_data || !m_workbench->database() || m_workbench->database()->readOnly())
        return;
    const std::string label = m_label->text().trimmed().toStdString();
    const std::string notes = m_notes->toPlainText().toStdString();
    if (label == m_data->label && notes == m_data->notes)
        return;
    if (core::store::setLabel(
            *m_workbench->database(), m_data->index.saeId, m_data->feature, label, notes)) {
        m_data->label = label;
        m_data->notes = notes;
        Q_EMIT m_workbench->labelChanged(
            m_data->index.saeId, m_data->feature, QString::fromStdString(label));
    }
}

} // namespace fscope::ui
