#include "core/interp/text_example.h"

#include <algorithm>
#include <cmath>

namespace fscope::core::interp {

float TextExample::max() const
{
    float m = 0;
    for (float a : activations)
        m = std::max(m, a);
    return m;
}

std::vector<TextExample> textExamples(
    const std::vector<store::ExampleView> &views, const tokenize::Tokenizer &tokenizer)
{
    std::vector<TextExample> out;
    for (const auto &v : views) {
        TextExample e;
        e.ids = v.ids;
        for (int32_t id : v.ids)
            e.tokens.push_back(tokenize::sanitizeUtf8(tokenizer.tokenBytes(id)));
        e.activations = v.activations;
        e.activations.resize(e.ids.size(), 0.0f);
        e.context = v.context;
        e.start = v.start;
        e.band = v.kind == 0 ? -1 : v.band;
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<bool> firingTokens(const TextExample &example, double fraction)
{
    const float m = example.max();
    std::vector<bool> marks(example.tokens.size(), false);
    if (m <= 0)
        return marks;
    for (size_t t = 0; t < marks.size(); ++t)
        marks[t] = example.activations[t] > fraction * m;
    return marks;
}

namespace {

std::string oneLine(std::string text)
{
    for (char &c : text)
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
    return text;
}

} // namespace

std::string markedText(const TextExample &example, const std::vector<bool> &marks)
{
    std::string out;
    bool open = false;
    for (size_t t = 0; t < example.tokens.size(); ++t) {
        const bool mark = t < marks.size() && marks[t];
        if (mark && !open)
            out += "<<";
        if (!mark && open)
            out += ">>";
        open = mark;
        out += oneLine(example.tokens[t]);
    }
    if (open)
        out += ">>";
    return out;
}

std::string plainText(const TextExample &example)
{
    return markedText(example, {});
}

int activationLevel(float activation, float latentMax)
{
    if (latentMax <= 0 || activation <= 0)
        return 0;
    return std::clamp(static_cast<int>(std::ceil(10.0 * activation / latentMax)), 0, 10);
}

} // namespace fscope::core::interp
