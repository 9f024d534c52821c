#include "core/analysis/assignment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace fscope::core::analysis {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Solver {
    const double *c;
    int64_t n, m; // n <= m
    std::vector<double> u, v;
    std::vector<int64_t> col4row, row4col;

    double at(int64_t i, int64_t j) const { return c[i * m + j]; }

    // JV column reduction, reduction transfer and augmenting row reduction (square only).
    // Returns the rows still free. Keeps: an assigned row's column is a minimum of its
    // c_ij - v_j, so u_i = that minimum is dual feasible.
    std::vector<int64_t> initialize() {
        std::vector<int> matches(n, 0);
        // Column reduction, scanning columns backwards as JV does so that ties go to the
        // lowest column.
        for (int64_t j = m - 1; j >= 0; --j) {
            double best = kInf;
            int64_t imin = -1;
            for (int64_t i = 0; i < n; ++i) {
                const double h = at(i, j);
                if (h < best) {
                    best = h;
                    imin = i;
                }
            }
            if (imin < 0) { // column of +inf: forbidden everywhere, the solve reports it
                v[j] = 0;
                continue;
            }
            v[j] = best;
            if (++matches[imin] == 1) {
                col4row[imin] = j;
                row4col[j] = imin;
            } else if (v[j] < v[col4row[imin]]) {
                const int64_t j1 = col4row[imin];
                col4row[imin] = j;
                row4col[j] = imin;
                row4col[j1] = -1;
            }
        }
        // Reduction transfer: rows that won exactly one column hand the slack to it.
        std::vector<int64_t> freeRows;
        for (int64_t i = 0; i < n; ++i) {
            if (matches[i] == 0) {
                freeRows.push_back(i);
            } else if (matches[i] > 1) {
                // Won several columns but kept one; it stays assigned (its column is its min).
            } else {
                const int64_t j1 = col4row[i];
                double best = kInf;
                for (int64_t j = 0; j < m; ++j)
                    if (j != j1) best = std::min(best, at(i, j) - v[j]);
                if (std::isfinite(best)) v[j1] -= best;
            }
        }
        // Rows that won columns but were moved off one keep only their final column; the
        // columns they lost are free. A row with matches > 1 holds col4row; fix stale marks.
        for (int64_t j = 0; j < m; ++j)
            if (row4col[j] >= 0 && col4row[row4col[j]] != j) row4col[j] = -1;

        // Augmenting row reduction, twice (JV): each free row takes its cheapest column,
        // lowering that column's price to the second-cheapest so the displaced row (if any)
        // looks elsewhere. Bounded so ties cannot cycle; the path search finishes any rest.
        for (int round = 0; round < 2; ++round) {
            std::vector<int64_t> pending = std::move(freeRows);
            freeRows.clear();
            size_t k = 0;
            int64_t steps = 0;
            const int64_t stepLimit = 8 * n + 64;
            while (k < pending.size()) {
                const int64_t i = pending[k++];
                double umin = kInf, usub = kInf;
                int64_t j1 = -1, j2 = -1;
                for (int64_t j = 0; j < m; ++j) {
                    const double h = at(i, j) - v[j];
                    if (h < usub) {
                        if (h >= umin) {
                            usub = h;
                            j2 = j;
                        } else {
                            usub = umin;
                            j2 = j1;
                            umin = h;
                            j1 = j;
                        }
                    }
                }
                if (j1 < 0) { // a row of +inf: no assignment exists; the path search says so
                    freeRows.push_back(i);
                    continue;
                }
                int64_t i0 = row4col[j1];
                const bool strict = umin < usub && std::isfinite(usub);
                if (strict) {
                    v[j1] -= usub - umin;
                } else if (i0 >= 0 && j2 >= 0 && std::isfinite(usub)) {
                    // A tie: take the second column instead of displacing anyone for free.
                    j1 = j2;
                    i0 = row4col[j1];
                }
                col4row[i] = j1;
                row4col[j1] = i;
                if (i0 >= 0) {
                    col4row[i0] = -1;
                    if (strict && ++steps < stepLimit)
                        pending[--k] = i0; // JV: the displaced row is handled next
                    else
                        freeRows.push_back(i0);
                }
            }
        }
        for (int64_t i = 0; i < n; ++i)
            if (col4row[i] >= 0) u[i] = at(i, col4row[i]) - v[col4row[i]];
        return freeRows;
    }

    // One shortest augmenting path from `start` (Crouse 2016 / scipy's augmenting_path, with
    // the visited rows and columns kept as lists so the dual update touches only them).
    bool augment(int64_t start, std::vector<double> &dist, std::vector<int64_t> &path, std::vector<int64_t> &remaining,
                 std::vector<int64_t> &visitedRows, std::vector<int64_t> &visitedCols) {
        int64_t left = m;
        for (int64_t j = 0; j < m; ++j) {
            remaining[j] = m - j - 1; // scipy's order: ties resolve like linear_sum_assignment
            dist[j] = kInf;
        }
        visitedRows.clear();
        visitedCols.clear();
        double minVal = 0;
        int64_t i = start, sink = -1;
        while (sink < 0) {
            visitedRows.push_back(i);
            const double *row = c + i * m;
            const double base = minVal - u[i];
            double lowest = kInf;
            int64_t index = -1;
            for (int64_t it = 0; it < left; ++it) {
                const int64_t j = remaining[it];
                const double r = base + row[j] - v[j];
                if (r < dist[j]) {
                    path[j] = i;
                    dist[j] = r;
                }
                if (dist[j] < lowest || (dist[j] == lowest && row4col[j] < 0)) {
                    lowest = dist[j];
                    index = it;
                }
            }
            if (!(lowest < kInf)) return false;
            minVal = lowest;
            const int64_t j = remaining[index];
            if (row4col[j] < 0)
                sink = j;
            else
                i = row4col[j];
            visitedCols.push_back(j);
            remaining[index] = remaining[--left];
        }
        u[start] += minVal;
        for (int64_t r : visitedRows)
            if (r != start) u[r] += minVal - dist[col4row[r]];
        for (int64_t j : visitedCols) v[j] -= minVal - dist[j];
        for (int64_t j = sink;;) {
            const int64_t r = path[j];
            row4col[j] = r;
            std::swap(col4row[r], j);
            if (r == start) break;
        }
        return true;
    }
};

} // namespace

