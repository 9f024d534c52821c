#include "core/interp/explainer.h"

#include <algorithm>
#include <cctype>

namespace fscope::core::interp {

namespace {

std::string trim(std::string s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.erase(s.begin());
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    return s;
}

std::string quoted(std::string token)
{
    for (char &c : token)
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
    return "'" + token + "'";
}

} // namespace

std::vector<ChatMessage> explainerPrompt(const std::vector<TextExample> &examples, float latentMax,
    const std::vector<std::string> &promoted, const PromptTemplates &templates,
    const ExplainerSettings &settings)
{
    std::string listed, activations;
    for (size_t i = 0; i < examples.size(); ++i) {
        const TextExample &e = examples[i];
        const auto marks = firingTokens(e, settings.markFraction);
        listed += "Example " + std::to_string(i + 1) + ": " + markedText(e, marks) + "\n";
        if (settings.showActivations) {
            // delphi: after each example, its firing tokens with their levels.
            std::string pairs;
            int shown = 0;
            for (size_t t = 0; t < e.tokens.size() && shown < 11; ++t)
                if (marks[t]) {
                    pairs += (pairs.empty() ? "" : ", ") + quoted(e.tokens[t]) + " "
                        + std::to_string(activationLevel(e.activations[t], latentMax));
                    ++shown;
                }
            activations += "Example " + std::to_string(i + 1) + " activations: " + pairs + "\n";
        }
    }
    if (!listed.empty())
        listed.pop_back();
    std::string logits;
    if (settings.logitTokens > 0 && !promoted.empty()) {
        logits = "\n\nTokens the feature promotes next:";
        for (size_t i = 0; i < promoted.size() && int64_t(i) < settings.logitTokens; ++i)
            logits += (i ? ", " : " ") + quoted(promoted[i]);
    }
    if (!activations.empty()) {
        activations.pop_back();
        activations = "\n\nActivation levels (0-10) of the marked tokens:\n" + activations;
    }
    return renderPrompt(templates.explainer,
        { { "examples", listed }, { "activations", activations }, { "logits", logits } });
}

Result<std::string> parseExplanation(const std::string &answer)
{
    static const std::string tag = "[EXPLANATION]:";
    const size_t at = answer.rfind(tag);
    std::string text;
    if (at != std::string::npos) {
        text = answer.substr(at + tag.size());
        text = trim(text.substr(0, text.find('\n')));
    } else {
        text = trim(answer);
        if (text.find('\n') != std::string::npos || text.size() > 200)
            return Error { "the explainer's answer has no [EXPLANATION]: line" };
    }
    if (text.empty())
        return Error { "the explainer's answer has an empty explanation" };
    return text;
}

} // namespace fscope::core::interp
