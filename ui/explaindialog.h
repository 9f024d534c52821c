#pragma once
// Features > Explain Features...: which features of which SAE, which scores, and the LLM that
// explains and judges (an OpenAI-compatible server, or an instruct model run in-process on the
// workbench's device). The backend choice is remembered; an API key is named by the
// environment variable holding it, never typed or stored.

#include "ui/explainjob.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSpinBox;
class QStackedWidget;

namespace fscope::ui {

class Workbench;

class ExplainDialog : public QDialog {
    Q_OBJECT
public:
    explicit ExplainDialog(Workbench *workbench, QWidget *parent = nullptr);

    // The settings as chosen, or an error text (shown in the dialog) when incomplete.
    bool settings(ExplainSettings *out, QString *error) const;
    // Validates, remembers the backend and starts the job; its id (0 on an error).
    int start();

private:
    Workbench *m_workbench;
    QComboBox *m_index;
    QRadioButton *m_current, *m_labelled, *m_fromList, *m_fromIds, *m_all;
    QComboBox *m_list;
    QLineEdit *m_ids;
    QSpinBox *m_limit;
    QCheckBox *m_detection, *m_fuzzing, *m_simulation, *m_intervention;
    QComboBox *m_backend;
    QStackedWidget *m_backendPages;
    QLineEdit *m_endpoint, *m_llm, *m_keyVariable, *m_localModel;
    QSpinBox *m_concurrency, *m_batch;
    QLabel *m_error;
};

} // namespace fscope::ui
