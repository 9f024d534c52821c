#include "ui/explanationpanel.h"

#include "core/store/interp_store.h"

#include <nlohmann/json.hpp>

#include <QDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace fscope::ui {

ExplanationPanel::ExplanationPanel(QWidget *parent)
    : QWidget(parent)
    , m_text(new QLabel(this))
    , m_scores(new QLabel(this))
    , m_use(new QPushButton(tr("Use as label"), this))
    , m_showDetails(new QPushButton(tr("Scored texts..."), this))
    , m_detailsWindow(new QDialog(this))
    , m_details(new QTextBrowser(m_detailsWindow))
{
    setObjectName(QStringLiteral("explanationPanel"));
    m_text->setObjectName(QStringLiteral("explanationText"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_scores->setObjectName(QStringLiteral("explanationScores"));
    m_use->setObjectName(QStringLiteral("useExplanationAsLabel"));
    m_use->setToolTip(tr("Copy the explanation into the feature's label"));
    m_showDetails->setObjectName(QStringLiteral("showScoredExamples"));
    m_showDetails->setToolTip(tr("The texts the judge saw and what it answered"));
    m_details->setObjectName(QStringLiteral("scoredExamples"));
    m_detailsWindow->setWindowTitle(tr("Scored texts"));
    m_detailsWindow->resize(900, 600);
    auto *windowLayout = new QVBoxLayout(m_detailsWindow);
    windowLayout->addWidget(m_details);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_scores);
    layout->addWidget(m_use);
    layout->addWidget(m_showDetails);
    connect(m_use, &QPushButton::clicked, this, [this] { Q_EMIT useAsLabel(m_explanation); });
    connect(m_showDetails, &QPushButton::clicked, m_detailsWindow, [this] {
        m_detailsWindow->show();
        m_detailsWindow->raise();
    });
    setVisible(false);
}

QString ExplanationPanel::scoresText() const
{
    return m_scores->text();
}

void ExplanationPanel::showFeature(core::store::Database *db, qint64 saeId, qint64 feature)
{
    m_explanation.clear();
    m_details->clear();
    auto found = db ? core::store::latestExplanation(*db, saeId, feature)
                    : core::Result<std::optional<core::store::FeatureExplanation>>(std::nullopt);
    if (!found || !*found) {
        setVisible(false);
        return;
    }
    const auto &x = **found;
    m_explanation = QString::fromStdString(x.explanation.explanation);
    m_text->setText(tr("<b>Explanation</b>: %1").arg(m_explanation.toHtmlEscaped()));
    QStringList scores;
    QString html;
    for (const auto &s : x.scores) {
        scores << (s.score ? QStringLiteral("%1 %2")
                                 .arg(QString::fromStdString(s.scorer))
                                 .arg(*s.score, 0, 'f', 2)
                           : tr("%1 n/a").arg(QString::fromStdString(s.scorer)));
        nlohmann::json details;
        try {
            details = nlohmann::json::parse(s.detailsJson);
        } catch (const nlohmann::json::exception &) {
            continue;
        }
        if (!details.contains("items") || details["items"].empty())
            continue;
        // Each text as the judge saw it: what it answered, and whether that was right.
        html += QStringLiteral("<h4>%1</h4><table cellspacing='2'>")
                    .arg(QString::fromStdString(s.scorer).toHtmlEscaped());
        for (const auto &item : details["items"]) {
            const bool activating = item.value("activating", false);
            const int prediction = item.value("prediction", -1);
            const QString verdict = prediction < 0 ? tr("no answer")
                : (prediction == 1) == activating  ? tr("right")
                                                   : tr("wrong");
            const QString colour = prediction < 0 ? QStringLiteral("#888888")
                : (prediction == 1) == activating ? QStringLiteral("#1a7f37")
                                                  : QStringLiteral("#cf222e");
            QString text = QString::fromStdString(item.value("text", std::string()))
                               .toHtmlEscaped()
                               .replace(QStringLiteral("&lt;&lt;"), QStringLiteral("<b>"))
                               .replace(QStringLiteral("&gt;&gt;"), QStringLiteral("</b>"));
            html += QStringLiteral("<tr><td style='color:%1'>%2</td><td>%3</td><td>%4</td></tr>")
                        .arg(colour, verdict, activating ? tr("fires") : tr("silent"), text);
        }
        html += QStringLiteral("</table>");
    }
    m_scores->setText(scores.isEmpty() ? tr("not scored") : scores.join(QStringLiteral(", ")));
    const QString origin = QString::fromStdString(x.explanation.origin);
    const QString llm = QString::fromStdString(x.explanation.llm);
    m_text->setToolTip(tr("From %1").arg(origin));
    if (!llm.isEmpty())
        m_text->setText(m_text->text()
            + QStringLiteral(" <span style='color:#888888'>(%1)</span>").arg(llm.toHtmlEscaped()));
    m_details->setHtml(
        QStringLiteral("<p>%1 · %2</p>").arg(m_explanation.toHtmlEscaped(), origin.toHtmlEscaped())
        + html);
    m_showDetails->setEnabled(!html.isEmpty());
    setVisible(true);
}

} // namespace fscope::ui
