#pragma once
// Tokens as HTML with a background whose intensity is proportional to an activation, readable
// on light and dark palettes; each token is an anchor so hovering can name it and its value.

#include <QColor>
#include <QString>
#include <vector>

namespace fscope::ui {

// How a token reads on screen: leading spaces kept, newlines and tabs as visible marks.
QString displayToken(const std::string &bytes);

// The highlight for intensity t in [0, 1] over the palette's base colour, and a text colour
// that stays readable on it.
QColor highlightColor(double t);
QColor textColorOn(const QColor &background);

struct TokenSpan {
    QString text;
    float value = 0;
    bool marked = false; // the example's max token
};

// `anchorPrefix` + index names each token's link ("tok:3:" + "7").
QString tokensToHtml(
    const std::vector<TokenSpan> &tokens, float scale, const QString &anchorPrefix);

} // namespace fscope::ui
