#pragma once
// Feature examples as the explainer and the scorers show them: token texts with the feature's
// activation on each, marked the way delphi marks them (tokens above a fraction of the
// example's own max wrapped in <<...>>, one pair per run of tokens).

#include "core/store/index_store.h"
#include "core/tokenize/tokenizer.h"

#include <string>
#include <vector>

namespace fscope::core::interp {

struct TextExample {
    std::vector<int32_t> ids;
    std::vector<std::string> tokens; // display text of each token
    std::vector<float> activations; // the feature on each token (all 0 when not activating)
    int64_t context = 0;
    int start = 0; // first context position of the window
    int band = -1; // quantile band; -1: a top example
    bool activating = true;

    float max() const;
};

// The stored examples of a feature as texts (the tokenizer turns ids into token text).
std::vector<TextExample> textExamples(
    const std::vector<store::ExampleView> &views, const tokenize::Tokenizer &tokenizer);

// Which tokens fire: activation > fraction x the example's max (delphi's highlight rule, 0.3).
std::vector<bool> firingTokens(const TextExample &example, double fraction);

// The example's text with the marked tokens wrapped in <<...>>, adjacent marked tokens sharing
// one pair. Newlines become spaces so one example stays on one line.
std::string markedText(const TextExample &example, const std::vector<bool> &marks);
std::string plainText(const TextExample &example);

// delphi's activation level: ceil(10 a / latentMax), clamped to 0..10.
int activationLevel(float activation, float latentMax);

} // namespace fscope::core::interp
