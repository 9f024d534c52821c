#pragma once
// The steering dock's job: the form's inputs and what the view shows, and the work run on the
// job runner (core's runSteerJob and ablationStudy, shared with the CLI). Private to the
// steering panel: only .cpp files include this header (it brings core's tensor headers).

#include "core/jobs/progress.h"
#include "core/model/generation.h"
#include "core/model/model_cache.h"
#include "core/steer/steer_job.h"
#include "core/steer/steering.h"
#include "core/store/database.h"
#include "core/store/index_store.h"

#include <string>
#include <utility>
#include <vector>

namespace fscope::ui {

struct SteeringJob {
    std::vector<core::steer::ExtraEdit> extras;
    core::store::IndexInfo info;
    std::string device = "auto", dtype = "auto"; // the workbench's choice
    std::string mode;
    int64_t feature = 0;
    double strength = 0;
    bool timesMax = false;
    std::string positions = "all"; // core::model::parsePositionPolicy
    std::string prompt, target;
    core::model::GenerateOptions generation;
    // Outputs
    std::vector<core::steer::SteerResult> results;
    std::vector<double> strengths;
    std::vector<core::steer::AblationEffect> ablation;
    std::vector<std::string> baseTokens,
        steeredTokens; // per result: token texts (of the first/each)
    std::vector<std::string> steeredTexts;
    std::vector<std::pair<std::string, std::pair<double, double>>> next; // token, (base, steered)
    bool cached = false;
};

// Loads the model and SAE and runs job.strengths, each from the workspace cache when there.
core::Result<std::string> runSteeringStrengths(core::model::ModelCache &models, SteeringJob &job,
    core::jobs::Progress &progress, core::store::Database *workspace);
// Ablates each of the 20 features most active at the prompt's last token, one at a time.
core::Result<std::string> runSteeringAblation(
    core::model::ModelCache &models, SteeringJob &job, core::jobs::Progress &progress);
// The bodies of the two above once the model is loaded (out-of-memory guarded by the callers).
core::Result<std::string> steerOnModel(core::model::ModelCache &models,
    const core::model::ModelCache::Model &model, SteeringJob &job, core::jobs::Progress &progress,
    core::store::Database *workspace);
core::Result<std::string> ablateOnModel(core::model::ModelCache &models,
    const core::model::ModelCache::Model &model, SteeringJob &job, core::jobs::Progress &progress);

} // namespace fscope::ui
