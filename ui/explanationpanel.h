#pragma once
// The dashboard's explanation strip: the feature's newest explanation (auto-interpretation or
// imported) with where it came from and each score, "Use as label", and on demand the scored
// texts with the judge's answer to each, so a score can be checked by eye.

#include <QWidget>

class QLabel;
class QPushButton;
class QTextBrowser;
class QToolButton;

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
    QToolButton *m_toggle;
    QTextBrowser *m_details;
    QString m_explanation;
};

} // namespace fscope::ui
