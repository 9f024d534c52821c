#pragma once
// The feature dashboard (central): header with the numbers, editable label and notes, the
// activation histogram, the logit effects, where the feature's density sits among all the
// SAE's features, and the top-activating and quantile examples with per-token highlighting.

#include "ui/workbench.h"

#include <QWidget>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

class QCustomPlot;
class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QToolButton;
class QStackedWidget;
class QMenu;

namespace fscope::core::store {
struct FeatureDashboard;
}

namespace fscope::ui {

class ExampleList;
class ExplanationPanel;

class FeatureDashboardView : public QWidget {
    Q_OBJECT
public:
    explicit FeatureDashboardView(Workbench *workbench, QWidget *parent = nullptr);
    ~FeatureDashboardView() override;

    // Loads and renders a feature from the workspace (synchronous: a few indexed queries).
    bool showFeature(FeatureRef ref);
    QString headerText() const;
    ExampleList *examples() const { return m_examples; }
    const core::store::FeatureDashboard *data() const { return m_data.get(); }
    QToolButton *bookmarkButton() const { return m_bookmark; }
    ExplanationPanel *explanation() const { return m_explanation; }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void setTitle(const QString &title);
    void elideTitle();
    QString atomOrigin(const core::store::FeatureDashboard &d);
    void render();
    void renderHistogram();
    void renderLogits();
    void renderDensityContext();
    void renderWrites();
    void renderExamples();
    void saveLabel();
    void updateListButtons();
    void setInList(qint64 listId, bool member);

    Workbench *m_workbench;
    std::unique_ptr<core::store::FeatureDashboard> m_data;
    QString m_titleText; // the whole title; the label shows it elided to its width
    // An ITDA dictionary's atom origins (context, position, token), read once per SAE path.
    std::string m_originsPath;
    std::vector<std::array<int64_t, 3>> m_origins;
    std::vector<float> m_allDensities; // of the index on screen, for the density context
    qint64 m_densityIndex = 0;
    QStackedWidget *m_stack;
    QLabel *m_title;
    QLabel *m_stats;
    QLineEdit *m_label;
    QPlainTextEdit *m_notes;
    ExplanationPanel *m_explanation;
    QCustomPlot *m_histogram;
    QCustomPlot *m_logits;
    QCheckBox *m_foldNorm;
    QCustomPlot *m_density;
    QCustomPlot *m_writes; // where a CLT feature writes; hidden for single-hook dictionaries
    ExampleList *m_examples;
    QLabel *m_error;
    QToolButton *m_bookmark;
    QToolButton *m_lists;
    QMenu *m_listMenu;
};

} // namespace fscope::ui
