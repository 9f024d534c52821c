#pragma once
// The auto-interpretation workflow, one call for `featurescope-cli explain` and the
// workbench's Explain Features job: for each chosen feature of an index, explain it from its
// stored examples, score the explanation (detection, fuzzing, simulation, intervention), and
// keep every prompt, answer and score in the workspace, keyed by the full request so a
// repeated request sends nothing. Backend calls run in parallel (the backend's concurrency);
// the model's work (non-activating checks, steered continuations) and every workspace write
// stay on the calling thread. One feature's failure is reported with it; the others go on.

#include "core/interp/chat_backend.h"
#include "core/interp/explainer.h"
#include "core/interp/intervention_scorer.h"
#include "core/interp/negative_pool.h"
#include "core/interp/scorers.h"
#include "core/model/decoder.h"
#include "core/store/database.h"
#include "core/store/index_store.h"

#include <map>
#include <memory>
#include <optional>

namespace fscope::core::interp {

// Which features: explicit ids, a named list, the labelled ones, or every live one.
struct FeatureSelection {
    std::vector<int64_t> ids;
    std::string list; // a feature list's name
    bool labelled = false;
    bool allLive = false;
    int64_t limit = 0; // 0 = no limit (the densest first for allLive)
};
Result<std::vector<int64_t>> selectFeatures(
    store::Database &db, const store::IndexInfo &index, const FeatureSelection &selection);

struct ExplainRequest {
    int64_t indexId = 0;
    std::vector<int64_t> features;
    std::vector<std::string> scorers = { "detection", "fuzzing" };
    std::string templatePath; // empty: the built-in templates
    ExplainerSettings explainer;
    ScoreSettings scoring;
    int64_t nonActivating = 50; // per feature (delphi: 50)
    int64_t activating = 50; // quantile-band examples scored, at most (delphi: 50)
    int64_t simulationTexts = 5; // of each kind
    InterventionSettings intervention;
    NegativePoolOptions negatives; // the window length defaults to the index's example width
    uint64_t seed = 0;
    ChatBackend *backend = nullptr;
    // The index's model, tokenizer and SAE (the workbench passes its resident ones); loaded
    // from the index's paths on `device` when null and a scorer needs them.
    const model::Decoder *decoder = nullptr;
    const tokenize::Tokenizer *tokenizer = nullptr;
    std::shared_ptr<const sae::Sae> sae;
    std::string device = "auto", dtype = "auto";
};

struct FeatureInterpretation {
    int64_t feature = 0;
    std::string explanation;
    std::map<std::string, std::optional<double>> scores;
    bool explanationCached = false;
    int64_t scoresCached = 0;
    std::string error; // the feature could not be explained
    std::map<std::string, std::string> scoreErrors; // per scorer
};

struct ExplainResult {
    std::vector<FeatureInterpretation> features;
    int64_t promptTokens = 0, completionTokens = 0, requests = 0;
    double seconds = 0;
    int64_t failed() const;
};

Result<ExplainResult> runExplainJob(
    store::Database &db, const ExplainRequest &request, jobs::Progress *progress = nullptr);

// The scorers this build knows.
const std::vector<std::string> &knownScorers();

} // namespace fscope::core::interp
