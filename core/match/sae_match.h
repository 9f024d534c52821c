#pragma once
// SAE Match (Balagansky, Maksimov & Gavrilov, "Mechanistic Permutability: Match Features
// Across Layers", ICLR 2025; reference/sae_match.md): data-free alignment of the features of
// two SAEs by an exact linear assignment on the distance between their (folded) parameters.
//
// Folding (paper eq. 4): per JumpReLU feature i, encoder column and b_enc[i] are divided by
// theta_i, the decoder row multiplied by theta_i, theta becomes 1. The SAE computes exactly the
// same reconstruction; its activations become f / theta and its decoder rows carry the
// feature's scale (||d_i|| = theta_i for unit-norm Gemma Scope decoders), which is what makes
// decoder distances comparable across layers. SAEs without thresholds have no such scale
// (the paper defines folding for JumpReLU only): their decoder rows are normalised to unit
// norm instead (the encoder column scaled by the inverse, exact for ReLU SAEs), so matching
// compares directions; the output says which fold was used.
//
// Cost (paper eq. 3): sum_i ||a_i - b_pi(i)||^2 over folded decoder rows, minimised over
// permutations. It differs from -sum_i <a_i, b_pi(i)> by a constant, so both give the same
// optimum; the solver reads the squared-distance form (measured faster for JV-class solvers,
// reference 5.2). Variants: encoder columns, all weights (decoder + encoder + b_enc summed,
// Git Re-Basin's unweighted sum), and cosine between decoder rows (not in the paper; the
// authors' follow-up uses it). The reported per-pair cost is always the folded-decoder MSE
// (mean over d_model), the quantity the paper plots, so runs with different options compare.

#include "core/jobs/progress.h"
#include "core/match/lap/assignment.h"
#include "core/match/lap/priced_assignment.h"
#include "core/sae/sae.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace fscope::core::match {

// The JumpReLU SAE with thresholds folded in (threshold 1); errors for other architectures
// and for SAEs that rescale activations by the decoder norm.
Result<sae::Sae> foldThresholds(const sae::Sae &sae);

enum class MatchCost { Decoder, Encoder, All, Cosine };

// How the assignment is solved. Dense: the whole float32 cost matrix on the host and the
// dense JV solver (assignment.h). Priced: blocks of the matrix computed on the SAEs' device,
// a sparse exact solve and pricing passes that certify the dense optimum
// (priced_assignment.h); never holds the matrix, so 65k-wide SAEs fit. Approximate: the
// priced solver's candidate optimum without pricing rounds, with its gap to the optimum from
// one pricing pass. Auto: priced on a GPU or when the dense matrix would exceed
// denseMatchBudget(), dense otherwise (on a CPU the dense solver is several times faster:
// every pricing pass recomputes the whole matrix product).
enum class MatchSolver { Auto, Dense, Priced, Approximate };
enum class MatchWarmStart { Auto, JonkerVolgenant, Auction };
Result<MatchWarmStart> parseMatchWarmStart(const std::string &name); // auto|jv|auction
Result<MatchSolver> parseMatchSolver(const std::string &name); // auto|dense|priced|approximate
std::string matchSolverName(MatchSolver solver);
// Bytes a dense float32 matrix may take under Auto: half of this machine's physical memory
// (12 GiB on a 24 GiB machine: 16k x 16k is 1 GiB, 65k x 65k 16 GiB).
int64_t denseMatchBudget();
Result<MatchCost> parseMatchCost(const std::string &name); // decoder|encoder|all|cosine
std::string matchCostName(MatchCost cost);

// The parameters matching compares, in float32 on the SAE's device.
struct MatchParameters {
    at::Tensor decoder; // [F, d]
    at::Tensor encoder; // [F, d] (encoder columns as rows)
    at::Tensor encoderBias; // [F]
    at::Tensor scale; // [F]: the per-feature factor folded into the decoder (1 if none)
    std::string fold; // "thresholds", "decoder-norm" or "none"
};
MatchParameters matchParameters(const sae::Sae &sae, bool fold);

struct MatchOptions {
    bool fold = true;
    MatchCost cost = MatchCost::Decoder;
    // A pair is "good" when ||a - b||^2 / (||a||^2 + ||b||^2) <= this (folded decoders): 0 for
    // identical rows, about 1 for unrelated ones, 0.5 when the pair shares more than half its
    // energy (cosine ~0.5 at equal norms). The paper has no threshold; it ranks by MSE.
    double goodThreshold = 0.5;
    int64_t blockRows = 2048; // cost rows computed per device block
    bool initialize = true; // the dense solver's JV initialisation
    MatchSolver solver = MatchSolver::Auto;
    // How the priced solver's first sparse solve starts: JV's initialisation on the host, or
    // an auction on the cost blocks' device (lap/auction.h); auto takes the auction on a GPU.
    MatchWarmStart warmStart = MatchWarmStart::Auto;
};

