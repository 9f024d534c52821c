#pragma once
// The decomposition dock's form: a steering vector (loaded from .npy / .safetensors, or built
// by CAA from a JSONL file of prompt pairs with the index's model), an indexed SAE, and the
// methods to compare; run as a job through core's runDecomposition (the CLI's `decompose`
// calls the same). The results sit in DecompositionResults; the vector's norm is shown
// against the activation norms at the SAE's hook. Every decomposition is cached in the
// workspace by its full parameter set. With a prompt, each method's top-k rebuild re-steers
// the model next to v itself (KL between the two, and a target token's log-prob change).

#include "ui/workbench.h"

#include <QWidget>

#include <memory>
#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace fscope::core::steer {
struct Decomposition;
}

namespace fscope::ui {

class DecompositionResults;

class DecompositionPanel : public QWidget {
    Q_OBJECT
public:
    explicit DecompositionPanel(Workbench *workbench, QWidget *parent = nullptr);
    ~DecompositionPanel() override;

    void setVectorFile(const QString &path);
    void setPairsFile(const QString &path);
    void setMethods(const QStringList &names);
    int run(); // the job id, 0 when nothing could start
    const std::vector<core::steer::Decomposition> &results() const;
    void selectMethod(const QString &name);

Q_SIGNALS:
    void openFeature(qint64 indexId, qint64 feature);

private:
    void reloadIndexes();
    Workbench *m_workbench;
    QComboBox *m_index, *m_position;
    QLineEdit *m_vector, *m_pairs, *m_resteerPrompt, *m_target;
    QDoubleSpinBox *m_strength;
    std::vector<QCheckBox *> m_methods;
    QSpinBox *m_k;
    QLabel *m_status, *m_norms;
    DecompositionResults *m_results;
};

} // namespace fscope::ui
