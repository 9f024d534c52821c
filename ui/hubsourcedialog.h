#pragma once
// Where a model or an SAE comes from: a folder on disk, or a Hub name (org/name[@revision] for
// a model, hf://org/repo/path[@revision] for an SAE) that the job reading it downloads into
// the Hugging Face cache first, with progress in the Jobs panel. For SAEs, "SAE release"
// lists a release repository (google/gemma-scope-2b-pt-res, ...) from its own file listing and
// offers its site / layer / width / L0 choices, so nobody types a release's folder names.

#include <QDialog>
#include <QString>

#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace fscope::core::hub {
struct SaeRelease;
}

namespace fscope::ui {

class JobRunner;

class HubSourceDialog : public QDialog {
    Q_OBJECT
public:
    enum class Kind { Model, Sae };
    HubSourceDialog(Kind kind, JobRunner *runner, QWidget *parent = nullptr);
    ~HubSourceDialog() override;

    // What the user chose: a path or a Hub name, trimmed.
    QString name() const;
    void setName(const QString &name);

    // Lists a release through the job runner; the choices fill in when it is done.
    // Returns the job id (0 for an SAE-less dialog).
    int listRelease(const QString &repo);
    // The release's entries matching the current choices (tests, and the status line).
    int matchingEntries() const;

Q_SIGNALS:
    // The release listing finished: `entries` SAEs (0 and an error shown on failure).
    void releaseListed(int entries);

private:
    void fillChoice(QComboBox *box, int level);
    void choiceChanged(int level);

    Kind m_kind;
    JobRunner *m_runner;
    QLineEdit *m_name;
    QLineEdit *m_repo = nullptr;
    QPushButton *m_list = nullptr;
    QComboBox *m_site = nullptr, *m_layer = nullptr, *m_width = nullptr, *m_l0 = nullptr;
    QLabel *m_releaseStatus = nullptr;
    std::shared_ptr<core::hub::SaeRelease> m_release;
};

} // namespace fscope::ui
