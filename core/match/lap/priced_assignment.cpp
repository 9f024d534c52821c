#include "core/match/lap/priced_assignment.h"
#include "core/match/lap/sparse_assignment.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

namespace fscope::core::lap {
namespace {

double secondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Result<at::Tensor> block(const CostRows &rows, int64_t r0, int64_t r1, int64_t n)
{
    at::Tensor c = rows(r0, r1);
    if (!c.defined() || c.dim() != 2 || c.size(0) != r1 - r0 || c.size(1) != n)
        return Error { "assignment: the cost rows " + std::to_string(r0) + ".." + std::to_string(r1)
            + " do not have shape [" + std::to_string(r1 - r0) + ", " + std::to_string(n) + "]" };
    return c;
}

// The k smallest entries of every column of `values` (a block of rows starting at row r0)
// merged into a running [k, n] selection: (value, row, cost) triples kept on the device.
struct ColumnBest {
    at::Tensor values, rows, costs;
    void merge(const at::Tensor &blockValues, const at::Tensor &blockCosts, int64_t r0, int64_t k)
    {
        const int64_t kk = std::min(k, blockValues.size(0));
        auto [v, idx] = blockValues.topk(kk, 0, /*largest=*/false, /*sorted=*/false);
        at::Tensor c = blockCosts.gather(0, idx);
        at::Tensor r = idx + r0;
        if (values.defined()) {
            v = at::cat({ values, v });
            r = at::cat({ rows, r });
            c = at::cat({ costs, c });
        }
        const int64_t keep = std::min(k, v.size(0));
        auto [mv, pick] = v.topk(keep, 0, /*largest=*/false, /*sorted=*/false);
        values = mv;
        rows = r.gather(0, pick);
        costs = c.gather(0, pick);
    }
};

// Adds the pairs (rows[t], columns[t], costs[t]) where keep[t], grouped by row so that each
// row takes one addCandidates call. Returns the number of pairs new to the candidates.
int64_t addByRow(SparseAssignment &s, const at::Tensor &rows, const at::Tensor &columns,
    const at::Tensor &costs, const at::Tensor &keep)
{
    const at::Tensor mask = keep.reshape(-1);
    const at::Tensor is = rows.reshape(-1).masked_select(mask),
                     js = columns.reshape(-1).contiguous().masked_select(mask),
                     cs = costs.reshape(-1).to(at::kDouble).masked_select(mask);
    const at::Tensor order = std::get<1>(is.sort(/*stable=*/true, 0, /*descending=*/false));
    const at::Tensor si = is.index_select(0, order).contiguous(),
                     sj = js.index_select(0, order).contiguous(),
                     sc = cs.index_select(0, order).contiguous();
    const int64_t *ip = si.data_ptr<int64_t>(), *jp = sj.data_ptr<int64_t>();
    const double *cp = sc.data_ptr<double>();
    const int64_t before = s.candidates(), total = si.numel();
    for (int64_t a = 0; a < total;) {
        int64_t b = a;
        while (b < total && ip[b] == ip[a])
            ++b;
        s.addCandidates(ip[a], jp + a, cp + a, b - a);
        a = b;
    }
    return s.candidates() - before;
}

// Candidates from two passes over the blocks (see the header): column minima and each
// column's cheapest rows first, then each row's cheapest columns and the pair (i, i).
Status addCandidates(SparseAssignment &s, const CostRows &rows, int64_t n, const PricedOptions &o,
    at::Device &device)
{
    at::Tensor colMin;
    ColumnBest columnBest;
    const int64_t kc = std::clamp<int64_t>(o.columnCandidates, 0, n);
    for (int64_t r0 = 0; r0 < n; r0 += o.blockRows) {
        const int64_t r1 = std::min(n, r0 + o.blockRows);
        at::Tensor c;
        FS_TRY(c, block(rows, r0, r1, n));
        device = c.device();
        const at::Tensor finite = at::isfinite(c).all(1).cpu();
        if (!finite.all().item<bool>()) {
            const int64_t bad = r0 + finite.logical_not().nonzero()[0][0].item<int64_t>();
            return Error { "assignment: the cost matrix holds NaN or an infinity in row "
                + std::to_string(bad) };
        }
        const at::Tensor blockMin = c.amin(0);
        colMin = colMin.defined() ? at::minimum(colMin, blockMin) : blockMin;
        if (kc > 0)
            columnBest.merge(c - c.amin(1, /*keepdim=*/true), c, r0, kc);
    }
    const int64_t k = std::clamp<int64_t>(o.rowCandidates, 1, n);
    std::vector<int64_t> columnsOfRow(k + 1);
    std::vector<double> costsOfRow(k + 1);
    for (int64_t r0 = 0; r0 < n; r0 += o.blockRows) {
        const int64_t r1 = std::min(n, r0 + o.blockRows);
        at::Tensor c;
        FS_TRY(c, block(rows, r0, r1, n));
        const at::Tensor columns = std::get<1>(
            (c - colMin.unsqueeze(0)).topk(k, 1, /*largest=*/false, /*sorted=*/false));
        const at::Tensor rowIndex = at::arange(r0, r1, columns.options()).unsqueeze(1);
        const at::Tensor ch = columns.cpu().contiguous(),
                         vh = c.gather(1, columns).to(at::kDouble).cpu().contiguous(),
                         dh = c.gather(1, rowIndex).to(at::kDouble).cpu().contiguous(); // (i, i)
        for (int64_t i = r0; i < r1; ++i) {
            std::copy_n(ch.data_ptr<int64_t>() + (i - r0) * k, k, columnsOfRow.begin());
            std::copy_n(vh.data_ptr<double>() + (i - r0) * k, k, costsOfRow.begin());
            columnsOfRow[k] = i;
            costsOfRow[k] = dh.data_ptr<double>()[i - r0];
            s.addCandidates(i, columnsOfRow.data(), costsOfRow.data(), k + 1);
        }
    }
    if (kc > 0)
        addByRow(s, columnBest.rows.cpu(),
            at::arange(n, at::kLong).unsqueeze(0).expand_as(columnBest.rows.cpu()),
            columnBest.costs.cpu(), at::ones_like(columnBest.rows.cpu(), at::kBool));
    return {};
}

struct Pricing {
    double lowerBound = 0;
    int64_t offendingColumns
        = 0; // columns some pair undercuts (their duals are lowered when adding)
    int64_t added = 0;
};

// One pass over the dense matrix (see the header): the lower bound from the duals and, when
// `add`, the offending columns' duals lowered and their most negative rows added.
Result<Pricing> price(
    SparseAssignment &s, const CostRows &rows, int64_t n, const PricedOptions &o, bool add)
{
    Pricing out;
    double dualSum = 0;
    for (int64_t i = 0; i < n; ++i)
        dualSum += s.u()[i] + s.v()[i];
    at::Tensor u, v, colMin, offendingColumns;
    ColumnBest offenders;
    double rowShortfall = 0;
    const int64_t k = std::clamp<int64_t>(o.addPerColumn, 1, n);
    const double inf = std::numeric_limits<double>::infinity();
    for (int64_t r0 = 0; r0 < n; r0 += o.blockRows) {
        const int64_t r1 = std::min(n, r0 + o.blockRows);
        at::Tensor c;
        FS_TRY(c, block(rows, r0, r1, n));
        if (!v.defined()) {
            const auto dbl = at::TensorOptions().dtype(at::kDouble);
            v = at::from_blob(const_cast<double *>(s.v().data()), { n }, dbl).to(c.device());
            u = at::from_blob(const_cast<double *>(s.u().data()), { n }, dbl).to(c.device());
        }
        const at::Tensor cd = c.to(at::kDouble);
        const at::Tensor reduced = cd - u.slice(0, r0, r1).unsqueeze(1) - v.unsqueeze(0);
        // Every negative reduced cost counts in the bounds, even inside the tolerance.
        rowShortfall += reduced.amin(1).clamp_max(0).sum().item<double>();
        const at::Tensor blockMin = reduced.amin(0);
        colMin = colMin.defined() ? at::minimum(colMin, blockMin) : blockMin;
        const at::Tensor offending = reduced < -o.tolerance * cd.abs().clamp_min(1.0);
        const at::Tensor blockOffending = offending.any(0);
        offendingColumns = offendingColumns.defined() ? offendingColumns.logical_or(blockOffending)
                                                      : blockOffending;
        if (!add || !blockOffending.any().item<bool>())
            continue; // the per-column flags, not the whole mask again
        offenders.merge(
            at::where(offending, reduced, at::full({}, inf, reduced.options())), cd, r0, k);
    }
    out.offendingColumns = offendingColumns.sum().item<int64_t>();
    const at::Tensor shortfall = colMin.clamp_max(0);
    out.lowerBound = dualSum + std::max(rowShortfall, shortfall.sum().item<double>());
    if (!add || !offenders.values.defined())
        return out;

    // Lower the offending columns' duals, then add their most negative rows: the new pairs'
    // reduced costs are then >= 0 and tight for the most negative one.
    const at::Tensor valid = offenders.values < inf;
    const at::Tensor shift
        = at::where(valid.any(0), shortfall, at::zeros_like(shortfall)).cpu().contiguous();
    s.lowerColumnDuals(std::vector<double>(shift.data_ptr<double>(), shift.data_ptr<double>() + n));
    const at::Tensor is = offenders.rows.cpu();
    out.added = addByRow(s, is, at::arange(n, at::kLong).unsqueeze(0).expand_as(is),
        offenders.costs.cpu(), valid.cpu());
    return out;
}

} // namespace

Result<PricedAssignment> solvePricedAssignment(
    int64_t n, const CostRows &rows, const PricedOptions &options)
{
    if (n <= 0)
        return Error { "assignment: an empty cost matrix" };
    PricedOptions o = options;
    o.blockRows = std::max<int64_t>(1, o.blockRows);
    PricedAssignment out;
    SparseAssignment s(n);

    auto t0 = std::chrono::steady_clock::now();
    at::Device device = at::kCPU;
    if (auto st = addCandidates(s, rows, n, o, device); !st)
        return st.error();
    out.candidateSeconds = secondsSince(t0);

    using WarmStart = PricedOptions::WarmStart;
    if (o.warmStart == WarmStart::Auction || (o.warmStart == WarmStart::Auto && !device.is_cpu())) {
        const auto t = std::chrono::steady_clock::now();
        std::vector<int64_t> columns;
        std::vector<double> costs;
        int64_t width = 0;
        s.candidateTable(columns, costs, width);
        const at::Tensor cols = at::from_blob(columns.data(), { n, width }, at::kLong).to(device);
        const at::Tensor vals = at::from_blob(costs.data(), { n, width }, at::kDouble).to(device);
        AuctionResult auction;
        FS_TRY(auction, auctionOnCandidates(cols, vals, o.auction));
        const AuctionSeed seeded = auctionSeed(cols, vals, auction);
        out.seededPairs = s.seed(seeded.rowToColumn, seeded.v);
        out.auction = true;
        out.auctionPhases = auction.phases;
        out.auctionRounds = auction.rounds;
        out.auctionSeconds = secondsSince(t);
    }

    auto solve = [&]() -> Status {
        const auto t = std::chrono::steady_clock::now();
        const int64_t scans = s.rowsScanned(), freeRows = s.freeRows();
        Status st = s.solve();
        const double seconds = secondsSince(t);
        out.solveSeconds += seconds;
        out.solves.push_back({ freeRows, s.rowsScanned() - scans, seconds });
        return st;
    };
    if (auto st = solve(); !st)
        return st.error();
    for (int round = 0;; ++round) {
        const bool mayAdd = round < o.maxRounds;
        if (!mayAdd && !o.checkGap)
            break;
        const auto t = std::chrono::steady_clock::now();
        Pricing p;
        FS_TRY(p, price(s, rows, n, o, mayAdd));
        out.pricingSeconds += secondsSince(t);
        ++out.rounds;
        out.lowerBound = p.lowerBound;
        out.gapChecked = true;
        if (p.offendingColumns == 0) {
            out.optimal
                = true; // also for the approximate mode, when its candidates held the optimum
            break;
        }
        if (!mayAdd)
            break;
        // Lowered columns freed their rows: place them again, even when every offending pair
        // was a candidate already (block values that differ between passes would do that; the
        // round limit then ends the loop with the gap reported instead of a false proof).
        out.gapChecked = false;
        if (auto st = solve(); !st)
            return st.error();
    }
    out.candidates = s.candidates();
    Assignment &a = out.assignment;
    a.rowToColumn = s.rowToColumn();
    a.columnToRow = s.columnToRow();
    a.u = s.u();
    a.v = s.v();
    a.totalCost = s.totalCost();
    return out;
}

} // namespace fscope::core::lap
