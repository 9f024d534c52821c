#include "core/match/lap/auction.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fscope::core::lap {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// c_ij + p_j over the candidates of `rows` (+inf on padding).
at::Tensor valuesOf(const at::Tensor &columns, const at::Tensor &costs, const at::Tensor &prices)
{
    return costs + prices.index_select(0, columns.clamp_min(0).reshape(-1)).view_as(costs);
}

} // namespace

Result<AuctionResult> auctionOnCandidates(
    const at::Tensor &columnsIn, const at::Tensor &costsIn, const AuctionOptions &options)
{
    if (columnsIn.dim() != 2 || costsIn.sizes() != columnsIn.sizes())
        return Error { "auction: candidates must be [n, K] columns and costs of one shape" };
    const int64_t n = columnsIn.size(0);
    if (n == 0)
        return Error { "auction: no rows" };
    const at::Device device = columnsIn.device();
    at::Tensor columns = columnsIn.to(at::kLong), costs = costsIn.to(at::kDouble);
    // Padding is +inf whatever the caller stored there.
    costs = at::where(columns < 0, at::full({}, kInf, costs.options()), costs);
    if (columns.size(1) < 2) { // topk(2) needs two entries per row
        columns = at::cat({ columns, at::full({ n, 1 }, -1, columns.options()) }, 1);
        costs = at::cat({ costs, at::full({ n, 1 }, kInf, costs.options()) }, 1);
    }
    const at::Tensor finite = at::isfinite(costs);
    const at::Tensor rowHasOne = finite.any(1);
    if (!rowHasOne.all().item<bool>())
        return Error { "auction: a row has no finite candidate" };
    const at::Tensor finiteCosts = costs.masked_select(finite);
    const double low = finiteCosts.min().item<double>(), high = finiteCosts.max().item<double>();
    const double range = std::max(high - low, 1e-30 * std::max(1.0, std::abs(high)));

    AuctionResult out;
    const auto longs = at::TensorOptions().dtype(at::kLong).device(device);
    at::Tensor prices = at::zeros({ n }, costs.options());
    at::Tensor rowTo = at::full({ n }, -1, longs), colTo = at::full({ n }, -1, longs);
    const int64_t roundLimit = std::max<int64_t>(16, options.roundsPerRow * n);
    const double finalEps = std::max(options.finalEpsilon, 1e-15) * range;
    double eps = std::max(options.startEpsilon * range, finalEps);
    for (;;) {
        rowTo.fill_(-1);
        colTo.fill_(-1);
        for (int64_t round = 0; round < roundLimit; ++round) {
            const at::Tensor bidders = (rowTo < 0).nonzero().squeeze(1);
            if (bidders.numel() == 0)
                break;
            ++out.rounds;
            const at::Tensor cols = columns.index_select(0, bidders);
            const at::Tensor values = valuesOf(cols, costs.index_select(0, bidders), prices);
            const auto [best2, at2] = values.topk(2, 1, /*largest=*/false, /*sorted=*/true);
            const at::Tensor w1 = best2.select(1, 0), w2raw = best2.select(1, 1);
            // A row with one candidate bids as though its second choice were a range away.
            const at::Tensor w2 = at::where(at::isfinite(w2raw), w2raw, w1 + range);
            const at::Tensor target = cols.gather(1, at2.select(1, 0).unsqueeze(1)).squeeze(1);
            const at::Tensor bid = prices.index_select(0, target) + (w2 - w1) + eps;
            // Each column's highest bid, and its lowest bidder among equal bids.
            const at::Tensor highest
                = at::full({ n }, -kInf, costs.options()).scatter_reduce(0, target, bid, "amax");
            const at::Tensor wins = bid == highest.index_select(0, target);
            const at::Tensor winner
                = at::full({ n }, n, longs)
                      .scatter_reduce(
                          0, target, at::where(wins, bidders, at::full({}, n, longs)), "amin");
            const at::Tensor won = (winner < n).nonzero().squeeze(1);
            const at::Tensor previous = colTo.index_select(0, won);
            const at::Tensor displaced = previous.masked_select(previous >= 0);
            rowTo.index_fill_(0, displaced, -1);
            const at::Tensor newOwners = winner.index_select(0, won);
            colTo.index_copy_(0, won, newOwners);
            rowTo.index_copy_(0, newOwners, won);
            prices.index_copy_(0, won, highest.index_select(0, won));
        }
        ++out.phases;
        if (eps <= finalEps)
            break;
        eps = std::max(eps / std::max(options.epsilonFactor, 1.5), finalEps);
    }
    out.rowToColumn = rowTo;
    out.prices = prices;
    out.unassigned = (rowTo < 0).sum().item<int64_t>();
    return out;
}

