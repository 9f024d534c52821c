#pragma once
// Steering and ablation (DESIGN section 3, reference/steering.md section 3): edits of a hook's
// activation h, by an SAE feature or a vector, at chosen positions, and the comparison of a
// steered generation with the unsteered one.
//
//   add        h += a * W_dec[f]                (or a * v for a user vector)
//   clamp      f_j -> c, error term kept: h += decode(f') - decode(f), which for a linear
//              decoder is exactly (c - f_j(h)) * W_dec[j] in the input frame
//   scale      f_j -> g * f_j(h)
//   ablate     clamp to 0
//   project    directional ablation: h -= <h, v^> v^
//   reconstruct           h -> decode(encode(h)) (the SAE's view only)
//   reconstruct + error   h -> decode(encode(h)) + (h - decode(encode(h))) = h (a control)
//
// A transcoder or CLT feature is read at the dictionary's input hook and edited where it
// writes: every output hook b gets y_b += (f_j' - f_j) W_dec_b[j] (add: a W_dec_b[j]), so the
// MLP's own output and the error term stay; reconstruct replaces the output hook by the
// prediction from the input hook (docs/dictionaries.md).

#include "core/model/generation.h"
#include "core/model/position_policy.h"
#include "core/sae/sae.h"
#include "core/store/database.h"
#include "core/tokenize/tokenizer.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fscope::core::steer {

enum class EditKind { Add, Clamp, Scale, Ablate, Project, Reconstruct, ReconstructWithError };

Result<EditKind> parseEditKind(
    const std::string &name); // add|clamp|scale|ablate|project|reconstruct|reconstruct-error
std::string editKindName(EditKind kind);

struct SteeringEdit {
    EditKind kind = EditKind::Add;
    std::shared_ptr<const sae::Sae> sae; // feature edits and reconstructions
    int64_t feature = -1;
    double value = 0; // add: strength a; clamp: c; scale: g
    at::Tensor vector; // add (instead of a feature) and project: [d]
    std::string hook; // defaults to the SAE's hook
    model::PositionPolicy positions;
};

// The edit as a hook intervention (positions applied). Errors name what is missing.
Result<model::Intervention> makeIntervention(const SteeringEdit &edit);
// All edits as ForwardOptions interventions, keyed by hook.
Result<model::ForwardOptions> interventionOptions(const std::vector<SteeringEdit> &edits);

struct SteerRequest {
    std::vector<int64_t> prompt; // token ids (BOS included when the model wants it)
    model::GenerateOptions generation;
    std::vector<SteeringEdit> edits;
    std::vector<int64_t> targets; // tokens whose next-token log-prob change is reported
    int64_t topTokens = 10;
};

struct TokenProbability {
    int64_t token = 0;
    double base = 0, steered = 0; // next-token probabilities after the prompt
};

struct SteerResult {
    std::vector<int64_t> baseTokens, steeredTokens; // generated continuations
    // KL(steered || base) of the next-token distributions at every position of
    // prompt + steered continuation, with both models reading the same tokens.
    std::vector<double> kl;
    double klMean = 0; // over the positions that predict the continuation (and the first one)
    std::vector<TokenProbability> nextToken; // union of both top lists, by steered probability
    std::vector<double> targetLogProbDelta; // per target: log p_steered - log p_base (next token)
    double steeredPerplexityUnderBase = 0; // fluency proxy of the steered continuation
    std::vector<double> baseTarget, steeredTarget; // next-token log-probs of the targets
};

Result<SteerResult> steer(
    const model::Decoder &decoder, const SteerRequest &request, jobs::Progress *progress = nullptr);

// Ablation study: each of the `topN` features most active at the prompt's last token, ablated
// in turn at that token (clamped to 0, error term kept); ranked by the change of the target token's
// next-token log-prob (or by KL when no target is given), largest effect first.
struct AblationEffect {
    int64_t feature = 0;
    float activation = 0;
    double targetLogProbDelta = 0; // log p_ablated - log p_base of the target
    double kl = 0; // KL(ablated || base) of the next-token distribution
};
Result<std::vector<AblationEffect>> ablationStudy(const model::Decoder &decoder,
    const std::shared_ptr<const sae::Sae> &sae, const std::vector<int64_t> &prompt, int64_t topN,
    std::optional<int64_t> target, jobs::Progress *progress = nullptr);

} // namespace fscope::core::steer

namespace fscope::core::steer {

// The workspace cache key of a steering run: model (and the dtype it runs in), SAE, prompt,
// edits, generation settings, targets (everything that decides the result).
std::string steerCacheKey(const std::string &modelFingerprint, const std::string &saeFingerprint,
    const SteerRequest &request, at::ScalarType dtype);
// A result as JSON (the shape `steer --json` prints, without token texts) and back.
std::string steerResultToJson(const SteerResult &result);
Result<SteerResult> steerResultFromJson(const std::string &json);

struct CachedSteer {
    SteerResult result;
    bool cached = false; // answered from the workspace
};
// steer(), answered from `workspace` when it holds the identical request (then stored there).
// A null workspace just runs it.
Result<CachedSteer> steerCached(store::Database *workspace, const model::Decoder &decoder,
    const std::string &modelFingerprint, const std::string &saeFingerprint,
    const SteerRequest &request);

// The id of `text` when it is exactly one token (target tokens such as " Paris").
Result<int64_t> singleToken(const tokenize::Tokenizer &tokenizer, const std::string &text);

} // namespace fscope::core::steer
