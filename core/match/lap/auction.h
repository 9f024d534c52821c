#pragma once
// The device phase of the priced solver: a forward auction with epsilon scaling (Bertsekas
// 1988, "The auction algorithm: a distributed relaxation method for the assignment problem";
// the Jacobi form, where every unassigned row bids at once) on the candidate pairs, written in
// tensor ops so it runs wherever the candidates are (a CUDA device, or the CPU in the tests).
//
// Minimisation form: row i values column j at c_ij + p_j (p the prices). Each unassigned row
// bids for its cheapest column j1, raising p_j1 by (second cheapest - cheapest) + eps, so that
// it becomes indifferent between the two plus eps; each column takes its highest bid (the
// lowest row on a tie) and its previous owner bids again. At the end of a phase every row
// holds a column within eps of its cheapest (eps-complementary slackness); eps then shrinks by
// `epsilonFactor` and the rows bid again from the prices reached.
//
// An auction's result is only eps-optimal, so it is a warm start, not the answer: `auctionSeed`
// turns the prices into duals that are feasible on every candidate and tight on the pairs it
// keeps (each winner's column dual is raised by the row's slack where no other row's reduced
// cost would go negative; a row that would lose feasibility is freed). The exact sparse solve
// then places only the freed rows, and the priced solver's pricing pass certifies the optimum
// as before.

#include "core/util/result.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace fscope::core::lap {

struct AuctionOptions {
    // Epsilon at the start and the end, as fractions of the candidates' cost range; each phase
    // divides it by epsilonFactor.
    double startEpsilon = 0.25;
    double finalEpsilon = 1e-7;
    double epsilonFactor = 8;
    // Bidding rounds per phase, as a multiple of the rows (a phase that reaches it ends with
    // some rows unassigned: they stay free in the seed).
    int64_t roundsPerRow = 4;
};

struct AuctionResult {
    at::Tensor rowToColumn; // [n] int64, -1 where a row holds no column
    at::Tensor prices; // [n] double
    int phases = 0;
    int64_t rounds = 0; // bidding rounds over all phases
    int64_t unassigned = 0; // rows without a column after the last phase
};

// `columns` [n, K] int64 (-1 pads a row with fewer candidates) and `costs` [n, K] (+inf where
// padded), on one device. Every row needs a finite candidate.
Result<AuctionResult> auctionOnCandidates(
    const at::Tensor &columns, const at::Tensor &costs, const AuctionOptions &options = {});

struct AuctionSeed {
    std::vector<int64_t> rowToColumn; // the pairs kept (tight), -1 for the rows to place
    std::vector<double> u, v; // feasible on every candidate, tight on the kept pairs
    int64_t kept = 0;
};
// The auction's prices and pairs as duals and a partial assignment the exact solver can start
// from (see the header comment), computed on the candidates' device.
AuctionSeed auctionSeed(
    const at::Tensor &columns, const at::Tensor &costs, const AuctionResult &auction);

} // namespace fscope::core::lap
