#include "ui/promptinspector.h"

#include "core/analysis/prompt_analysis.h"
#include "core/model/model_cache.h"
#include "core/store/index_store.h"
#include "core/util/fault_points.h"
#include "core/util/out_of_memory.h"
#include "ui/jobrunner.h"
#include "ui/tokenhtml.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace fscope::ui {

PromptInspector::PromptInspector(Workbench *workbench, QWidget *parent)
    : QWidget(parent)
    , m_workbench(workbench)
    , m_prompt(new QPlainTextEdit(this))
    , m_sae(new QComboBox(this))
    , m_run(new QPushButton(tr("Inspect"), this))
    , m_tokens(new QTextBrowser(this))
    , m_caption(new QLabel(this))
    , m_features(new QTableWidget(this))
{
    setObjectName(QStringLiteral("promptInspector"));
    m_prompt->setObjectName(QStringLiteral("promptEdit"));
    m_prompt->setPlaceholderText(tr("Type or paste a prompt"));
    m_prompt->setMaximumHeight(m_prompt->fontMetrics().height() * 5);
    m_sae->setObjectName(QStringLiteral("promptSae"));
    m_sae->setToolTip(tr("The SAE whose features are shown (from the workspace's indexes)"));
    m_run->setObjectName(QStringLiteral("inspectButton"));
    m_run->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    m_run->setToolTip(tr("Run the prompt through the model and the SAE (Ctrl+Enter)"));
    m_tokens->setObjectName(QStringLiteral("promptTokens"));
    m_tokens->setOpenLinks(false);
    m_tokens->document()->setDefaultStyleSheet(QStringLiteral("a { text-decoration: none; }"));
    m_caption->setObjectName(QStringLiteral("promptCaption"));
    m_caption->setWordWrap(true);
    m_features->setObjectName(QStringLiteral("promptFeatures"));
    m_features->setColumnCount(3);
    m_features->setHorizontalHeaderLabels({ tr("Feature"), tr("Activation"), tr("Label") });
    m_features->verticalHeader()->hide();
    m_features->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_features->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_features->setSelectionMode(QAbstractItemView::SingleSelection);
    m_features->setEditTriggers(QAbstractItemView::NoEditTriggers);

    auto *controls = new QHBoxLayout;
    controls->addWidget(m_sae, 1);
    controls->addWidget(m_run);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_tokens);
    auto *lower = new QWidget(splitter);
    auto *lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    lowerLayout->addWidget(m_caption);
    lowerLayout->addWidget(m_features, 1);
    // The selected feature, straight into the steering panel with this prompt.
    auto *actions = new QHBoxLayout;
    auto *steerButton = new QPushButton(tr("Steer..."));
    steerButton->setObjectName(QStringLiteral("promptSteer"));
    steerButton->setToolTip(tr("Steer with the selected feature on this prompt"));
    auto *ablateButton = new QPushButton(tr("Ablate..."));
    ablateButton->setObjectName(QStringLiteral("promptAblate"));
    ablateButton->setToolTip(tr("Ablate the selected feature on this prompt"));
    for (QPushButton *b : { steerButton, ablateButton }) {
        b->setEnabled(false);
        // The dock may be narrow: the buttons shrink rather than widen the window.
        b->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
        actions->addWidget(b, 1);
    }
    lowerLayout->addLayout(actions);
    splitter->addWidget(lower);
    auto request = [this](const QString &mode) {
        if (m_feature < 0 || m_resultIndex <= 0)
            return;
        Q_EMIT steerPrompt(m_resultText); // the prompt the features were read from
        Q_EMIT m_workbench->steerRequested(m_resultIndex, m_feature, mode);
    };
    connect(
        steerButton, &QPushButton::clicked, this, [request] { request(QStringLiteral("add")); });
    connect(ablateButton, &QPushButton::clicked, this,
        [request] { request(QStringLiteral("ablate")); });
    connect(m_features, &QTableWidget::currentCellChanged, this,
        [this, steerButton, ablateButton](int row) {
            const bool any = row >= 0 && m_features->item(row, 0);
            steerButton->setEnabled(any);
            ablateButton->setEnabled(any);
        });
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_prompt);
    layout->addLayout(controls);
    layout->addWidget(splitter, 1);

    connect(m_run, &QPushButton::clicked, this,
        [this] { inspect(m_prompt->toPlainText(), m_sae->currentData().toLongLong()); });
    connect(m_tokens, &QTextBrowser::anchorClicked, this, [this](const QUrl &url) {
        selectToken(url.toString().section(QLatin1Char(':'), 1).toInt());
    });
    connect(m_features, &QTableWidget::currentCellChanged, this, [this](int row) {
        if (row >= 0 && m_features->item(row, 0))
            selectFeature(m_features->item(row, 0)->data(Qt::UserRole).toLongLong());
    });
    connect(m_features, &QTableWidget::cellDoubleClicked, this, [this](int row) {
        if (auto *item = m_features->item(row, 0))
            m_workbench->showFeature(m_resultIndex, item->data(Qt::UserRole).toLongLong());
    });
    connect(m_workbench, &Workbench::indexesChanged, this, &PromptInspector::reloadSaes);
    renderTokens();
}