AuctionSeed auctionSeed(
    const at::Tensor &columnsIn, const at::Tensor &costsIn, const AuctionResult &auction)
{
    const int64_t n = columnsIn.size(0);
    const at::Tensor columns = columnsIn.to(at::kLong);
    const at::Tensor safe = columns.clamp_min(0);
    const at::Tensor costs = at::where(columns < 0,
        at::full({}, kInf, costsIn.options().dtype(at::kDouble)), costsIn.to(at::kDouble));
    const at::Tensor p = auction.prices;
    const at::Tensor rowTo = auction.rowToColumn;
    // Each row's cheapest value and its slack on the column it holds.
    const at::Tensor values = valuesOf(columns, costs, p);
    const at::Tensor cheapest = std::get<0>(values.min(1));
    const at::Tensor holds = rowTo >= 0;
    const at::Tensor ownColumn = columns == rowTo.unsqueeze(1); // one per holding row
    const at::Tensor heldValue = at::where(
        holds, at::where(ownColumn, values, at::zeros({}, values.options())).sum(1), cheapest);
    const at::Tensor slack = (heldValue - cheapest).clamp_min(0);
    // Owner of each column and the price cut its owner's slack asks for.
    const auto longs = rowTo.options();
    const at::Tensor owner
        = at::full({ n }, -1, longs)
              .index_copy(0, rowTo.masked_select(holds), holds.nonzero().squeeze(1));
    const at::Tensor cut
        = at::zeros({ n }, p.options())
              .index_copy(0, rowTo.masked_select(holds), slack.masked_select(holds));
    // After the cut: every other row's value of the column drops by it. A row keeps its pair
    // when none of its other candidates then undercuts its own (cut) value.
    const at::Tensor cutOf = cut.index_select(0, safe.reshape(-1)).view_as(costs);
    const at::Tensor after = values - cutOf;
    const at::Tensor ownAfter = heldValue - slack; // == cheapest, the tight value
    const at::Tensor othersMin
        = std::get<0>(at::where(ownColumn, at::full({}, kInf, after.options()), after).min(1));
    const at::Tensor keep = holds.logical_and(othersMin >= ownAfter);
    // A freed row's column keeps its price (no cut). Dropping cuts only raises values, so every
    // kept row stays kept: its other candidates still do not undercut it.
    const at::Tensor cutKept = at::where(
        keep.index_select(0, owner.clamp_min(0)).logical_and(owner >= 0), cut, at::zeros_like(cut));
    const at::Tensor after2 = values - cutKept.index_select(0, safe.reshape(-1)).view_as(costs);
    // v = -(p - cut); u = each row's cheapest value after the cuts (its own tight value where
    // kept).
    const at::Tensor vDev = -(p - cutKept);
    const at::Tensor uDev = std::get<0>(after2.min(1));

    AuctionSeed seed;
    const at::Tensor kept = at::where(keep, rowTo, at::full({}, -1, longs)).cpu().contiguous();
    const at::Tensor u = uDev.cpu().contiguous(), v = vDev.cpu().contiguous();
    seed.rowToColumn.assign(kept.data_ptr<int64_t>(), kept.data_ptr<int64_t>() + n);
    seed.u.assign(u.data_ptr<double>(), u.data_ptr<double>() + n);
    seed.v.assign(v.data_ptr<double>(), v.data_ptr<double>() + n);
    seed.kept = keep.sum().item<int64_t>();
    return seed;
}

} // namespace fscope::core::lap
