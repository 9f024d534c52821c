#include "ui/tokenhtml.h"

#include "core/report/chart_style.h"
#include "core/report/feature_report.h"

#include <QApplication>
#include <QPalette>

#include <algorithm>

namespace fscope::ui {

QString displayToken(const std::string &bytes)
{
    return QString::fromStdString(core::report::displayToken(bytes));
}

QColor highlightColor(double t)
{
    t = std::clamp(t, 0.0, 1.0);
    const QColor base = QApplication::palette().color(QPalette::Base);
    const QColor hot(core::report::kHighlightColor.r, core::report::kHighlightColor.g,
        core::report::kHighlightColor.b);
    const double a = core::report::highlightOpacity(t);
    return QColor::fromRgbF(float(base.redF() * (1 - a) + hot.redF() * a),
        float(base.greenF() * (1 - a) + hot.greenF() * a),
        float(base.blueF() * (1 - a) + hot.blueF() * a));
}

QColor textColorOn(const QColor &background)
{
    const double luminance
        = 0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF();
    return luminance > 0.5 ? QColor(Qt::black) : QColor(Qt::white);
}

QString tokensToHtml(const std::vector<TokenSpan> &tokens, float scale, const QString &anchorPrefix)
{
    // Runs of inactive tokens become one plain text run; only active (or marked) tokens are
    // styled anchors. Most tokens of an example are inactive, and rich-text layout cost grows
    // with the number of styled fragments.
    QString html = QStringLiteral("<span style=\"white-space:pre\">");
    QString plain;
    auto flush = [&] {
        if (!plain.isEmpty())
            html += plain.toHtmlEscaped();
        plain.clear();
    };
    for (size_t i = 0; i < tokens.size(); ++i) {
        const TokenSpan &t = tokens[i];
        if (t.value <= 0 && !t.marked) {
            plain += t.text;
            continue;
        }
        flush();
        const double intensity = scale > 0 ? std::max(0.0f, t.value) / scale : 0.0;
        QString style;
        if (t.value > 0) {
            const QColor bg = highlightColor(intensity);
            style = QStringLiteral("background-color:%1;color:%2;")
                        .arg(bg.name(), textColorOn(bg).name());
        } else {
            style = QStringLiteral("color:%1;")
                        .arg(QApplication::palette().color(QPalette::Text).name());
        }
        style += t.marked ? QStringLiteral("font-weight:bold;text-decoration:underline;")
                          : QStringLiteral("text-decoration:none;");
        html += QStringLiteral("<a href=\"%1%2\" style=\"%3\">%4</a>")
                    .arg(anchorPrefix)
                    .arg(i)
                    .arg(style, t.text.toHtmlEscaped());
    }
    flush();
    return html + QStringLiteral("</span>");
}

} // namespace fscope::ui
