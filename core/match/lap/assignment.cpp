#include "core/match/lap/assignment.h"
#include "core/match/lap/assignment_kernels.h"
#include "core/match/lap/assignment_steps.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <thread>

namespace fscope::core::lap {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Two threads scan one row: the caller takes the lower half of the columns, a helper the upper
// half. A solve runs hundreds of thousands of row scans of ~10 us each, too short for a thread
// pool's wake-up, so the helper spins on an epoch counter while the runner exists.
class PairRunner {
public:
    explicit PairRunner(int64_t m)
        : m_half(m / 2)
        , m_m(m)
    {
        m_thread = std::thread([this] { loop(); });
    }
    ~PairRunner()
    {
        m_stop.store(true, std::memory_order_release);
        m_epoch.fetch_add(1, std::memory_order_acq_rel);
        m_thread.join();
    }
    int64_t half() const { return m_half; }
    // job(0, half) here and job(half, m) on the helper; returns when both are done.
    template <typename F> void run(F &job)
    {
        m_call = [](void *ctx, int64_t a, int64_t b) { (*static_cast<F *>(ctx))(a, b); };
        m_ctx = &job;
        const int64_t e = m_epoch.fetch_add(1, std::memory_order_acq_rel) + 1;
        job(0, m_half);
        while (m_done.load(std::memory_order_acquire) != e)
            pause();
    }

private:
    static void pause()
    {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    void loop()
    {
        int64_t seen = 0;
        for (;;) {
            int64_t e;
            while ((e = m_epoch.load(std::memory_order_acquire)) == seen)
                pause();
            seen = e;
            if (m_stop.load(std::memory_order_acquire))
                return;
            m_call(m_ctx, m_half, m_m);
            m_done.store(e, std::memory_order_release);
        }
    }
    const int64_t m_half, m_m;
    void (*m_call)(void *, int64_t, int64_t) = nullptr;
    void *m_ctx = nullptr;
    std::atomic<int64_t> m_epoch { 0 }, m_done { 0 };
    std::atomic<bool> m_stop { false };
    std::thread m_thread;
};

// Two threads pay off on wide rows only.
bool worthTwoThreads(int64_t m)
{
    return m >= 4096 && std::thread::hardware_concurrency() >= 2;
}

template <typename T> struct Solver : DualState {
    const T *c = nullptr;
    int64_t n = 0, m = 0; // n <= m

    const T *row(int64_t i) const { return c + i * m; }
    std::unique_ptr<PairRunner> pair; // two threads per row scan on wide problems

    // The two smallest c_ij - v_j of the row with their columns, split across the pair when
    // there is one.
    kernels::TwoSmallest twoSmallest(const T *r)
    {
        kernels::TwoSmallest all;
        if (!pair) {
            kernels::twoSmallestAt(r, v.data(), m, 0, all);
            return all;
        }
        kernels::TwoSmallest upper;
        auto job = [&](int64_t a, int64_t b) {
            kernels::twoSmallestAt(r + a, v.data() + a, b - a, a, a == 0 ? all : upper);
        };
        pair->run(job);
        all.merge(upper);
        return all;
    }

    // kernels::relax over the row, split likewise; returns min_j key[j].
    double relax(const T *r, double base, int64_t label)
    {
        if (!pair)
            return kernels::relax(r, base, w.data(), key.data(), path.data(), label, m);
        double lowest[2] = { kInf, kInf };
        auto job = [&](int64_t a, int64_t b) {
            lowest[a == 0 ? 0 : 1] = kernels::relax(
                r + a, base, w.data() + a, key.data() + a, path.data() + a, label, b - a);
        };
        pair->run(job);
        return std::min(lowest[0], lowest[1]);
    }

    // JV column reduction, reduction transfer and augmenting row reduction (square only).
    // Returns the rows still free. Keeps: an assigned row's column is a minimum of its
    // c_ij - v_j, so u_i = that minimum is dual feasible.
    std::vector<int64_t> initialize()
    {
        std::vector<int> matches(n, 0);
        // Column reduction. JV scans each column for its minimum; on a row-major matrix that
        // is a cache miss per entry, so the minima are gathered row by row (same result: the
        // lowest row wins a tie), then columns are assigned backwards as JV does.
        std::vector<double> colMin(m, kInf);
        std::vector<int64_t> colArg(m, -1);
        for (int64_t i = 0; i < n; ++i) {
            if (!pair) {
                kernels::columnMin(row(i), colMin.data(), colArg.data(), i, m);
                continue;
            }
            auto job = [&](int64_t a, int64_t b) {
                kernels::columnMin(row(i) + a, colMin.data() + a, colArg.data() + a, i, b - a);
            };
            pair->run(job);
        }
        for (int64_t j = m - 1; j >= 0; --j) {
            const int64_t imin = colArg[j];
            if (imin < 0) { // column of +inf: forbidden everywhere, the solve reports it
                v[j] = 0;
                continue;
            }
            v[j] = colMin[j];
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
        // Reduction transfer: a row that won exactly one column hands it the slack to its
        // second-best column.
        std::vector<int64_t> freeRows;
        for (int64_t i = 0; i < n; ++i) {
            if (matches[i] == 0) {
                freeRows.push_back(i);
            } else if (matches[i] == 1) {
                // min over j != j1 of c_ij - v_j, without writing the reduced row out: j1's
                // own entry is never below the row's minimum, so the answer is the minimum
                // unless j1 attains it, and then the second smallest (ties counted twice).
                const int64_t j1 = col4row[i];
                const kernels::TwoSmallest two = twoSmallest(row(i));
                const double own = double(row(i)[j1]) - v[j1];
                const double best = own == two.first ? two.second : two.first;
                if (std::isfinite(best))
                    v[j1] -= best;
            }
        }

        // Augmenting row reduction (assignment_steps.h). 16n steps: on clustered 16k pairs
        // (near-ties everywhere) fewer steps leave more rows to the path search, which costs
        // more than the steps saved (8n: 135 rows left and 6.2 s; 16n: 47 rows and 5.2 s; 24n:
        // 34 rows and 5.4 s on the 2-core machine).
        freeRows = augmentingRowReduction(
            *this, std::move(freeRows), [&](int64_t i) { return twoSmallest(row(i)); },
            16 * n + 64);
        for (int64_t i = 0; i < n; ++i)
            if (col4row[i] >= 0)
                u[i] = double(row(i)[col4row[i]]) - v[col4row[i]];
        return freeRows;
    }

    // One shortest augmenting path from `start` (Crouse 2016 / scipy's augmenting_path).
    // Every step relaxes a whole row with one vector pass: scanned columns are kept out by
    // w_j = -inf (their distance is final) and key_j = +inf (never chosen again).
    std::vector<double> key, w, dist;
    std::vector<int64_t> path, visitedRows, scanned;

    void startSearch(int64_t rowsToPlace)
    {
        key.assign(m, kInf);
        w.assign(m, 0.0);
        dist.resize(m);
        path.resize(m);
        // A helper thread only pays off with more than a handful of searches.
        if (!pair && rowsToPlace >= 4 && worthTwoThreads(m))
            pair = std::make_unique<PairRunner>(m);
    }

    bool augment(int64_t start)
    {
        std::fill(key.begin(), key.end(), kInf);
        std::copy(v.begin(), v.end(), w.begin());
        visitedRows.clear();
        scanned.clear();
        double minVal = 0;
        int64_t i = start, sink = -1;
        while (sink < 0) {
            visitedRows.push_back(i);
            const double lowest = relax(row(i), minVal - u[i], i);
            if (!(lowest < kInf))
                return false;
            // Among columns at the lowest distance prefer a free one: the path ends there.
            int64_t j = kernels::nextEqual(key.data(), 0, m, lowest);
            for (int64_t f = j; f < m; f = kernels::nextEqual(key.data(), f + 1, m, lowest))
                if (row4col[f] < 0) {
                    j = f;
                    break;
                }
            minVal = lowest;
            dist[j] = lowest;
            scanned.push_back(j);
            key[j] = kInf;
            w[j] = -kInf;
            if (row4col[j] < 0)
                sink = j;
            else
                i = row4col[j];
        }
        applyAugmentingPath(
            *this, start, sink, minVal, visitedRows, scanned, dist.data(), path.data());
        return true;
    }
};

template <typename T>
Result<Assignment> solve(
    const T *cost, int64_t rows, int64_t columns, const AssignmentOptions &options)
{
    if (rows < 0 || columns < 0)
        return Error { "assignment: negative matrix size" };
    Assignment out;
    if (rows == 0 || columns == 0) {
        out.rowToColumn.assign(rows, -1);
        out.columnToRow.assign(columns, -1);
        if (rows > columns)
            return Error { "assignment: " + std::to_string(rows)
                + " rows cannot be assigned to no column" };
        return out;
    }
    // NaN and -inf: a branch-free pass per row (it vectorises; an early-exit loop does not and
    // cost half a second on a 16k x 16k matrix), then the first bad entry for the message.
    for (int64_t i = 0; i < rows; ++i) {
        const T *r = cost + i * columns;
        bool bad = false;
        for (int64_t j = 0; j < columns; ++j)
            bad |= !(r[j] > T(-kInf)); // NaN compares false
        if (!bad)
            continue;
        for (int64_t j = 0; j < columns; ++j)
            if (!(r[j] > T(-kInf)))
                return Error { "assignment: the cost matrix holds NaN or -inf at ("
                    + std::to_string(i) + ", " + std::to_string(j) + ")" };
    }

    // More rows than columns: solve the transpose, then read the pairs back.
    std::vector<T> transposed;
    const bool transpose = rows > columns;
    const T *c = cost;
    int64_t n = rows, m = columns;
    if (transpose) {
        transposed.resize(rows * columns);
        for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < columns; ++j)
                transposed[j * rows + i] = cost[i * columns + j];
        c = transposed.data();
        std::swap(n, m);
    }

    Solver<T> s;
    s.c = c;
    s.n = n;
    s.m = m;
    s.u.assign(n, 0.0);
    s.v.assign(m, 0.0);
    s.col4row.assign(n, -1);
    s.row4col.assign(m, -1);
    std::vector<int64_t> freeRows;
    const auto t0 = std::chrono::steady_clock::now();
    if (options.initialize && n == m) {
        if (worthTwoThreads(m))
            s.pair = std::make_unique<PairRunner>(m);
        freeRows = s.initialize();
    } else {
        for (int64_t i = 0; i < n; ++i)
            freeRows.push_back(i);
    }
    out.freeRowsAfterInit = static_cast<int64_t>(freeRows.size());
    const auto t1 = std::chrono::steady_clock::now();
    out.initSeconds = std::chrono::duration<double>(t1 - t0).count();

    s.startSearch(int64_t(freeRows.size()));
    for (int64_t i : freeRows)
        if (!s.augment(i))
            return Error { "assignment: no complete assignment exists ("
                + std::string(transpose ? "column " : "row ") + std::to_string(i)
                + " cannot be placed: too many forbidden pairs)" };

    s.pair.reset();
    out.searchSeconds
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    // Solving the transpose swaps the roles: its rows are our columns.
    out.u = transpose ? s.v : s.u;
    out.v = transpose ? s.u : s.v;
    out.rowToColumn = transpose ? s.row4col : s.col4row;
    out.columnToRow = transpose ? s.col4row : s.row4col;
    for (int64_t i = 0; i < rows; ++i)
        if (out.rowToColumn[i] >= 0)
            out.totalCost += double(cost[i * columns + out.rowToColumn[i]]);
    return out;
}

template <typename T> double gap(const T *cost, int64_t rows, int64_t columns, const Assignment &a)
{
    double worst = 0;
    for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < columns; ++j) {
            const double cij = double(cost[i * columns + j]);
            if (!std::isfinite(cij))
                continue;
            const double r = cij - a.u[i] - a.v[j];
            const double scale
                = std::max({ 1.0, std::abs(cij), std::abs(a.u[i]), std::abs(a.v[j]) });
            worst = std::max(worst, -r / scale);
            if (a.rowToColumn[i] == j)
                worst = std::max(worst, std::abs(r) / scale);
        }
    }
    // The unmatched side of a rectangular problem must have duals <= 0 for them to certify
    // optimality (a free column could otherwise absorb a row more cheaply).
    for (int64_t j = 0; j < columns; ++j)
        if (a.columnToRow[j] < 0)
            worst = std::max(worst, a.v[j] / std::max(1.0, std::abs(a.v[j])));
    for (int64_t i = 0; i < rows; ++i)
        if (a.rowToColumn[i] < 0)
            worst = std::max(worst, a.u[i] / std::max(1.0, std::abs(a.u[i])));
    return worst;
}

} // namespace

Result<Assignment> solveAssignment(
    const double *cost, int64_t rows, int64_t columns, const AssignmentOptions &options)
{
    return solve(cost, rows, columns, options);
}
Result<Assignment> solveAssignment(
    const float *cost, int64_t rows, int64_t columns, const AssignmentOptions &options)
{
    return solve(cost, rows, columns, options);
}
double dualGap(const double *cost, int64_t rows, int64_t columns, const Assignment &a)
{
    return gap(cost, rows, columns, a);
}
double dualGap(const float *cost, int64_t rows, int64_t columns, const Assignment &a)
{
    return gap(cost, rows, columns, a);
}

} // namespace fscope::core::lap
