#pragma once
// Direct logit effects of SAE features: each decoder direction through the unembedding,
// W_dec[f] . W_U (SAEDashboard's definition, no final norm), and the same with the final
// norm's per-channel scale folded in, (W_dec[f] * g) . W_U, which is what the model applies to
// a direction added just before the unembedding (ignoring the norm's centring and rescaling
// by the token's norm). Gemma's final logit soft-capping is not applied.

#include "core/model/decoder.h"
#include "core/sae/sae.h"

#include <utility>
#include <vector>

namespace fscope::core::analysis {

struct LogitEffects {
    // Per feature, k (token id, effect) pairs: highest first / lowest first.
    std::vector<std::vector<std::pair<int32_t, float>>> top, bottom;
};

// Blockwise over features so the [features, vocab] product never exists whole. `decoderBlock`
// -1 reads W_dec, the feature's total write; a CLT's block b reads what it writes into output
// hook b alone (the total's effects are the sum of the blocks', the map being linear). A
// crosscoder's W_dec spans its hooks; -1 reads its block for the deepest hook, the write the
// unembedding sees most directly.
LogitEffects computeLogitEffects(const model::Decoder &decoder, const sae::Sae &sae,
    bool foldFinalNorm, int64_t k, int64_t blockFeatures = 1024, int64_t decoderBlock = -1);

// ||W_dec_block[f]|| per output hook of the dictionary: where feature f writes (one entry for
// an SAE or transcoder, one per later layer for a CLT).
std::vector<double> decoderBlockNorms(const sae::Sae &sae, int64_t feature);

} // namespace fscope::core::analysis
