#pragma once
// The steps the dense (assignment.h) and sparse (sparse_assignment.h) exact solvers share; they
// differ only in how a row's reduced costs are read.

#include "core/match/lap/assignment_kernels.h"

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace fscope::core::lap {

// Duals and the partial assignment: c_ij - u_i - v_j >= 0 everywhere, == 0 on assigned pairs.
struct DualState {
    std::vector<double> u, v;
    std::vector<int64_t> col4row, row4col; // -1 where free
};

// JV's augmenting row reduction, two rounds: each free row takes its cheapest column, lowering
// that column's v to the second-cheapest so the displaced row (handled next) looks elsewhere.
// On a tie the row takes the other column instead of displacing anyone for free. Bounded by
// `stepLimit` displacements per round so ties cannot cycle. `twoSmallestOf(i)` returns the two
// smallest c_ij - v_j of row i (a kernels::TwoSmallest). Returns the rows still free; assigned
// rows' columns stay minima of their c_ij - v_j, so u can be read off afterwards.
template <typename TwoSmallestOf>
std::vector<int64_t> augmentingRowReduction(
    DualState &s, std::vector<int64_t> freeRows, TwoSmallestOf twoSmallestOf, int64_t stepLimit)
{
    for (int round = 0; round < 2; ++round) {
        std::vector<int64_t> pending = std::move(freeRows);
        freeRows.clear();
        size_t k = 0;
        int64_t steps = 0;
        while (k < pending.size()) {
            const int64_t i = pending[k++];
            const kernels::TwoSmallest two = twoSmallestOf(i);
            if (!std::isfinite(two.first)) { // nothing to take: the path search reports it
                freeRows.push_back(i);
                continue;
            }
            int64_t j1 = two.firstAt;
            int64_t i0 = s.row4col[j1];
            const bool strict = two.first < two.second && std::isfinite(two.second);
            if (strict) {
                s.v[j1] -= two.second - two.first;
            } else if (i0 >= 0 && two.secondAt >= 0) {
                j1 = two.secondAt;
                i0 = s.row4col[j1];
            }
            s.col4row[i] = j1;
            s.row4col[j1] = i;
            if (i0 >= 0) {
                s.col4row[i0] = -1;
                if (strict && ++steps < stepLimit)
                    pending[--k] = i0; // JV: the displaced row is handled next
                else
                    freeRows.push_back(i0);
            }
        }
    }
    return freeRows;
}

// The end of a shortest augmenting path search from `start` that reached the free column
// `sink` at distance minVal (Crouse 2016): the duals of the visited rows and scanned columns
// move by their distance to minVal, and the assignment is flipped along pred back to start.
inline void applyAugmentingPath(DualState &s, int64_t start, int64_t sink, double minVal,
    const std::vector<int64_t> &visitedRows, const std::vector<int64_t> &scannedColumns,
    const double *dist, const int64_t *pred)
{
    s.u[start] += minVal;
    for (int64_t r : visitedRows)
        if (r != start)
            s.u[r] += minVal - dist[s.col4row[r]];
    for (int64_t j : scannedColumns)
        s.v[j] -= minVal - dist[j];
    for (int64_t j = sink;;) {
        const int64_t r = pred[j];
        s.row4col[j] = r;
        std::swap(s.col4row[r], j);
        if (r == start)
            break;
    }
}

} // namespace fscope::core::lap
