#include "core/match/lap/sparse_assignment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace fscope::core::lap {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Heap order for Dijkstra's frontier: nearest first and, at equal distance, a free column
// first (the path ends there, JV's tie rule), then the lower column index. The tie keys share
// one integer so an entry is 16 bytes.
struct Frontier {
    double dist;
    int64_t key; // assigned << 62 | column
    bool operator>(const Frontier &o) const { return dist != o.dist ? dist > o.dist : key > o.key; }
    int64_t column() const { return key & ((int64_t(1) << 62) - 1); }
};

} // namespace

SparseAssignment::SparseAssignment(int64_t n)
    : m_n(n)
    , m_rows(n)
    , m_s { std::vector<double>(n, 0.0), std::vector<double>(n, 0.0), std::vector<int64_t>(n, -1),
        std::vector<int64_t>(n, -1) }
    , m_dist(n, kInf)
    , m_pred(n, -1)
    , m_scanned(n, 0)
{
}

double SparseAssignment::costOf(int64_t row, int64_t column) const
{
    for (const Entry &e : m_rows[row])
        if (e.column == column)
            return e.cost;
    return kInf;
}

void SparseAssignment::addCandidate(int64_t row, int64_t column, double cost)
{
    for (const Entry &e : m_rows[row])
        if (e.column == column)
            return;
    append(row, column, cost);
}

void SparseAssignment::addCandidates(
    int64_t row, const int64_t *columns, const double *costs, int64_t count)
{
    if (m_stamp.empty())
        m_stamp.assign(m_n, -1);
    for (const Entry &e : m_rows[row])
        m_stamp[e.column] = row;
    for (int64_t t = 0; t < count; ++t) {
        if (m_stamp[columns[t]] == row)
            continue;
        m_stamp[columns[t]] = row;
        append(row, columns[t], costs[t]);
    }
    // Stamps name rows, so the next row's call starts clean without a reset.
}

void SparseAssignment::append(int64_t row, int64_t column, double cost)
{
    m_rows[row].push_back({ column, cost });
    ++m_count;
    if (!m_initialized)
        return;
    // Keep the duals feasible on the new pair: lower the row's dual to it. The row's own pair
    // is then no longer tight, so the row goes back to the free rows.
    const double reduced = cost - m_s.u[row] - m_s.v[column];
    if (reduced >= 0)
        return;
    m_s.u[row] += reduced;
    if (const int64_t j = m_s.col4row[row]; j >= 0) {
        m_s.col4row[row] = -1;
        m_s.row4col[j] = -1;
    }
}

void SparseAssignment::lowerColumnDuals(const std::vector<double> &shift)
{
    for (int64_t j = 0; j < m_n; ++j) {
        if (!(shift[j] < 0))
            continue;
        m_s.v[j] += shift[j];
        if (const int64_t r = m_s.row4col[j]; r >= 0) {
            m_s.row4col[j] = -1;
            m_s.col4row[r] = -1;
        }
    }
}

// JV's initialisation on the candidates, as the dense solver runs it: column reduction,
// reduction transfer and two rounds of augmenting row reduction. Afterwards each assigned
// row's column is a minimum of its c_ij - v_j over its candidates, so u_i = c_ij - v_j is
// feasible and tight; free rows get their u from the path search.
void SparseAssignment::initialize()
{
    // Column reduction: v_j is the cheapest candidate of column j, whose row takes the column
    // when it has none yet. Columns without candidates keep v = 0 (no constraint reads it).
    std::vector<int64_t> best(m_n, -1);
    std::vector<int> matches(m_n, 0);
    std::fill(m_s.v.begin(), m_s.v.end(), kInf);
    for (int64_t i = 0; i < m_n; ++i)
        for (const Entry &e : m_rows[i])
            if (e.cost < m_s.v[e.column]) {
                m_s.v[e.column] = e.cost;
                best[e.column] = i;
            }
    for (int64_t j = 0; j < m_n; ++j) {
        if (best[j] < 0) {
            m_s.v[j] = 0;
            continue;
        }
        ++matches[best[j]];
        if (m_s.col4row[best[j]] < 0) {
            m_s.col4row[best[j]] = j;
            m_s.row4col[j] = best[j];
        }
    }
    // The two smallest c_ij - v_j over a row's candidates (lowest column on ties).
    auto twoSmallest = [&](int64_t i) {
        kernels::TwoSmallest t;
        for (const Entry &e : m_rows[i])
            t.offer(e.cost - m_s.v[e.column], e.column);
        return t;
    };
    // Reduction transfer: a row that won exactly one column hands it the slack to its
    // second-best candidate.
    std::vector<int64_t> freeRows;
    for (int64_t i = 0; i < m_n; ++i) {
        if (m_s.col4row[i] < 0) {
            freeRows.push_back(i);
        } else if (matches[i] == 1) {
            const int64_t j1 = m_s.col4row[i];
            const double own = costOf(i, j1) - m_s.v[j1];
            const kernels::TwoSmallest t = twoSmallest(i);
            const double next = t.firstAt == j1 ? t.second : t.first;
            if (std::isfinite(next) && next > own)
                m_s.v[j1] -= next - own;
        }
    }
    // Augmenting row reduction (assignment_steps.h). 64n steps: a step scans one row's
    // candidates (~160), so it is cheap next to the path searches it saves: on clustered 16k
    // pairs 16n steps leave 183 rows (initial solve 1.9 s on the 2-core machine), 64n leave 44
    // (1.1 s); easy pairs are unaffected.
    augmentingRowReduction(m_s, std::move(freeRows), twoSmallest, 64 * m_n + 64);
    for (int64_t i = 0; i < m_n; ++i)
        m_s.u[i] = m_s.col4row[i] >= 0 ? costOf(i, m_s.col4row[i]) - m_s.v[m_s.col4row[i]] : 0.0;
    m_initialized = true;
}

