#include "ui/itdasimilaritydialog.h"

#include "core/sae/itda_similarity.h"
#include "ui/jobrunner.h"
#include "ui/plotstyle.h"
#include "ui/qcustomplot_include.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <set>

namespace fscope::ui {

namespace {

// Short axis labels: the hook without its "blocks." and "hook_" noise, so a dozen layers fit.
QString axisLabel(const std::string &label)
{
    QString s = QString::fromStdString(label);
    s.replace(QLatin1String("blocks."), QString());
    s.replace(QLatin1String("hook_"), QString());
    return s;
}

} // namespace

ItdaSimilarityDialog::ItdaSimilarityDialog(JobRunner *runner, QWidget *parent)
    : QDialog(parent)
    , m_runner(runner)
    , m_folders(new QListWidget(this))
    , m_compare(new QPushButton(tr("Compare"), this))
    , m_save(new QPushButton(tr("Save Heatmap..."), this))
    , m_table(new QTableWidget(this))
    , m_plot(new QCustomPlot(this))
    , m_status(new QLabel(this))
{
    setWindowTitle(tr("Compare ITDA Dictionaries"));
    setObjectName(QStringLiteral("itdaSimilarityDialog"));
    m_folders->setObjectName(QStringLiteral("itdaFolders"));
    m_folders->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_compare->setObjectName(QStringLiteral("itdaCompare"));
    m_table->setObjectName(QStringLiteral("itdaSimilarityTable"));
    m_plot->setObjectName(QStringLiteral("itdaSimilarityHeatmap"));
    m_status->setObjectName(QStringLiteral("itdaSimilarityStatus"));
    m_status->setWordWrap(true);
    m_status->setText(tr("Add two or more ITDA folders (featurescope-cli itda build), built on "
                         "the same corpus, and compare them."));

    auto *intro = new QLabel(tr("Jaccard similarity of the dictionaries' atoms, each named by "
                                "the (context, position) it was taken from: layers of one "
                                "model, or one layer of several models, on one corpus."),
        this);
    intro->setWordWrap(true);
    auto *add = new QPushButton(tr("Add Folder..."), this);
    auto *remove = new QPushButton(tr("Remove"), this);
    auto *folderButtons = new QVBoxLayout;
    folderButtons->addWidget(add);
    folderButtons->addWidget(remove);
    folderButtons->addStretch();
    folderButtons->addWidget(m_compare);
    auto *folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folders, 1);
    folderRow->addLayout(folderButtons);
    m_folders->setMaximumHeight(m_folders->fontMetrics().height() * 7);

    applyPlotStyle(m_plot);
    setPlotTitle(m_plot, tr("ITDA dictionary similarity (Jaccard of atom origins)"));
    m_plot->setMinimumSize(360, 300);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    auto *results = new QSplitter(Qt::Horizontal, this);
    results->addWidget(m_plot);
    results->addWidget(m_table);
    results->setStretchFactor(0, 3);
    results->setStretchFactor(1, 2);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->addButton(m_save, QDialogButtonBox::ActionRole);
    m_save->setEnabled(false);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(folderRow);
    layout->addWidget(results, 1);
    layout->addWidget(m_status);
    layout->addWidget(buttons);

    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(add, &QPushButton::clicked, this, &ItdaSimilarityDialog::addFolder);
    connect(
        remove, &QPushButton::clicked, this, [this] { qDeleteAll(m_folders->selectedItems()); });
    connect(m_compare, &QPushButton::clicked, this, [this] { compare(); });
    connect(m_save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save Heatmap"),
            QStringLiteral("itda-similarity.png"),
            tr("PNG image (*.png);;SVG vector image (*.svg);;PDF (*.pdf)"));
        QString error;
        if (!path.isEmpty() && !exportPlot(m_plot, path, 192, &error))
            QMessageBox::warning(this, tr("Heatmap not saved"), error);
    });
}

