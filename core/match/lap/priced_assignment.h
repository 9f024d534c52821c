#pragma once
// Exact linear assignment of a dense square cost matrix that is never held whole: the rows
// come in blocks from a function (computed on the device, or read from a host matrix), the
// solve runs on a sparse candidate set, and every pair of the dense matrix is priced against
// the duals to prove the result optimal or to add the pairs that undercut them.
//
// 1. Candidates, from two passes: each row's k cheapest columns after subtracting the column
//    minima (raw costs would send every row to the same few low-norm columns), each column's
//    k cheapest rows after subtracting the row minima, and the pair (i, i) so that a complete
//    assignment always exists. Top-k runs on the blocks' device.
// 2. Sparse exact solve (sparse_assignment.h): optimal over the candidates, with duals u, v
//    feasible on them.
// 3. Pricing: one pass over the dense blocks computes every reduced cost c_ij - u_i - v_j.
//    None below -tolerance: the duals are feasible for the whole matrix and the assignment is
//    optimal by LP duality (the same certificate as dualGap). Otherwise each offending column
//    has v_j lowered to its most negative reduced cost (JV's column reduction on the dense
//    matrix: every reduced cost is >= 0 again, and only the rows that held those columns
//    lose their pair), its most negative rows join the candidates, and step 2 places the
//    freed rows from the current duals. Lowering u per offending row instead frees nearly
//    every row on each pass; by columns, 16k SAE-like pairs settle in 4-5 passes.
// This is column generation on the assignment LP; it ends because every pass adds at least one
// pair and there are finitely many.
//
// Step 2's first solve starts either from JV's initialisation on the host (column reduction,
// reduction transfer, augmenting row reduction) or from an auction run where the cost blocks
// are (auction.h), whose prices seed the duals so the host only places the rows the auction
// left without a tight pair. The default takes the auction when the blocks live on a GPU.
//
// Every pass also yields a lower bound on the optimum without further work: lowering each v_j
// (or each u_i) by its most negative reduced cost makes the duals feasible, and their sum
// bounds the optimum from below. The approximate mode (no pricing rounds) reports that bound, so
// its gap to the optimum is known whenever it is checked.

#include "core/match/lap/assignment.h"
#include "core/match/lap/auction.h"
#include "core/util/result.h"

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace fscope::core::lap {

// Rows [r0, r1) of the dense cost matrix: a float32 or float64 tensor [r1 - r0, n] on any
// device. Candidates keep the values as given (converted to double exactly).
using CostRows = std::function<at::Tensor(int64_t r0, int64_t r1)>;

struct PricedOptions {
    int64_t rowCandidates = 128; // cheapest columns per row to start from
    int64_t columnCandidates = 32; // cheapest rows per column to start from
    int64_t addPerColumn = 32; // most negative pairs a pricing pass adds per offending column
    int64_t blockRows = 2048; // rows per block
    // Pricing passes that may add pairs. 0 is the approximate mode: the candidate optimum,
    // with one pass to report its gap when `checkGap` is set.
    int maxRounds = 100;
    bool checkGap = true;
    // A reduced cost counts as negative below -tolerance * max(1, |cost|) (double rounding of
    // the duals, ~1e-13 relative, must not look like a missed pair).
    double tolerance = 1e-10;
    enum class WarmStart { Auto, JonkerVolgenant, Auction };
    WarmStart warmStart = WarmStart::Auto;
    AuctionOptions auction;
};

struct PricedAssignment {
    Assignment assignment; // rowToColumn, columnToRow, u, v, totalCost (no timings)
    bool optimal = false; // certified: no pair of the dense matrix undercuts the duals
                          // (the approximate mode too, when its candidates held the optimum)
    bool gapChecked = false; // a pricing pass ran on the final duals
    double lowerBound = 0; // LP lower bound on the optimum from the last pricing pass
    double gap() const { return assignment.totalCost - lowerBound; }
    int rounds = 0; // pricing passes
    int64_t candidates = 0; // pairs the sparse solve held at the end
    double candidateSeconds = 0, solveSeconds = 0, pricingSeconds = 0;
    // The auction warm start, when it ran: its time (the candidate table's transfer to the
    // device included), phases, bidding rounds and the pairs it handed over tight.
    bool auction = false;
    double auctionSeconds = 0;
    int auctionPhases = 0;
    int64_t auctionRounds = 0, seededPairs = 0;
    // Each sparse solve: the rows it had to place, its Dijkstra row scans and its time.
    struct Solve {
        int64_t freeRows = 0, rowsScanned = 0;
        double seconds = 0;
    };
    std::vector<Solve> solves;
};

Result<PricedAssignment> solvePricedAssignment(
    int64_t n, const CostRows &rows, const PricedOptions &options = {});

} // namespace fscope::core::lap
