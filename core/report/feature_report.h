#pragma once
// A feature report: everything the dashboard shows about one feature, with token ids already
// turned into text, so writers (HTML, Markdown, JSON, Neuronpedia, PDF) need neither the
// workspace nor the tokenizer. Reports are built from the workspace's index in a few queries.

#include "core/util/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

// Plugins include this header: it stays free of LibTorch and SQLite.
namespace fscope::core::store {
class Database;
}
namespace fscope::core::jobs {
class Progress;
}

namespace fscope::core::report {

struct ReportExample {
    int rank = 0;
    int band = -1; // quantile band, -1 for the top examples
    float value = 0;
    int64_t context = 0;
    int maxPos = 0; // index of the max token in `tokens`
    std::vector<std::string> tokens;
    std::vector<float> values;
};

struct ReportBand {
    float lo = 0, hi = 0;
    int64_t count = 0;
};

using TokenEffects = std::vector<std::pair<std::string, float>>;

struct FeatureReport {
    // Where it comes from.
    int64_t indexId = 0, saeId = 0;
    std::string modelPath, modelName, saeLabel, saePath, hook, corpusLabel;
    int64_t layer = -1, dSae = 0, indexedTokens = 0;
    // The feature.
    int64_t feature = 0;
    std::string label, notes;
    // The newest explanation (auto-interpretation or imported), where it came from, and its
    // scores by scorer (docs/autointerp.md); empty when the feature has none.
    std::string explanation, explanationOrigin, explanationModel;
    std::vector<std::pair<std::string, double>> scores;
    std::vector<std::string> lists; // names of the feature lists holding it
    int64_t count = 0; // tokens it fired on
    double density = 0, mean = 0;
    float max = 0;
    bool dead() const { return count == 0; }
    float histLo = 0, histHi = 0;
    std::vector<uint32_t> histogram; // non-zero activations, equal-width bins over [histLo, histHi]
    std::vector<ReportBand> bands;
    TokenEffects logitTop, logitBottom; // W_dec . W_U
    std::vector<ReportExample> top, quantiles;
};

// Turns token ids into display text: the model's tokenizer when it loads, "#id" otherwise;
// BOS/EOS read as "<bos>"/"<eos>".
class TokenNamer {
public:
    explicit TokenNamer(const std::string &modelPath);
    ~TokenNamer();
    std::string operator()(int32_t id) const;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

// One report per feature of `indexId`, in order. Reads the workspace only.
Result<std::vector<FeatureReport>> buildFeatureReports(store::Database &db, int64_t indexId,
    const std::vector<int64_t> &features, jobs::Progress *progress = nullptr);

// How a token reads in a report: newlines and tabs as visible marks (↵, →), CR dropped.
std::string displayToken(const std::string &token);

// `value` through a printf format ("%.4g"): the one number formatter of the report writers.
std::string formatNumber(const char *printfFormat, double value);

// "layer6-res" style file-name part: letters, digits, '-', '_' and '.' only.
std::string fileSafe(const std::string &text);

} // namespace fscope::core::report
