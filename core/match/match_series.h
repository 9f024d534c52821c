#pragma once
// SAE Match over a series of SAEs (one per layer, in layer order): every link l -> l + skip
// matched exactly, the chain-length distribution, and optionally each link's hidden-state
// approximation on a batch of model contexts (folded vs unfolded vs unmatched). One job for
// the CLI and the panel; the result is cached in the workspace by its full parameter set, and
// each link on its own as soon as it is done, so a series that was killed or cancelled resumes
// at its first unfinished link (and another series sharing a link reuses it).

#include "core/match/match_evaluation.h"
#include "core/match/sae_match.h"
#include "core/store/database.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fscope::core::match {

struct MatchSeriesRequest {
    std::vector<std::string> saePaths; // in layer order
    MatchOptions options;
    int64_t skip = 1; // link layer l to layer l + skip
    // With skip > 1: also match every adjacent pair and compare each direct skip match with
    // the composition of the adjacent ones (paper 3.2: permutations compose).
    bool compareComposed = false;
    std::string device = "cpu";
    // Hidden-state approximation: a model and [batch, T] contexts (BOS first); none = skip.
    const model::Decoder *decoder = nullptr;
    std::string modelFingerprint;
    at::Tensor contexts;
    std::set<int64_t> specialTokens; // excluded from every statistic (corpus::specialTokens)
};

// The data-based check the paper could not run at scale: do matched features fire on the
// same contexts? Jaccard of the two features' top-activating context sets (from indexes of
// both SAEs on one corpus), averaged over pairs where both have examples; for good and weak
// matches apart, and for the unmatched pairing (feature i with feature i) as a baseline.
struct ContextOverlap {
    int64_t indexA = 0, indexB = 0, pairs = 0;
    double matched = 0, good = 0, weak = 0, unmatched = 0;
};

// A skip link's direct match against the composed adjacent matches: the share of A's features
// both send to the same feature, and the composed pairing's folded-decoder MSE total (never
// below the direct total, which is optimal).
struct ComposedComparison {
    double agreement = 0;
    double composedTotal = 0, directTotal = 0;
    int64_t paired = 0; // features the composition maps somewhere
};

struct MatchLink {
    int64_t from = 0, to = 1; // positions in saePaths
    std::string hookA, hookB;
    MatchResult result;
    std::optional<SpliceEvaluation> evaluation;
    std::optional<ContextOverlap> overlap;
    std::optional<ComposedComparison> composed;
};

struct MatchSeries {
    std::vector<std::string> saePaths, hooks, labels; // labels: "L3 resid_post" style names
    std::vector<int64_t> widths;
    std::vector<MatchLink> links;
    std::vector<int64_t> chainLengths; // histogram: [k] = chains spanning k + 1 layers (skip 1)
    bool folded = true;
    double seconds = 0;
    bool cached = false;
    int64_t linksFromCache = 0; // links an earlier run (of this or another series) computed
};

// Sorts SAE paths by the layer in their hook names (then by path); errors name a bad SAE.
Result<std::vector<std::string>> orderByLayer(const std::vector<std::string> &paths);
// The SAEs in `dir` or below it (sae::findSaes), by layer.
Result<std::vector<std::string>> saeDirectories(const std::string &dir);

Result<MatchSeries> runMatchSeries(
    const MatchSeriesRequest &request, jobs::Progress *progress = nullptr);
// The same, answered from `workspace` when it holds an identical request (then stored there);
// each finished link is stored there as it completes and reused by any later request for it.
Result<MatchSeries> runMatchSeriesCached(store::Database *workspace,
    const MatchSeriesRequest &request, jobs::Progress *progress = nullptr);

// Fills each link's `overlap` where the workspace has finished indexes of both SAEs on the same
// corpus (not cached: indexes change; a few indexed queries per link).
Status addContextOverlap(store::Database &workspace, MatchSeries &series);

std::string matchSeriesToJson(const MatchSeries &series);
Result<MatchSeries> matchSeriesFromJson(const std::string &json);

} // namespace fscope::core::match
