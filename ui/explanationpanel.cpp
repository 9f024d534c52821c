#include "ui/explanationpanel.h"

#include "core/store/interp_store.h"

#include <nlohmann/json.hpp>

#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QToolButton>

namespace fscope::ui {

ExplanationPanel::ExplanationPanel(QWidget *parent)
    : QWidget(parent)
    , m_text(new QLabel(this))
    , m_scores(new QLabel(this))
    , m_use(new QPushButton(tr("Use as label"), this))
    , m_toggle(new QToolButton(this))
    , m_details(new QTextBrowser(this))
{
    setObjectName(QStringLiteral("explanationPanel"));
    m_text->setObjectName(QStringLiteral("explanationText"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_scores->setObjectName(QStringLiteral("explanationScores"));
    m_scores->setWordWrap(true);
    m_use->setObjectName(QStringLiteral("useExplanationAsLabel"));
    m_use->setToolTip(tr("Copy the explanation into the feature's label"));
    m_toggle->setObjectName(QStringLiteral("showScoredExamples"));
    m_toggle->setText(tr("Scored texts"));
    m_toggle->setCheckable(true);
    m_toggle->setToolTip(tr("The texts the judge saw and what it answered"));
    m_details->setObjectName(QStringLiteral("scoredExamples"));
    m_details->setVisible(false);
    m_details->setMinimumHeight(fontMetrics().height() * 8);
    auto *layout = new QGridLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_text, 0, 0);
    layout->addWidget(m_use, 0, 1);
    layout->addWidget(m_scores, 1, 0);
    layout->addWidget(m_toggle, 1, 1);
    layout->addWidget(m_details, 2, 0, 1, 2);
    layout->setColumnStretch(0, 1);
    connect(m_use, &QPushButton::clicked, this, [this] { Q_EMIT useAsLabel(m_explanation); });
    connect(m_toggle, &QToolButton::toggled, m_details, &QWidget::setVisible);
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
    m_scores->setText(
        tr("%1  ·  %2")
            .arg(scores.isEmpty() ? tr("not scored") : scores.join(QStringLiteral(", ")),
                QString::fromStdString(x.explanation.origin).toHtmlEscaped()));
    m_details->setHtml(html);
    m_toggle->setEnabled(!html.isEmpty());
    setVisible(true);
}

} // namespace fscope::ui
