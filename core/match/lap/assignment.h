#pragma once
// Exact linear assignment (minimum total cost, one column per row) on a dense cost matrix.
//
// Shortest augmenting paths with dual variables (Jonker & Volgenant 1987; the rectangular
// form is Crouse 2016, "On implementing 2D rectangular assignment algorithms", the algorithm
// behind scipy.optimize.linear_sum_assignment). Square problems first run JV's
// initialisation: column reduction, reduction transfer and two rounds of augmenting row
// reduction, which settle most rows of an easy instance before any path search. Every phase
// keeps the reduced costs c_ij - u_i - v_j >= 0 with equality on assigned pairs, so the
// result is optimal by LP duality whatever the instance (ties, +inf entries, shifts).

#include "core/util/result.h"

#include <cstdint>
#include <vector>

namespace fscope::core::lap {

struct AssignmentOptions {
    bool initialize = true; // JV initialisation phases (square problems only)
};

struct Assignment {
    std::vector<int64_t> rowToColumn; // one per row; -1 for rows left free (rows > columns)
    std::vector<int64_t> columnToRow; // -1 for columns left free (rows < columns)
    double totalCost = 0;
    std::vector<double> u, v; // optimal duals: c_ij - u_i - v_j >= 0, == 0 on pairs
    int64_t freeRowsAfterInit = 0; // rows the path search had to place
    double initSeconds = 0, searchSeconds = 0;
};

// `cost` is row-major [rows, columns]; +inf marks a forbidden pair, NaN and -inf are errors.
// min(rows, columns) pairs, as linear_sum_assignment: every row of a wide matrix gets a
// column; a tall one is solved on its transpose and some rows stay free (-1). An error when
// the forbidden pairs leave no complete assignment.
Result<Assignment> solveAssignment(
    const double *cost, int64_t rows, int64_t columns, const AssignmentOptions &options = {});
// The same on float32 costs (half the memory of a 16k x 16k problem; duals stay double).
Result<Assignment> solveAssignment(
    const float *cost, int64_t rows, int64_t columns, const AssignmentOptions &options = {});

// The largest violation of dual feasibility (min over i,j of reduced cost, as a negative
// number, or 0) and of complementary slackness on assigned pairs: an optimality certificate
// that a test or a benchmark can check on any matrix.
double dualGap(const double *cost, int64_t rows, int64_t columns, const Assignment &assignment);
double dualGap(const float *cost, int64_t rows, int64_t columns, const Assignment &assignment);

} // namespace fscope::core::lap