ItdaSimilarityDialog::~ItdaSimilarityDialog() = default;

void ItdaSimilarityDialog::setFolders(const QStringList &folders)
{
    m_folders->clear();
    m_folders->addItems(folders);
}

QStringList ItdaSimilarityDialog::folders() const
{
    QStringList out;
    for (int i = 0; i < m_folders->count(); ++i)
        out << m_folders->item(i)->text();
    return out;
}

void ItdaSimilarityDialog::addFolder()
{
    QSettings settings;
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("ITDA Folder"), settings.value(QStringLiteral("itda/lastDir")).toString());
    if (dir.isEmpty())
        return;
    settings.setValue(QStringLiteral("itda/lastDir"), QFileInfo(dir).absolutePath());
    if (!folders().contains(dir))
        m_folders->addItem(dir);
}

int ItdaSimilarityDialog::compare()
{
    std::vector<std::string> dirs;
    for (const QString &f : folders())
        dirs.push_back(f.toStdString());
    if (dirs.size() < 2) {
        m_status->setText(tr("Add two or more ITDA folders to compare."));
        Q_EMIT compared(false);
        return 0;
    }
    m_compare->setEnabled(false);
    m_status->setText(tr("Comparing %1 dictionaries...").arg(dirs.size()));
    auto out = std::make_shared<core::sae::ItdaSimilarity>();
    return m_runner->run(
        tr("Compare %1 ITDA dictionaries").arg(dirs.size()),
        [dirs, out](core::jobs::Progress &progress) -> core::Result<std::string> {
            auto sim = core::sae::compareItda(dirs, &progress);
            if (!sim)
                return sim.error();
            *out = std::move(sim).value();
            return "Compared " + std::to_string(dirs.size()) + " ITDA dictionaries";
        },
        [this, out](const JobState &job) {
            m_compare->setEnabled(true);
            if (!job.succeeded) {
                m_status->setText(job.outcome);
                Q_EMIT compared(false);
                return;
            }
            showResult(out);
            Q_EMIT compared(true);
        });
}

