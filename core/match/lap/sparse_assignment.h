#pragma once
// Exact linear assignment on a sparse set of candidate pairs, incremental.
//
// The same shortest-augmenting-path method as the dense solver (assignment.h), with each row
// holding only its candidate columns, so a row scan costs its few candidates instead of the
// whole width, and Dijkstra keeps its frontier in a heap. Candidates can be added after a
// solve (column generation): a row whose new pairs undercut its dual has the dual lowered and,
// if its pair stops being tight, goes back to the free rows; the next solve places those rows
// from the current duals. The duals stay feasible on every candidate and tight on every
// assigned pair, so the result is optimal over the candidates; priced_assignment.h turns that
// into the optimum of the dense problem by checking every pair against the duals.
//
// Square problems only: with rows < columns a freed column would keep a nonzero dual, which
// the rectangular optimality conditions forbid.

#include "core/match/lap/assignment_steps.h"
#include "core/util/result.h"

#include <cstdint>
#include <vector>

namespace fscope::core::lap {

class SparseAssignment {
public:
    explicit SparseAssignment(int64_t n);

    int64_t size() const { return m_n; }
    // Adds a candidate pair; a pair already present keeps its first cost. Costs must be finite.
    void addCandidate(int64_t row, int64_t column, double cost);
    // The same for many pairs of one row: duplicates are found with a column stamp instead of
    // a scan of the row per pair (millions of candidates at 16k features).
    void addCandidates(int64_t row, const int64_t *columns, const double *costs, int64_t count);
    int64_t candidates() const { return m_count; }
    // Lowers v_j by -shift[j] where shift[j] < 0 (a column that some pair of the dense matrix
    // undercuts); the row holding such a column is freed, since its pair is no longer tight.
    // Lowering v keeps every reduced cost >= 0.
    void lowerColumnDuals(const std::vector<double> &shift);

    // Starts from another method's duals and pairs (the auction's, auction.h) instead of JV's
    // initialisation: u is recomputed here from the candidates so the duals are feasible, and
    // a pair is kept only where it is (within `tolerance` of) its row's cheapest reduced cost;
    // every other row is left for solve(). Before the first solve only; returns the pairs kept.
    int64_t seed(const std::vector<int64_t> &rowToColumn, const std::vector<double> &v,
        double tolerance = 1e-12);
    // Every row's candidates as a padded [n, width] table (column -1, cost +inf where a row has
    // fewer), for a solver phase that runs elsewhere.
    void candidateTable(
        std::vector<int64_t> &columns, std::vector<double> &costs, int64_t &width) const;

    // Places every free row. An error names a row that cannot be placed (its candidates and
    // every row reachable from them are used up); adding candidates and solving again is fine.
    Status solve();

    const std::vector<int64_t> &rowToColumn() const { return m_s.col4row; }
    const std::vector<int64_t> &columnToRow() const { return m_s.row4col; }
    const std::vector<double> &u() const { return m_s.u; }
    const std::vector<double> &v() const { return m_s.v; }
    double totalCost() const; // over the assigned pairs
    int64_t freeRows() const; // rows solve() has still to place
    int64_t rowsScanned() const { return m_scans; } // Dijkstra row scans so far

private:
    struct Entry {
        int64_t column;
        double cost;
    };
    void append(int64_t row, int64_t column, double cost);
    bool augment(int64_t start);
    void initialize();
    double costOf(int64_t row, int64_t column) const;

    int64_t m_n = 0, m_count = 0, m_scans = 0;
    bool m_initialized = false;
    std::vector<std::vector<Entry>> m_rows;
    DualState m_s;
    // Dijkstra scratch, reset through the touched list only.
    std::vector<double> m_dist;
    std::vector<int64_t> m_pred, m_touched, m_visitedRows, m_scannedColumns;
    std::vector<char> m_scanned;
    std::vector<int64_t> m_stamp; // addCandidates: the last row that marked each column
};

} // namespace fscope::core::lap
