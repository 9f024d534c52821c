#pragma once
// File > Index Corpus: model (directory or a model from the Hugging Face cache), SAEs, corpus,
// token budget, context length, batch size, device and precision. The indexing itself runs as a
// job.

#include <QDialog>
#include <QStringList>

class QComboBox;
class QLineEdit;
class QListWidget;
class QSpinBox;

namespace fscope::ui {

struct IndexSettings {
    QString model;
    QStringList saes;
    QStringList corpus;
    QString tokens = QStringLiteral("1M");
    int contextLength = 128;
    int batchSize = 8;
    QString device = QStringLiteral("auto");
    QString dtype = QStringLiteral("auto");
    bool wholeFiles = false;
};

class JobRunner;

class IndexDialog : public QDialog {
    Q_OBJECT
public:
    // `runner` lists SAE releases for "From the Hub..." (null: the Hub button is hidden).
    explicit IndexDialog(JobRunner *runner = nullptr, QWidget *parent = nullptr);
    IndexSettings settings() const;
    // Starts from the workbench's device and precision (the status bar's choices).
    void setCompute(const QString &device, const QString &dtype);
    // Why the settings cannot run yet (empty when they can).
    QString problem() const;

private:
    QComboBox *m_model;
    QListWidget *m_saes;
    QLineEdit *m_corpus;
    QLineEdit *m_tokens;
    QSpinBox *m_context;
    QSpinBox *m_batch;
    QComboBox *m_device;
    QComboBox *m_dtype;
    QComboBox *m_split;
};

} // namespace fscope::ui
