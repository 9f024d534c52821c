#pragma once
// The dashboard's explanation strip, one line high so the dashboard keeps its room: the
// feature's newest explanation (auto-interpretation or imported) with its scores and the LLM
// that wrote it, "Use as label", and "Scored texts", a window listing every text the judge saw
// with its answer, so a score can be checked by eye.

#include <QWidget>

class QDialog;
class QLabel;
class QPushButton;
class QTextBrowser;

namespace fscope::core::store {
class Database;
}

namespace fscope::ui {

class ExplanationPanel : public QWidget {
    Q_OBJECT
public:
    explicit ExplanationPanel(QWidget *parent = nullptr);

    // Reads the feature's newest explanation (a few indexed queries on the UI thread's
    // connection); hides itself when there is none.
    void showFeature(core::store::Database *db, qint64 saeId, qint64 feature);
    QString explanation() const { return m_explanation; }
    QString scoresText() const;
    QTextBrowser *details() const { return m_details; }

Q_SIGNALS:
    void useAsLabel(const QString &text);

private:
    QLabel *m_text;
    QLabel *m_scores;
    QPushButton *m_use;
    QPushButton *m_showDetails;
    QDialog *m_detailsWindow;
    QTextBrowser *m_details;
    QString m_explanation;
};

} // namespace fscope::ui
