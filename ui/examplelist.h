#pragma once
// Activating examples as a concordance: one row per example, its max token centred in the
// view so the eye runs down one column, each token shaded by its activation (hover names the
// token and its value). Painted directly: a dashboard's ~100 rows draw in a millisecond or
// two, where rich text took tens.

#include "ui/tokenhtml.h"

#include <QAbstractScrollArea>

#include <vector>

namespace fscope::ui {

struct ExampleRow {
    QString caption; // left column (e.g. the example's max value)
    QString heading; // a section title row when non-empty (tokens ignored)
    std::vector<TokenSpan> tokens; // `marked` = the max token, centred
    float scale = 1; // activation drawn at full intensity
};

class ExampleList : public QAbstractScrollArea {
    Q_OBJECT
public:
    explicit ExampleList(QWidget *parent = nullptr);

    void setRows(std::vector<ExampleRow> rows);
    const std::vector<ExampleRow> &rows() const { return m_rows; }
    // The background a token is drawn with (invalid when it has none), for tests.
    QColor tokenBackground(int row, int token) const;
    // Row and token under a viewport position; {-1, -1} when none.
    std::pair<int, int> tokenAt(const QPoint &pos) const;

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    bool viewportEvent(QEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void relayout();
    int rowHeight() const;
    int captionWidth() const;

    std::vector<ExampleRow> m_rows;
    std::vector<std::vector<int>> m_offsets; // per row: x of each token relative to the max token
    std::vector<std::vector<int>> m_widths;
};

} // namespace fscope::ui