struct MatchPair {
    int64_t a = 0, b = -1;
    double mse = 0; // folded-decoder MSE: ||a - b||^2 / d_model
    double relative = 0; // ||a - b||^2 / (||a||^2 + ||b||^2)
    double cosine = 0; // of the decoder rows
    bool good = false;
};

struct MatchResult {
    std::vector<MatchPair> pairs; // one per feature of A (b = -1 when B is narrower)
    double totalCost = 0; // sum of the pairs' folded-decoder MSE
    double meanMse = 0;
    double goodShare = 0;
    double solverCost = 0; // the objective the solver minimised
    bool folded = true;
    std::string fold; // how A and B were folded
    MatchCost cost = MatchCost::Decoder;
    double costSeconds = 0, solveSeconds = 0, seconds = 0;
    int64_t freeRowsAfterInit = 0;
    double initSeconds = 0, searchSeconds = 0;
    std::string solver = "dense"; // the solver that ran: dense, priced or approximate
    // priced/approximate: how the first sparse solve started, "jv" or "auction" (then
    // initSeconds is the auction's time and freeRowsAfterInit the rows it left to place).
    std::string warmStart;
    // Optimality: exact solvers prove it (dense by construction, priced by its pricing
    // pass); the approximate one reports its gap to an LP lower bound on the optimum.
    bool optimal = true;
    double solverGap = 0; // solverCost minus the lower bound (0 for exact solves)
    int pricingRounds = 0; // priced/approximate: pricing passes
    int64_t candidates = 0; // priced/approximate: candidate pairs at the end
    double relativeSolverGap() const { return solverGap / std::max(1e-300, std::abs(solverCost)); }
    std::vector<int64_t> permutation() const; // A feature -> B feature (-1 none)
};

// The dense [F_A, F_B] solver matrix (float32, row-major: 1 GiB at 16k x 16k) built blockwise
// on the SAEs' device; the solver reads it in place and keeps its duals in double.
std::vector<float> matchCostMatrix(
    const MatchParameters &a, const MatchParameters &b, MatchCost cost, int64_t blockRows = 2048);
// Rows [r0, r1) of the same matrix as a float32 tensor on the SAEs' device (the priced
// solver's blocks; bit-identical to the rows of matchCostMatrix for the same block shape).
lap::CostRows matchCostRows(const MatchParameters &a, const MatchParameters &b, MatchCost cost);

// Match two SAEs (same d_in). Widths may differ: every feature of the narrower side is paired.
Result<MatchResult> matchSaes(const sae::Sae &a, const sae::Sae &b,
    const MatchOptions &options = {}, jobs::Progress *progress = nullptr);
// The same on prepared parameters (benchmarks, synthetic pairs).
Result<MatchResult> matchParametersExact(
    const MatchParameters &a, const MatchParameters &b, const MatchOptions &options = {});

// Feature chains through a series of matched layers (link t maps layer t to layer t+1).
// A chain starts at a feature no good link reaches and follows good links; its length is the
// number of layers it spans. Returns a histogram: lengths[k] = chains spanning k + 1 layers.
std::vector<int64_t> chainLengthHistogram(const std::vector<MatchResult> &links);
// The chain of `feature` at layer `layer`: one entry per layer of the series, followed through
// every link (good or not) backwards and forwards; link costs in `linkMse` (size layers - 1).
struct ChainStep {
    int64_t layer = 0, feature = -1;
};
std::vector<ChainStep> featureChain(const std::vector<MatchResult> &links, int64_t layer,
    int64_t feature, std::vector<double> *linkMse = nullptr, std::vector<bool> *linkGood = nullptr);

// Permutations compose (paper 3.2): A->C ~ (B->C) o (A->B).
std::vector<int64_t> composePermutations(
    const std::vector<int64_t> &aToB, const std::vector<int64_t> &bToC);

// A planted pair of dictionaries built like two SAEs of neighbouring layers (reference 5.2):
// B's rows are A's rows permuted, rescaled by a per-feature factor close to A's and perturbed
// (noise), except for `unrelated` of them, which are random. `clustered` draws the rows around
// F/8 shared centres (60% of the variance) so near-ties abound. Scales are lognormal, the way
// JumpReLU thresholds differ between features. Returns folded parameters (decoder rows
// carry the scale) and the planted permutation.
struct PlantedPair {
    MatchParameters a, b;
    std::vector<int64_t> truth; // A feature -> B feature
};
PlantedPair plantedMatchPair(int64_t features, int64_t dModel, bool clustered, double noise,
    double unrelated, uint64_t seed);

// JSON of a match (the `match --json` shape): pairs, total_cost, folded, seconds, ...
std::string matchResultToJson(const MatchResult &result, bool withPairs = true);
Result<MatchResult> matchResultFromJson(const std::string &json);

} // namespace fscope::core::match
