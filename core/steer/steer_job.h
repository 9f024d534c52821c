#pragma once
// The steering workflow, one call for `featurescope-cli steer` / `sweep` and the Steering
// panel: a feature edit (add, clamp, scale, ablate, ...) at one or more strengths, optionally
// in multiples of the feature's max activation from its index, plus fixed extra edits; each
// run compared with the unsteered generation and answered from the workspace when cached.

#include "core/jobs/progress.h"
#include "core/model/decoder.h"
#include "core/model/position_policy.h"
#include "core/sae/sae.h"
#include "core/steer/steering.h"
#include "core/store/database.h"
#include "core/tokenize/tokenizer.h"

#include <memory>
#include <string>
#include <vector>

namespace fscope::core::steer {

// An edit applied after the main one at every strength: a feature edit of the same SAE, or a
// steering vector added at its hook.
struct ExtraEdit {
    std::string vectorPath; // a vector edit when set, else `feature`
    int64_t feature = 0;
    std::string mode = "add";
    double value = 0;
};

struct SteerJob {
    const model::Decoder *decoder = nullptr;
    const tokenize::Tokenizer *tokenizer = nullptr;
    std::shared_ptr<const sae::Sae> sae;
    std::string modelPath; // its fingerprint keys the workspace cache
    std::string prompt; // text; BOS first when the tokenizer has one (the SAELens convention)
    int64_t feature = -1;
    std::string mode = "add"; // parseEditKind
    std::string positions = "all"; // parsePositionPolicy
    std::vector<double> strengths;
    // Strengths are multiples of the feature's max activation (the newest finished index of
    // this SAE in the workspace).
    bool timesMax = false;
    std::vector<std::string> targets; // single tokens whose log-prob change is reported
    model::GenerateOptions generation;
    std::vector<ExtraEdit> extras;
};

struct SteerPoint {
    double strength = 0; // the edit's value (after multiplying by the max activation)
    SteerResult result;
    bool cached = false;
};

struct SteerJobResult {
    std::vector<int64_t> prompt, targets; // token ids
    double featureMax = 0; // when timesMax
    std::vector<SteerPoint> points;
    bool allCached() const;
};

Result<SteerJobResult> runSteerJob(
    store::Database *workspace, const SteerJob &job, jobs::Progress *progress = nullptr);

// "FROM:TO:COUNT" (evenly spaced, 2 <= COUNT <= 1000) or "A,B,C".
Result<std::vector<double>> parseStrengths(const std::string &spec);

} // namespace fscope::core::steer
