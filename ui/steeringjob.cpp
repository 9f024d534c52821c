#include "ui/steeringjob.h"

#include "core/tokenize/tokenizer.h"
#include "core/util/fault_points.h"
#include "core/util/out_of_memory.h"

#include <optional>

namespace fscope::ui {

namespace {
// What to change when a steering run does not fit: its size is the prompt plus the tokens
// generated, once per strength.
const char *kSteerAdvice = "Try fewer new tokens or strengths, a shorter prompt, bf16 (the "
                           "status bar's precision), or File > Unload Models to free the others.";
} // namespace

core::Result<std::string> runSteeringStrengths(core::model::ModelCache &models, SteeringJob &job,
    core::jobs::Progress &progress, core::store::Database *workspace)
{
    progress.begin(0, "Loading " + job.info.modelPath);
    core::model::ModelCache::Model model;
    FS_TRY(model, models.model(job.info.modelPath, job.device, job.dtype, &progress));
    return core::util::catchOutOfMemory("steering " + job.info.saeLabel + " feature "
            + std::to_string(job.feature) + " (" + std::to_string(job.strengths.size())
            + " strength(s), " + std::to_string(job.generation.maxNewTokens) + " new tokens)",
        model.decoder->device(), kSteerAdvice,
        [&] { return steerOnModel(models, model, job, progress, workspace); });
}

core::Result<std::string> steerOnModel(core::model::ModelCache &models,
    const core::model::ModelCache::Model &model, SteeringJob &job, core::jobs::Progress &progress,
    core::store::Database *workspace)
{
    core::util::faultPoint("steer");
    std::shared_ptr<core::sae::Sae> sae;
    FS_TRY(sae, models.sae(job.info.saePath, job.info.hook, model.decoder->device()));
    // The workflow is core's (runSteerJob, shared with `steer` / `sweep`).
    core::steer::SteerJob request;
    request.decoder = model.decoder.get();
    request.tokenizer = model.tokenizer.get();
    request.sae = sae;
    request.modelPath = job.info.modelPath;
    request.prompt = job.prompt;
    request.feature = job.feature;
    request.mode = job.mode;
    request.positions = job.positions;
    request.strengths = job.strengths;
    request.timesMax = job.timesMax;
    if (!job.target.empty())
        request.targets = { job.target };
    request.generation = job.generation;
    request.extras = job.extras;
    core::steer::SteerJobResult run;
    FS_TRY(run, core::steer::runSteerJob(workspace, request, &progress));
    job.cached = run.allCached();
    job.strengths.clear();
    for (auto &p : run.points) {
        job.strengths.push_back(p.strength);
        job.steeredTexts.push_back(model.tokenizer->decode(p.result.steeredTokens));
        job.results.push_back(std::move(p.result));
    }
    const auto &first = job.results.front();
    for (int64_t t : first.baseTokens)
        job.baseTokens.push_back(core::tokenize::sanitizeUtf8(model.tokenizer->tokenBytes(t)));
    for (int64_t t : first.steeredTokens)
        job.steeredTokens.push_back(core::tokenize::sanitizeUtf8(model.tokenizer->tokenBytes(t)));
    for (const auto &n : first.nextToken)
        job.next.push_back({ core::tokenize::sanitizeUtf8(model.tokenizer->tokenBytes(n.token)),
            { n.base, n.steered } });
    return std::to_string(job.results.size()) + " steering run(s) on " + job.info.saeLabel
        + (job.cached ? " (cached)" : "");
}

core::Result<std::string> runSteeringAblation(
    core::model::ModelCache &models, SteeringJob &job, core::jobs::Progress &progress)
{
    core::model::ModelCache::Model model;
    FS_TRY(model, models.model(job.info.modelPath, job.device, job.dtype, &progress));
    return core::util::catchOutOfMemory("ablating the top features of " + job.info.saeLabel,
        model.decoder->device(), kSteerAdvice,
        [&] { return ablateOnModel(models, model, job, progress); });
}

core::Result<std::string> ablateOnModel(core::model::ModelCache &models,
    const core::model::ModelCache::Model &model, SteeringJob &job, core::jobs::Progress &progress)
{
    core::util::faultPoint("steer");
    std::shared_ptr<core::sae::Sae> sae;
    FS_TRY(sae, models.sae(job.info.saePath, job.info.hook, model.decoder->device()));
    const auto prompt
        = model.tokenizer->encodeForModel(job.prompt, model.tokenizer->bosId().has_value()).ids;
    std::optional<int64_t> target;
    if (!job.target.empty()) {
        int64_t id = 0;
        FS_TRY(id, core::steer::singleToken(*model.tokenizer, job.target));
        target = id;
    }
    FS_TRY(job.ablation,
        core::steer::ablationStudy(*model.decoder, sae, prompt, 20, target, &progress));
    return std::to_string(job.ablation.size()) + " features ablated";
}

} // namespace fscope::ui