PromptInspector::~PromptInspector() = default;

void PromptInspector::setPrompt(const QString &text)
{
    m_prompt->setPlainText(text);
}

void PromptInspector::reloadSaes()
{
    m_workbench->fillIndexChoice(m_sae);
}

int PromptInspector::inspect(const QString &text, qint64 indexId)
{
    if (text.trimmed().isEmpty() || indexId <= 0 || !m_workbench->database()) {
        m_caption->setText(indexId <= 0
                ? tr("Index a corpus first: the inspector uses the index's model and SAE.")
                : tr("Type a prompt first."));
        return 0;
    }
    const auto key = std::make_pair(text, indexId);
    if (auto it = m_cache.find(key); it != m_cache.end()) {
        m_result = it->second;
        m_resultIndex = indexId;
        m_resultText = text;
        showResult();
        return 0;
    }
    auto info = core::store::indexInfo(*m_workbench->database(), indexId);
    if (!info) {
        m_caption->setText(QString::fromStdString(info.errorMessage()));
        return 0;
    }
    auto result = std::make_shared<core::analysis::PromptAnalysis>();
    core::model::ModelCache *models = &m_workbench->models();
    m_run->setEnabled(false);
    m_caption->setText(tr("Running..."));
    return m_workbench->runner()->run(
        tr("Inspect prompt"),
        [models, result, info = *info, prompt = text.toStdString(),
            device = m_workbench->device().toStdString(),
            dtype = m_workbench->dtype().toStdString()](
            core::jobs::Progress &progress) -> core::Result<std::string> {
            progress.begin(0, "Loading " + info.modelPath);
            core::model::ModelCache::Model model;
            FS_TRY(model, models->model(info.modelPath, device, dtype, &progress));
            return core::util::catchOutOfMemory("inspecting a prompt of "
                    + std::to_string(prompt.size()) + " bytes through " + info.saeLabel,
                model.decoder->device(),
                "Try a shorter prompt, bf16 (the status bar's precision), or File > Unload "
                "Models to free the others.",
                [&]() -> core::Result<std::string> {
                    core::util::faultPoint("inspect");
                    std::shared_ptr<core::sae::Sae> sae;
                    FS_TRY(sae, models->sae(info.saePath, info.hook, model.decoder->device()));
                    progress.setMessage("Running the prompt");
                    FS_TRY(*result,
                        core::analysis::analyzePrompt(
                            *model.decoder, *model.tokenizer, *sae, prompt));
                    return std::to_string(result->ids.size()) + " tokens through " + info.saeLabel;
                });
        },
        [this, key, result, indexId](const JobState &job) {
            m_run->setEnabled(true);
            if (!job.succeeded) {
                m_caption->setText(job.outcome);
                return;
            }
            m_cache[key] = result;
            m_result = result;
            m_resultIndex = indexId;
            m_resultText = key.first;
            showResult();
        });
}

void PromptInspector::showResult()
{
    m_token = -1;
    m_feature = -1;
    fillFeatures(topFeaturesOfPrompt());
    m_caption->setText(tr(
        "Top features of the whole prompt (by their max over tokens). Click a token for its own; "
        "double-click a feature for its dashboard."));
    renderTokens();
}