Result<Assignment> solveAssignment(const double *cost, int64_t rows, int64_t columns, const AssignmentOptions &options) {
    if (rows < 0 || columns < 0) return Error{"assignment: negative matrix size"};
    Assignment out;
    if (rows == 0 || columns == 0) {
        out.rowToColumn.assign(rows, -1);
        out.columnToRow.assign(columns, -1);
        if (rows > columns) return Error{"assignment: " + std::to_string(rows) + " rows cannot be assigned to no column"};
        return out;
    }
    for (int64_t k = 0; k < rows * columns; ++k)
        if (std::isnan(cost[k]) || cost[k] == -kInf)
            return Error{"assignment: the cost matrix holds NaN or -inf at (" + std::to_string(k / columns) + ", " +
                         std::to_string(k % columns) + ")"};

    // More rows than columns: solve the transpose, then read the pairs back.
    std::vector<double> transposed;
    const bool transpose = rows > columns;
    const double *c = cost;
    int64_t n = rows, m = columns;
    if (transpose) {
        transposed.resize(rows * columns);
        for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < columns; ++j) transposed[j * rows + i] = cost[i * columns + j];
        c = transposed.data();
        std::swap(n, m);
    }

    Solver s{c, n, m, std::vector<double>(n, 0.0), std::vector<double>(m, 0.0), std::vector<int64_t>(n, -1),
             std::vector<int64_t>(m, -1)};
    std::vector<int64_t> freeRows;
    if (options.initialize && n == m) {
        freeRows = s.initialize();
    } else {
        for (int64_t i = 0; i < n; ++i) freeRows.push_back(i);
    }
    out.freeRowsAfterInit = static_cast<int64_t>(freeRows.size());

    std::vector<double> dist(m);
    std::vector<int64_t> path(m, -1), remaining(m), visitedRows, visitedCols;
    for (int64_t i : freeRows)
        if (!s.augment(i, dist, path, remaining, visitedRows, visitedCols))
            return Error{"assignment: no complete assignment exists (" + std::string(transpose ? "column " : "row ") +
                         std::to_string(i) + " cannot be placed: too many forbidden pairs)"};

    // Solving the transpose swaps the roles: its rows are our columns.
    out.u = transpose ? s.v : s.u;
    out.v = transpose ? s.u : s.v;
    out.rowToColumn = transpose ? s.row4col : s.col4row;
    out.columnToRow = transpose ? s.col4row : s.row4col;
    for (int64_t i = 0; i < rows; ++i)
        if (out.rowToColumn[i] >= 0) out.totalCost += cost[i * columns + out.rowToColumn[i]];
    return out;
}

double dualGap(const double *cost, int64_t rows, int64_t columns, const Assignment &a) {
    double worst = 0;
    for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < columns; ++j) {
            const double cij = cost[i * columns + j];
            if (!std::isfinite(cij)) continue;
            const double r = cij - a.u[i] - a.v[j];
            const double scale = std::max({1.0, std::abs(cij), std::abs(a.u[i]), std::abs(a.v[j])});
            worst = std::max(worst, -r / scale);
            if (a.rowToColumn[i] == j) worst = std::max(worst, std::abs(r) / scale);
        }
    }
    // The unmatched side of a rectangular problem must have duals <= 0 for them to certify
    // optimality (a free column could otherwise absorb a row more cheaply).
    for (int64_t j = 0; j < columns; ++j)
        if (a.columnToRow[j] < 0) worst = std::max(worst, a.v[j] / std::max(1.0, std::abs(a.v[j])));
    for (int64_t i = 0; i < rows; ++i)
        if (a.rowToColumn[i] < 0) worst = std::max(worst, a.u[i] / std::max(1.0, std::abs(a.u[i])));
    return worst;
}

} // namespace fscope::core::analysis
