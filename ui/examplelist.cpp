#include "ui/examplelist.h"

#include <QHelpEvent>
#include <QPainter>
#include <QScrollBar>
#include <QToolTip>

namespace fscope::ui {

ExampleList::ExampleList(QWidget *parent)
    : QAbstractScrollArea(parent)
{
    setObjectName(QStringLiteral("examplesView"));
    viewport()->setMouseTracking(true);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setBackgroundRole(QPalette::Base);
    viewport()->setBackgroundRole(QPalette::Base);
}

int ExampleList::rowHeight() const
{
    return fontMetrics().height() + 6;
}

int ExampleList::captionWidth() const
{
    return fontMetrics().horizontalAdvance(QStringLiteral("00000.000")) + 8;
}

void ExampleList::setRows(std::vector<ExampleRow> rows)
{
    m_rows = std::move(rows);
    relayout();
    verticalScrollBar()->setValue(0);
    viewport()->update();
}

void ExampleList::relayout()
{
    const QFontMetrics fm(font());
    QFont bold = font();
    bold.setBold(true);
    const QFontMetrics boldFm(bold);
    m_offsets.assign(m_rows.size(), {});
    m_widths.assign(m_rows.size(), {});
    for (size_t r = 0; r < m_rows.size(); ++r) {
        const auto &tokens = m_rows[r].tokens;
        std::vector<int> widths(tokens.size()), offsets(tokens.size());
        int x = 0, anchor = 0;
        for (size_t t = 0; t < tokens.size(); ++t) {
            widths[t]
                = std::max((tokens[t].marked ? boldFm : fm).horizontalAdvance(tokens[t].text), 3);
            if (tokens[t].marked)
                anchor = x + widths[t] / 2;
            offsets[t] = x;
            x += widths[t];
        }
        for (int &o : offsets)
            o -= anchor;
        m_offsets[r] = std::move(offsets);
        m_widths[r] = std::move(widths);
    }
    verticalScrollBar()->setRange(
        0, std::max(0, int(m_rows.size()) * rowHeight() - viewport()->height()));
    verticalScrollBar()->setPageStep(viewport()->height());
    verticalScrollBar()->setSingleStep(rowHeight());
}

void ExampleList::resizeEvent(QResizeEvent *event)
{
    QAbstractScrollArea::resizeEvent(event);
    relayout();
}

void ExampleList::changeEvent(QEvent *event)
{
    QAbstractScrollArea::changeEvent(event);
    if (event->type() == QEvent::FontChange || event->type() == QEvent::PaletteChange)
        relayout();
}

QColor ExampleList::tokenBackground(int row, int token) const
{
    if (row < 0 || row >= int(m_rows.size()) || token < 0
        || token >= int(m_rows[size_t(row)].tokens.size()))
        return {};
    const ExampleRow &r = m_rows[size_t(row)];
    const float v = r.tokens[size_t(token)].value;
    return v > 0 ? highlightColor(r.scale > 0 ? v / r.scale : 0.0) : QColor();
}

std::pair<int, int> ExampleList::tokenAt(const QPoint &pos) const
{
    const int row = (pos.y() + verticalScrollBar()->value()) / rowHeight();
    if (row < 0 || row >= int(m_rows.size()) || !m_rows[size_t(row)].heading.isEmpty())
        return { -1, -1 };
    const int centre = captionWidth() + (viewport()->width() - captionWidth()) / 2;
    const auto &offsets = m_offsets[size_t(row)];
    for (size_t t = 0; t < offsets.size(); ++t) {
        const int x = centre + offsets[t];
        if (pos.x() >= x && pos.x() < x + m_widths[size_t(row)][t])
            return { row, int(t) };
    }
    return { -1, -1 };
}

void ExampleList::paintEvent(QPaintEvent *)
{
    QPainter p(viewport());
    const QPalette pal = palette();
    const int h = rowHeight(), top = verticalScrollBar()->value();
    const int first = top / h,
              last = std::min(int(m_rows.size()) - 1, (top + viewport()->height()) / h);
    const int capW = captionWidth();
    const int centre = capW + (viewport()->width() - capW) / 2;
    const QFontMetrics fm(font());
    QFont bold = font();
    bold.setBold(true);
    for (int r = std::max(0, first); r <= last; ++r) {
        const ExampleRow &row = m_rows[size_t(r)];
        const int y = r * h - top;
        if (!row.heading.isEmpty()) {
            p.setFont(bold);
            p.setPen(pal.color(QPalette::Text));
            p.drawText(QRect(4, y, viewport()->width() - 8, h), Qt::AlignLeft | Qt::AlignBottom,
                row.heading);
            p.setFont(font());
            continue;
        }
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(QRect(0, y, capW - 8, h), Qt::AlignRight | Qt::AlignVCenter, row.caption);
        p.save();
        p.setClipRect(QRect(capW, y, viewport()->width() - capW, h));
        for (size_t t = 0; t < row.tokens.size(); ++t) {
            const TokenSpan &tok = row.tokens[t];
            const QRect box(centre + m_offsets[size_t(r)][t], y + 2, m_widths[size_t(r)][t], h - 4);
            if (box.right() < capW || box.left() > viewport()->width())
                continue;
            QColor fg = pal.color(QPalette::Text);
            if (tok.value > 0) {
                const QColor bg = highlightColor(row.scale > 0 ? tok.value / row.scale : 0.0);
                p.fillRect(box, bg);
                fg = textColorOn(bg);
            }
            p.setFont(tok.marked ? bold : font());
            p.setPen(fg);
            p.drawText(box, Qt::AlignLeft | Qt::AlignVCenter | Qt::TextDontClip, tok.text);
            if (tok.marked)
                p.drawLine(box.bottomLeft(), box.bottomRight());
        }
        p.restore();
    }
    p.setFont(font());
}

bool ExampleList::viewportEvent(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const auto [row, token] = tokenAt(help->pos());
        if (row >= 0) {
            const TokenSpan &t = m_rows[size_t(row)].tokens[size_t(token)];
            QToolTip::showText(help->globalPos(),
                tr("'%1'  activation %2%3")
                    .arg(t.text)
                    .arg(double(t.value), 0, 'g', 4)
                    .arg(t.marked ? tr("  (max)") : QString()),
                viewport());
        } else {
            QToolTip::hideText();
        }
        return true;
    }
    return QAbstractScrollArea::viewportEvent(event);
}

} // namespace fscope::ui