int64_t SparseAssignment::seed(
    const std::vector<int64_t> &rowToColumn, const std::vector<double> &v, double tolerance)
{
    m_s.v = v;
    std::fill(m_s.col4row.begin(), m_s.col4row.end(), -1);
    std::fill(m_s.row4col.begin(), m_s.row4col.end(), -1);
    int64_t kept = 0;
    for (int64_t i = 0; i < m_n; ++i) {
        double cheapest = kInf, own = kInf;
        const int64_t j = rowToColumn[i];
        for (const Entry &e : m_rows[i]) {
            const double r = e.cost - m_s.v[e.column];
            cheapest = std::min(cheapest, r);
            if (e.column == j)
                own = r;
        }
        m_s.u[i] = std::isfinite(cheapest) ? cheapest : 0.0;
        // Tight up to the other solver's rounding: the pair's own reduced cost is then exactly
        // 0, and any other candidate's is at worst -tolerance (the pricing pass's tolerance is
        // far above it, so no pair is missed because of it).
        if (j < 0 || !std::isfinite(own) || m_s.row4col[j] >= 0
            || own - cheapest > tolerance * std::max(1.0, std::abs(own)))
            continue;
        m_s.u[i] = own;
        m_s.col4row[i] = j;
        m_s.row4col[j] = i;
        ++kept;
    }
    m_initialized = true;
    return kept;
}

void SparseAssignment::candidateTable(
    std::vector<int64_t> &columns, std::vector<double> &costs, int64_t &width) const
{
    width = 1;
    for (const auto &row : m_rows)
        width = std::max<int64_t>(width, int64_t(row.size()));
    columns.assign(size_t(m_n * width), -1);
    costs.assign(size_t(m_n * width), kInf);
    for (int64_t i = 0; i < m_n; ++i)
        for (size_t t = 0; t < m_rows[i].size(); ++t) {
            columns[size_t(i * width) + t] = m_rows[i][t].column;
            costs[size_t(i * width) + t] = m_rows[i][t].cost;
        }
}

// One shortest augmenting path from `start` over the candidates (the dense solver's
// augment, with a heap for the frontier). Leaves everything unchanged when no free column
// is reachable.
bool SparseAssignment::augment(int64_t start)
{
    std::vector<Frontier> heap;
    auto reset = [&] {
        for (int64_t j : m_touched) {
            m_dist[j] = kInf;
            m_scanned[j] = 0;
        }
        m_touched.clear();
    };
    m_visitedRows.clear();
    m_scannedColumns.clear();
    double minVal = 0;
    int64_t i = start, sink = -1;
    while (sink < 0) {
        m_visitedRows.push_back(i);
        ++m_scans;
        const double base = minVal - m_s.u[i];
        for (const Entry &e : m_rows[i]) {
            const int64_t j = e.column;
            if (m_scanned[j])
                continue;
            const double d = base + e.cost - m_s.v[j];
            if (d < m_dist[j]) {
                if (m_dist[j] == kInf)
                    m_touched.push_back(j);
                m_dist[j] = d;
                m_pred[j] = i;
                heap.push_back({ d, (m_s.row4col[j] >= 0 ? int64_t(1) << 62 : 0) | j });
                std::push_heap(heap.begin(), heap.end(), std::greater<>());
            }
        }
        int64_t j = -1;
        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), std::greater<>());
            const Frontier f = heap.back();
            heap.pop_back();
            const int64_t col = f.column();
            if (!m_scanned[col] && f.dist == m_dist[col]) {
                j = col;
                break;
            }
        }
        if (j < 0) {
            reset();
            return false;
        }
        minVal = m_dist[j];
        m_scanned[j] = 1;
        m_scannedColumns.push_back(j);
        if (m_s.row4col[j] < 0)
            sink = j;
        else
            i = m_s.row4col[j];
    }
    applyAugmentingPath(
        m_s, start, sink, minVal, m_visitedRows, m_scannedColumns, m_dist.data(), m_pred.data());
    reset();
    return true;
}

Status SparseAssignment::solve()
{
    if (!m_initialized)
        initialize();
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < m_n; ++i)
        if (m_s.col4row[i] < 0)
            rows.push_back(i);
    for (int64_t i : rows)
        if (!augment(i))
            return Error { "assignment: row " + std::to_string(i) + " cannot be placed on its "
                + std::to_string(m_rows[i].size()) + " candidate columns" };
    return {};
}

double SparseAssignment::totalCost() const
{
    double total = 0;
    for (int64_t i = 0; i < m_n; ++i)
        if (m_s.col4row[i] >= 0)
            total += costOf(i, m_s.col4row[i]);
    return total;
}

int64_t SparseAssignment::freeRows() const
{
    return std::count(m_s.col4row.begin(), m_s.col4row.end(), int64_t(-1));
}

} // namespace fscope::core::lap