QStringList PromptInspector::tokens() const
{
    QStringList out;
    if (m_result)
        for (const auto &t : m_result->tokens)
            out << displayToken(t);
    return out;
}

std::vector<std::pair<qint64, float>> PromptInspector::topFeaturesOfToken(int token) const
{
    std::vector<std::pair<qint64, float>> out;
    if (m_result && token >= 0 && token < static_cast<int>(m_result->perToken.size()))
        for (const auto &fa : m_result->perToken[static_cast<size_t>(token)])
            out.emplace_back(fa.feature, fa.value);
    return out;
}

std::vector<std::pair<qint64, float>> PromptInspector::topFeaturesOfPrompt() const
{
    std::vector<std::pair<qint64, float>> out;
    if (m_result)
        for (const auto &fa : m_result->prompt)
            out.emplace_back(fa.feature, fa.value);
    return out;
}

void PromptInspector::selectToken(int token)
{
    if (!m_result || token < 0 || token >= static_cast<int>(m_result->tokens.size()))
        return;
    m_token = token;
    m_feature = -1;
    fillFeatures(topFeaturesOfToken(token));
    m_caption->setText(m_result->special[static_cast<size_t>(token)]
            ? tr("'%1' is a special token: not analysed.")
                  .arg(displayToken(m_result->tokens[static_cast<size_t>(token)]))
            : tr("Top features of token %1, '%2'.")
                  .arg(token)
                  .arg(displayToken(m_result->tokens[static_cast<size_t>(token)])));
    renderTokens();
}

void PromptInspector::selectFeature(qint64 feature)
{
    m_feature = feature;
    renderTokens();
}

void PromptInspector::fillFeatures(const std::vector<std::pair<qint64, float>> &list)
{
    QSignalBlocker block(m_features);
    m_features->setRowCount(static_cast<int>(list.size()));
    qint64 saeId = 0;
    if (m_workbench->database())
        if (auto info = core::store::indexInfo(*m_workbench->database(), m_resultIndex))
            saeId = info->saeId;
    for (int r = 0; r < static_cast<int>(list.size()); ++r) {
        const auto [feature, value] = list[static_cast<size_t>(r)];
        auto *id = new QTableWidgetItem(QString::number(feature));
        id->setData(Qt::UserRole, feature);
        m_features->setItem(r, 0, id);
        m_features->setItem(r, 1, new QTableWidgetItem(QString::number(double(value), 'g', 4)));
        QString label;
        if (saeId)
            if (auto l = core::store::label(*m_workbench->database(), saeId, feature))
                label = QString::fromStdString(l->first);
        m_features->setItem(r, 2, new QTableWidgetItem(label));
    }
}

void PromptInspector::renderTokens()
{
    if (!m_result) {
        m_tokens->setHtml(tr("<p style=\"color:gray\">Tokens appear here after Inspect.</p>"));
        return;
    }
    // With a feature selected: its heatmap; otherwise each token's strongest activation.
    std::vector<TokenSpan> spans;
    float scale = 0;
    const auto it
        = m_feature >= 0 ? m_result->activations.find(m_feature) : m_result->activations.end();
    for (size_t t = 0; t < m_result->tokens.size(); ++t) {
        float v = 0;
        if (it != m_result->activations.end())
            v = it->second[t];
        else if (!m_result->perToken[t].empty())
            v = m_result->perToken[t].front().value;
        scale = std::max(scale, v);
        spans.push_back({ displayToken(m_result->tokens[t]), v, int(t) == m_token });
    }
    QString caption = it != m_result->activations.end()
        ? tr("Feature %1 on each token").arg(m_feature)
        : tr("Strongest feature activation of each token");
    m_tokens->setHtml(
        QStringLiteral("<p><i>%1</i></p><p style=\"line-height:150%\">%2</p>")
            .arg(caption.toHtmlEscaped(), tokensToHtml(spans, scale, QStringLiteral("tok:"))));
}

QString PromptInspector::tokensHtml() const
{
    return m_tokens->toHtml();
}

} // namespace fscope::ui
