#pragma once
// The prompt inspector dock: type a prompt, pick an SAE, see its tokens, the top features of
// every token (click a token) and of the whole prompt; select a feature for its activation
// heatmap over the tokens; double-click to open its dashboard. Runs through the job runner on
// the model's device; results are kept per (prompt, SAE).

#include "ui/workbench.h"

#include <QWidget>

#include <map>
#include <memory>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QTextBrowser;

namespace fscope::core::analysis {
struct PromptAnalysis;
}

namespace fscope::ui {

class PromptInspector : public QWidget {
    Q_OBJECT
public:
    explicit PromptInspector(Workbench *workbench, QWidget *parent = nullptr);
    ~PromptInspector() override;

    // Analyses `text` with the SAE of index `indexId`; returns the job id (0 when cached).
    int inspect(const QString &text, qint64 indexId);
    void setPrompt(const QString &text);
    // After a run: the token texts and, per token, its top (feature, value) pairs.
    QStringList tokens() const;
    std::vector<std::pair<qint64, float>> topFeaturesOfToken(int token) const;
    std::vector<std::pair<qint64, float>> topFeaturesOfPrompt() const;
    void selectToken(int token);
    void selectFeature(qint64 feature);
    qint64 selectedFeature() const { return m_feature; }
    QString tokensHtml() const;

Q_SIGNALS:
    // "Steer with this feature" / "Ablate it": the prompt goes to the steering panel along
    // with Workbench::steerRequested.
    void steerPrompt(const QString &text);

private:
    void reloadSaes();
    void showResult();
    void renderTokens();
    void fillFeatures(const std::vector<std::pair<qint64, float>> &list);

    Workbench *m_workbench;
    QPlainTextEdit *m_prompt;
    QComboBox *m_sae;
    QPushButton *m_run;
    QTextBrowser *m_tokens;
    QLabel *m_caption;
    QTableWidget *m_features;
    std::map<std::pair<QString, qint64>, std::shared_ptr<core::analysis::PromptAnalysis>> m_cache;
    std::shared_ptr<core::analysis::PromptAnalysis> m_result;
    qint64 m_resultIndex = 0;
    QString m_resultText;
    int m_token = -1;
    qint64 m_feature = -1;
};

} // namespace fscope::ui