void ItdaSimilarityDialog::showResult(std::shared_ptr<const core::sae::ItdaSimilarity> result)
{
    m_result = std::move(result);
    const auto &r = *m_result;
    const int n = static_cast<int>(r.labels.size());
    std::set<std::pair<int, int>> apart;
    for (const auto &[i, j] : r.differentCorpora) {
        apart.insert({ i, j });
        apart.insert({ j, i });
    }

    // The table: exact values, with each dictionary's size in its header's tooltip.
    m_table->clear();
    m_table->setRowCount(n);
    m_table->setColumnCount(n);
    QStringList headers;
    for (int i = 0; i < n; ++i)
        headers << axisLabel(r.labels[size_t(i)]);
    m_table->setHorizontalHeaderLabels(headers);
    m_table->setVerticalHeaderLabels(headers);
    for (int i = 0; i < n; ++i) {
        const QString tip = tr("%1\n%2 atoms")
                                .arg(QString::fromStdString(r.dirs[size_t(i)]))
                                .arg(r.atoms[size_t(i)]);
        m_table->horizontalHeaderItem(i)->setToolTip(tip);
        m_table->verticalHeaderItem(i)->setToolTip(tip);
        for (int j = 0; j < n; ++j) {
            auto *item
                = new QTableWidgetItem(QString::number(r.jaccard[size_t(i)][size_t(j)], 'f', 3));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (apart.count({ i, j })) {
                item->setText(tr("other corpus"));
                item->setForeground(palette().color(QPalette::Disabled, QPalette::Text));
                item->setToolTip(tr("Built on different corpora: the atoms share no (context, "
                                    "position) to compare"));
            }
            m_table->setItem(i, j, item);
        }
    }

    // The heatmap: row 0 at the top, as in the table; each cell labelled with its value.
    m_plot->clearPlottables();
    m_plot->clearItems();
    for (int e = m_plot->plotLayout()->elementCount() - 1; e >= 0; --e)
        if (auto *scale = qobject_cast<QCPColorScale *>(m_plot->plotLayout()->elementAt(e)))
            m_plot->plotLayout()->remove(scale);
    m_plot->plotLayout()->simplify();
    auto *map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    map->data()->setSize(n, n);
    map->data()->setRange(QCPRange(0, n - 1), QCPRange(0, n - 1));
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
            map->data()->setCell(
                j, i, apart.count({ i, j }) ? qQNaN() : r.jaccard[size_t(i)][size_t(j)]);
    // Viridis (perceptually uniform, readable in grey and by colour-blind readers), by stops.
    QCPColorGradient gradient;
    gradient.setColorStops(
        { { 0.0, QColor(68, 1, 84) }, { 0.25, QColor(59, 82, 139) }, { 0.5, QColor(33, 145, 140) },
            { 0.75, QColor(94, 201, 98) }, { 1.0, QColor(253, 231, 37) } });
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    map->setGradient(gradient);
    map->setDataRange(QCPRange(0, 1));
    map->setInterpolate(false);
    auto *scale = new QCPColorScale(m_plot);
    scale->setType(QCPAxis::atRight);
    scale->setDataRange(QCPRange(0, 1));
    scale->setGradient(gradient);
    scale->axis()->setLabel(tr("Jaccard"));
    scale->axis()->setLabelColor(m_plot->xAxis->labelColor());
    scale->axis()->setTickLabelColor(m_plot->xAxis->tickLabelColor());
    scale->axis()->setBasePen(m_plot->xAxis->basePen());
    scale->axis()->setTickPen(m_plot->xAxis->tickPen());
    scale->axis()->setSubTickPen(m_plot->xAxis->subTickPen());
    m_plot->plotLayout()->addElement(m_plot->plotLayout()->rowCount() - 1, 1, scale);
    auto *group = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, group);
    scale->setMarginGroup(QCP::msBottom | QCP::msTop, group);

    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < n; ++i)
        ticker->addTick(i, headers[i]);
    for (QCPAxis *axis : { m_plot->xAxis, m_plot->yAxis }) {
        axis->setTicker(ticker);
        axis->setRange(-0.5, n - 0.5);
        axis->grid()->setVisible(false);
        axis->setSubTicks(false);
    }
    m_plot->yAxis->setRangeReversed(true);
    m_plot->xAxis->setTickLabelRotation(n > 4 ? 40 : 0);
    if (n <= 16) {
        QFont font = m_plot->font();
        font.setPointSizeF(font.pointSizeF() * (n > 8 ? 0.8 : 1.0));
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < n; ++j) {
                auto *text = new QCPItemText(m_plot);
                text->position->setCoords(j, i);
                text->setFont(font);
                const double v = r.jaccard[size_t(i)][size_t(j)];
                text->setText(
                    apart.count({ i, j }) ? QStringLiteral("≠") : QString::number(v, 'f', 2));
                // Light text on viridis' dark end, dark on its light end.
                text->setColor(apart.count({ i, j }) ? m_plot->xAxis->tickLabelColor()
                        : v < 0.6                    ? Qt::white
                                                     : Qt::black);
            }
    }
    m_plot->replot();
    m_save->setEnabled(true);

    QString status = tr("%1 dictionaries, %2 to %3 atoms.")
                         .arg(n)
                         .arg(*std::min_element(r.atoms.begin(), r.atoms.end()))
                         .arg(*std::max_element(r.atoms.begin(), r.atoms.end()));
    if (!r.differentCorpora.empty())
        status += QLatin1Char(' ')
            + tr("%n pair(s) built on different corpora (≠): their similarity compares nothing; "
                 "build them on one corpus.",
                nullptr, static_cast<int>(r.differentCorpora.size()));
    m_status->setText(status);
}

} // namespace fscope::ui
