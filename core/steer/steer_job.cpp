#include "core/steer/steer_job.h"

#include "core/steer/steering_vector.h"
#include "core/store/fingerprint.h"
#include "core/store/index_store.h"

#include <algorithm>

namespace fscope::core::steer {

bool SteerJobResult::allCached() const
{
    return std::all_of(points.begin(), points.end(), [](const SteerPoint &p) { return p.cached; });
}

Result<std::vector<double>> parseStrengths(const std::string &spec)
{
    const Error bad { "strengths are FROM:TO:COUNT or a list like -4,0,4 (got '" + spec + "')" };
    std::vector<double> out;
    try {
        if (std::count(spec.begin(), spec.end(), ':') == 2) {
            const size_t a = spec.find(':'), b = spec.find(':', a + 1);
            const double from = std::stod(spec.substr(0, a)),
                         to = std::stod(spec.substr(a + 1, b - a - 1));
            const long long count = std::stoll(spec.substr(b + 1));
            if (count < 2 || count > 1000)
                return Error { "strengths FROM:TO:COUNT need 2 <= COUNT <= 1000" };
            for (long long i = 0; i < count; ++i)
                out.push_back(from + (to - from) * double(i) / double(count - 1));
            return out;
        }
        size_t at = 0;
        while (at <= spec.size()) {
            const size_t comma = spec.find(',', at);
            out.push_back(std::stod(spec.substr(at, comma - at)));
            if (comma == std::string::npos)
                break;
            at = comma + 1;
        }
    } catch (const std::exception &) {
        return bad;
    }
    return out;
}

Result<SteerJobResult> runSteerJob(
    store::Database *workspace, const SteerJob &job, jobs::Progress *progress)
{
    if (!job.decoder || !job.tokenizer || !job.sae)
        return Error { "steering needs a model, its tokenizer and an SAE" };
    if (job.strengths.empty())
        return Error { "steering needs at least one strength" };
    SteerJobResult out;
    out.prompt = job.tokenizer->encodeForModel(job.prompt, job.tokenizer->bosId().has_value()).ids;
    for (const std::string &t : job.targets) {
        int64_t id = 0;
        FS_TRY(id, singleToken(*job.tokenizer, t));
        out.targets.push_back(id);
    }
    std::string modelFp, saeFp;
    if (workspace) {
        FS_TRY(modelFp, store::fingerprintModel(job.modelPath));
        saeFp = store::fingerprintSae(*job.sae);
    }
    double scale = 1;
    if (job.timesMax) {
        if (!workspace)
            return Error { "strengths in multiples of the max activation need a workspace (the max "
                           "comes from the feature's index)" };
        std::optional<double> max;
        FS_TRY(max, store::featureMaxOfSae(*workspace, saeFp, job.feature));
        if (!max)
            return fileError(workspace->path(),
                "no finished index of this SAE: the feature's max activation is unknown (index it "
                "first)");
        out.featureMax = scale = *max;
    }

    SteerRequest request;
    request.prompt = out.prompt;
    request.targets = out.targets;
    request.generation = job.generation;
    SteeringEdit main;
    FS_TRY(main.kind, parseEditKind(job.mode));
    main.sae = job.sae;
    main.feature = job.feature;
    FS_TRY(main.positions, model::parsePositionPolicy(job.positions, int64_t(out.prompt.size())));
    std::vector<SteeringEdit> extras; // applied after the main edit, in this order, at the hook
    for (const ExtraEdit &x : job.extras) {
        SteeringEdit e;
        e.positions = main.positions;
        e.value = x.value;
        if (!x.vectorPath.empty()) {
            e.kind = EditKind::Add;
            e.hook = job.sae->config().hookName;
            FS_TRY(e.vector, loadSteeringVector(x.vectorPath));
            if (e.vector.numel() != job.sae->config().dIn)
                return fileError(x.vectorPath,
                    "the vector has " + std::to_string(e.vector.numel()) + " entries; the hook has "
                        + std::to_string(job.sae->config().dIn));
            e.vector = e.vector.to(job.decoder->device());
        } else {
            FS_TRY(e.kind, parseEditKind(x.mode));
            e.sae = job.sae;
            e.feature = x.feature;
        }
        extras.push_back(e);
    }
    if (progress)
        progress->begin(
            int64_t(job.strengths.size()), "Steering feature " + std::to_string(job.feature));
    for (double strength : job.strengths) {
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        main.value = strength * scale;
        request.edits = { main };
        request.edits.insert(request.edits.end(), extras.begin(), extras.end());
        CachedSteer run;
        FS_TRY(run, steerCached(workspace, *job.decoder, modelFp, saeFp, request));
        out.points.push_back({ main.value, std::move(run.result), run.cached });
        if (progress)
            progress->advance();
    }
    return out;
}

} // namespace fscope::core::steer
