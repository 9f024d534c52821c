#include "core/index/feature_accumulator.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <cstring>

namespace fscope::core::index {

namespace {

const auto kLong = at::TensorOptions().dtype(at::kLong);

// splitmix64 (corpus::mix64) on int64 tensors: multiplication and addition wrap like uint64,
// and a logical right shift is the arithmetic one with the sign bits masked off.
at::Tensor shr(const at::Tensor &x, int s)
{
    return at::bitwise_and(at::__rshift__(x, s), static_cast<int64_t>(~uint64_t(0) >> s));
}

at::Tensor mix64(at::Tensor x)
{
    x = x + static_cast<int64_t>(0x9E3779B97F4A7C15ULL);
    x = at::bitwise_xor(x, shr(x, 30)) * static_cast<int64_t>(0xBF58476D1CE4E5B9ULL);
    x = at::bitwise_xor(x, shr(x, 27)) * static_cast<int64_t>(0x94D049BB133111EBULL);
    return at::bitwise_xor(x, shr(x, 31));
}

// histogramExponent and binScale (accumulator_state.h) on tensors.
at::Tensor exponents(const at::Tensor &max)
{
    return std::get<1>(at::frexp(max));
}

at::Tensor scales(const at::Tensor &exponent)
{
    return at::__lshift__((136 - exponent).clamp(1, 254).to(at::kInt), 23).view(at::kFloat);
}

// How a batch of candidates merges into a per-feature list. The list is two [F, S] arrays: the
// keys in ascending order (empty = kEmptyKey, last) and, for each, the physical slot that holds
// its payload (value, context, position, window); the slots of a row are a permutation of 0..S-1,
// the empty entries holding the free ones. A merge therefore moves only (key, slot) pairs: an
// entry's place in the merged row is (kept keys below it) + (candidates below it), the kept
// entries that fall past S are the row's last ones, and the candidates that enter take their
// physical slots, so payload is written only for those.
struct MergePlan {
    at::Tensor rows; // [U] the features with candidates
    at::Tensor keys, slots; // [U, S] their new rows
    at::Tensor candSel; // candidates that enter (indices into the caller's candidates)
    at::Tensor candDst; // their payload's flat index, feature * S + physical slot
};

MergePlan planMerge(
    const at::Tensor &keys, const at::Tensor &slots, const at::Tensor &group, const at::Tensor &key)
{
    const int64_t S = keys.size(1), c = group.numel();
    const auto opt = kLong.device(keys.device());
    MergePlan plan;
    if (c == 0) {
        plan.rows = plan.candSel = plan.candDst = at::empty({ 0 }, opt);
        plan.keys = plan.slots = at::empty({ 0, S }, opt);
        return plan;
    }
    // Candidates ordered by (feature, key): two stable sorts; their rank within the feature.
    const at::Tensor byKey = std::get<1>(at::sort(key, true, 0, false));
    at::Tensor perm = byKey.index_select(
        0, std::get<1>(at::sort(group.index_select(0, byKey), true, 0, false)));
    at::Tensor g = group.index_select(0, perm);
    const at::Tensor first = at::cat(
        { at::ones({ 1 }, opt.dtype(at::kBool)), g.narrow(0, 1, c - 1).ne(g.narrow(0, 0, c - 1)) });
    at::Tensor u = first.cumsum(0) - 1; // row of the candidate in the plan
    const at::Tensor starts = at::nonzero(first).squeeze(1);
    plan.rows = g.index_select(0, starts);
    const int64_t U = plan.rows.numel();
    at::Tensor rank = at::arange(c, opt) - starts.index_select(0, u);
    // Beyond the S-th of its feature a candidate never enters, and whatever it would push out
    // is pushed out by the S before it anyway.
    const at::Tensor within = at::nonzero(rank.lt(S)).squeeze(1);
    perm = perm.index_select(0, within);
    u = u.index_select(0, within);
    rank = rank.index_select(0, within);
    const at::Tensor k = key.index_select(0, perm);
    const at::Tensor cell = u * S + rank;

    // Kept keys below each candidate: one batched binary search over the rows.
    const at::Tensor rowKeys = keys.index_select(0, plan.rows),
                     rowSlots = slots.index_select(0, plan.rows);
    const at::Tensor padded = at::full({ U * S }, kEmptyKey, opt).index_copy_(0, cell, k);
    const at::Tensor below
        = at::searchsorted(rowKeys, padded.view({ U, S })).view({ -1 }).index_select(0, cell);
    const at::Tensor candPos = below + rank;

    // Kept entry s moves down by the candidates inserted at or before it.
    const at::Tensor inserted
        = at::zeros({ U * (S + 1) }, opt).index_add_(0, u * (S + 1) + below, at::ones_like(u));
    const at::Tensor newPos
        = inserted.view({ U, S + 1 }).narrow(1, 0, S).cumsum(1) + at::arange(S, opt).unsqueeze(0);
    const at::Tensor stays = at::nonzero(newPos.lt(S).view({ -1 })).squeeze(1);
    const at::Tensor rowBase = at::arange(U, opt).unsqueeze(1) * S;
    const at::Tensor keptDst = (rowBase + newPos).view({ -1 }).index_select(0, stays);
    plan.keys = at::full({ U * S }, kEmptyKey, opt)
                    .index_copy_(0, keptDst, rowKeys.view({ -1 }).index_select(0, stays));
    plan.slots = at::zeros({ U * S }, opt)
                     .index_copy_(0, keptDst, rowSlots.view({ -1 }).index_select(0, stays));

    // The candidates that enter take the physical slots of the row's last a entries.
    const at::Tensor accepted = at::nonzero(candPos.lt(S)).squeeze(1);
    const at::Tensor au = u.index_select(0, accepted);
    const at::Tensor entering = at::zeros({ U }, opt).index_add_(0, au, at::ones_like(au));
    const at::Tensor freed = rowSlots.view({ -1 }).index_select(
        0, au * S + S - entering.index_select(0, au) + rank.index_select(0, accepted));
    const at::Tensor candDst = au * S + candPos.index_select(0, accepted);
    plan.keys.index_copy_(0, candDst, k.index_select(0, accepted));
    plan.slots.index_copy_(0, candDst, freed);
    plan.keys = plan.keys.view({ U, S });
    plan.slots = plan.slots.view({ U, S });
    plan.candSel = perm.index_select(0, accepted);
    plan.candDst = plan.rows.index_select(0, au) * S + freed;
    return plan;
}

// The firing entries [nnz, 2] (row, feature) of host activations in row-major order, as
// at::nonzero(a > 0) on the counted rows gives them: one parallel scan instead of a mask, a scan
// and a filter.
at::Tensor firingEntriesHost(const at::Tensor &a, const std::vector<uint8_t> &counted)
{
    const int64_t N = a.size(0), F = a.size(1);
    const float *src = a.data_ptr<float>();
    const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(N, 4 * at::get_num_threads()));
    std::vector<std::vector<int64_t>> found(static_cast<size_t>(chunks));
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t ch = begin; ch < end; ++ch) {
            auto &out = found[static_cast<size_t>(ch)];
            for (int64_t r = ch * N / chunks; r < (ch + 1) * N / chunks; ++r) {
                if (!counted[static_cast<size_t>(r)])
                    continue;
                const float *row = src + r * F;
                for (int64_t j = 0; j < F; ++j)
                    if (row[j] > 0) {
                        out.push_back(r);
                        out.push_back(j);
                    }
            }
        }
    });
    size_t total = 0;
    for (const auto &f : found)
        total += f.size();
    at::Tensor nz = at::empty({ static_cast<int64_t>(total / 2), 2 }, kLong);
    int64_t *d = nz.data_ptr<int64_t>();
    for (const auto &f : found) {
        std::copy(f.begin(), f.end(), d);
        d += f.size();
    }
    return nz;
}

// planMerge on host tensors, written as loops (ATen's per-op cost dominates a merge of small
// rows on a CPU): the same plan, the same rows, the same physical slots. It updates the rows
// itself, so the plan it returns has no rows for applyPlan.
MergePlan planMergeHost(
    at::Tensor &keys, at::Tensor &slots, const at::Tensor &group, const at::Tensor &key)
{
    const int64_t F = keys.size(0), S = keys.size(1), c = group.numel();
    const at::Tensor gT = group.contiguous(), kT = key.contiguous();
    const int64_t *g = gT.data_ptr<int64_t>(), *k = kT.data_ptr<int64_t>();
    int64_t *rowsK = keys.data_ptr<int64_t>(), *rowsS = slots.data_ptr<int64_t>();
    // Candidates bucketed by feature (counting sort), each bucket then sorted by key.
    std::vector<int64_t> start(static_cast<size_t>(F + 1), 0), order(static_cast<size_t>(c));
    for (int64_t i = 0; i < c; ++i)
        ++start[static_cast<size_t>(g[i] + 1)];
    for (int64_t j = 0; j < F; ++j)
        start[static_cast<size_t>(j + 1)] += start[static_cast<size_t>(j)];
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < c; ++i)
        order[static_cast<size_t>(fill[static_cast<size_t>(g[i])]++)] = i;
    std::vector<int64_t> sel, dst, newK(static_cast<size_t>(S)), newS(static_cast<size_t>(S)),
        entered;
    for (int64_t j = 0; j < F; ++j) {
        auto b = order.begin() + start[static_cast<size_t>(j)],
             e = order.begin() + start[static_cast<size_t>(j + 1)];
        if (b == e)
            continue;
        std::sort(b, e, [&](int64_t x, int64_t y) { return k[x] < k[y]; });
        const int64_t m = std::min<int64_t>(e - b, S);
        const int64_t *kk = rowsK + j * S, *ss = rowsS + j * S;
        int64_t i = 0, r = 0;
        entered.clear();
        for (int64_t p = 0; p < S; ++p) {
            if (r < m && (i >= S || k[b[r]] < kk[i])) {
                newK[static_cast<size_t>(p)] = k[b[r]];
                entered.push_back(p);
                ++r;
            } else {
                newK[static_cast<size_t>(p)] = kk[i];
                newS[static_cast<size_t>(p)] = ss[i];
                ++i;
            }
        }
        // The r entering candidates take the slots of the row's last r entries, in order.
        for (int64_t q = 0; q < r; ++q) {
            const int64_t slot = ss[S - r + q];
            newS[static_cast<size_t>(entered[static_cast<size_t>(q)])] = slot;
            sel.push_back(b[q]);
            dst.push_back(j * S + slot);
        }
        std::copy(newK.begin(), newK.end(), rowsK + j * S);
        std::copy(newS.begin(), newS.end(), rowsS + j * S);
    }
    MergePlan plan;
    const auto opt = kLong;
    plan.rows = at::empty({ 0 }, opt);
    plan.keys = plan.slots = at::empty({ 0, S }, opt);
    plan.candSel = at::tensor(sel, opt);
    plan.candDst = at::tensor(dst, opt);
    return plan;
}

void applyPlan(at::Tensor &keys, at::Tensor &slots, const MergePlan &plan)
{
    keys.index_copy_(0, plan.rows, plan.keys);
    slots.index_copy_(0, plan.rows, plan.slots);
}

// Writes the entering candidates' payload (`values`: one row per candidate) into `payload`
// ([F, S] or [F, S, W]).
// `entered`: one row per entering candidate, in plan order.
void writeEntered(at::Tensor &payload, const MergePlan &plan, const at::Tensor &entered)
{
    std::vector<int64_t> shape = { payload.size(0) * payload.size(1) };
    for (int64_t d = 2; d < payload.dim(); ++d)
        shape.push_back(payload.size(d));
    payload.view(shape).index_copy_(0, plan.candDst, entered.to(payload.dtype()));
}

void writePayload(at::Tensor &payload, const MergePlan &plan, const at::Tensor &values)
{
    writeEntered(payload, plan, values.index_select(0, plan.candSel));
}

template <typename T> std::vector<T> toVector(const at::Tensor &t)
{
    const at::Tensor h = t.to(at::kCPU).contiguous();
    std::vector<T> v(static_cast<size_t>(h.numel()));
    std::memcpy(v.data(), h.data_ptr(), v.size() * sizeof(T));
    return v;
}

template <typename T>
at::Tensor fromVector(
    const std::vector<T> &v, at::ScalarType type, at::IntArrayRef shape, at::Device device)
{
    return at::from_blob(const_cast<T *>(v.data()), shape, at::TensorOptions().dtype(type))
        .to(device, type, false, true);
}

} // namespace

FeatureAccumulator::FeatureAccumulator(
    int64_t features, int64_t contextLength, AccumulatorOptions options, at::Device device)
    : m_features(features)
    , m_T(contextLength)
    , m_window(std::min(2 * options.windowRadius + 1, contextLength))
    , m_options(options)
    , m_device(device)
    , m_hostKernels(device.is_cpu())
{
    std::vector<int64_t> mix(static_cast<size_t>(features));
    for (int64_t j = 0; j < features; ++j)
        mix[static_cast<size_t>(j)] = static_cast<int64_t>(featureKeyMix(j));
    m_featureMix = fromVector(mix, at::kLong, { features }, device);
    (void)upload(AccumulatorState::empty(features, contextLength, options));
}

int64_t FeatureAccumulator::stateBytes(
    int64_t features, int64_t contextLength, const AccumulatorOptions &options)
{
    const int64_t W = std::min(2 * options.windowRadius + 1, contextLength);
    const int64_t perSlot = 8 + 4 + 4 + 4 + 2 * W;
    return features
        * (8 + 8 + 8 + 4 + 4 * kFineBins + (options.topExamples + options.reservoir) * perSlot);
}

int64_t FeatureAccumulator::batchBytes(int64_t features, int64_t rows)
{
    // The float copy of the activations, the firing mask, and the per-context maxima.
    return rows * features * (4 + 1) + rows * features / 4 * 8;
}

void FeatureAccumulator::add(
    const at::Tensor &activations, int64_t firstContext, const std::vector<uint8_t> &counted)
{
    at::NoGradGuard noGrad;
    const int64_t F = m_features, T = m_T, W = m_window;
    at::Tensor a = activations.to(m_device, at::kFloat);
    if (m_options.useMagnitude)
        a = a.abs();
    a = a.reshape({ -1, F }).contiguous();
    const int64_t N = a.size(0), contexts = N / T;
    const at::Tensor rowCounted
        = at::from_blob(const_cast<uint8_t *>(counted.data()), { N }, at::kByte)
              .to(m_device)
              .to(at::kBool);

    // The firing entries (positive and counted) in row-major order, as the definition reads them.
    const at::Tensor nz = m_hostKernels ? firingEntriesHost(a, counted) : [&] {
        const at::Tensor all = at::nonzero(a.gt(0));
        return all.index_select(
            0, at::nonzero(rowCounted.index_select(0, all.select(1, 0))).squeeze(1));
    }();
    // The state changes from here on: everything of the batch's size is allocated above, so a
    // batch that runs out of device memory leaves the state as it was and can be retried.
    for (uint8_t c : counted)
        m_tokens += c ? 1 : 0;
    if (nz.size(0) == 0)
        return;
    const auto opt = kLong.device(m_device);
    const at::Tensor rows = nz.select(1, 0).contiguous(), cols = nz.select(1, 1).contiguous();
    const at::Tensor flatA = a.view({ -1 });
    const at::Tensor vals = flatA.index_select(0, rows * F + cols);
    const at::Tensor local = at::div(rows, T, "floor"), pos = rows - local * T;

    // Each feature's max in each context and the first position attaining it: one stable sort
    // of the entries by (context, feature, value); within a run of equal keys the entries keep
    // their row order, so the first of the last run is the earliest position of the max.
    const at::Tensor cell = local * F + cols;
    const at::Tensor cellKey = at::bitwise_or(
        at::__lshift__(cell, 31), vals.view(at::kInt).to(at::kLong)); // positive floats
    const auto [sortedKey, order] = at::sort(cellKey, true, 0, false);
    const int64_t nnz = cellKey.numel();
    const at::Tensor sortedCell = at::__rshift__(sortedKey, 31);
    const at::Tensor groupEnd = at::nonzero(
        at::cat({ sortedCell.narrow(0, 1, nnz - 1).ne(sortedCell.narrow(0, 0, nnz - 1)),
            at::ones({ 1 }, sortedCell.options().dtype(at::kBool)) }))
                                    .squeeze(1);
    const at::Tensor best
        = order.index_select(0, at::searchsorted(sortedKey, sortedKey.index_select(0, groupEnd)));
    const at::Tensor bestCell = cell.index_select(0, best), bestValue = vals.index_select(0, best),
                     bestPos = pos.index_select(0, best);

    // Count, sum (fixed point: exact in any order), max.
    const at::Tensor maxBefore = m_max.clone();
    m_count.index_add_(0, cols, at::ones_like(cols));
    m_sum.index_add_(
        0, cols, (vals.to(at::kDouble) * (1 << kSumFractionBits)).round().to(at::kLong));
    m_max = at::maximum(m_max,
        at::zeros({ contexts * F }, a.options())
            .index_copy_(0, bestCell, bestValue)
            .view({ contexts, F })
            .amax(0));

    // Histogram: regroup the features whose power-of-two range grew, then bin the batch.
    const at::Tensor eBefore = exponents(maxBefore), eAfter = exponents(m_max);
    const at::Tensor grown
        = at::nonzero(at::logical_and(eAfter.gt(eBefore), maxBefore.gt(0))).squeeze(1);
    if (grown.numel() > 0) {
        const at::Tensor d
            = (eAfter - eBefore).index_select(0, grown).clamp_max(31).to(at::kLong).unsqueeze(1);
        const at::Tensor target = at::__rshift__(at::arange(kFineBins, opt).unsqueeze(0), d);
        const at::Tensor old = m_fine.index_select(0, grown);
        m_fine.index_copy_(0, grown, at::zeros_like(old).scatter_add_(1, target, old));
    }
    const at::Tensor bins = (vals * scales(eAfter).index_select(0, cols))
                                .floor()
                                .clamp(0, kFineBins - 1)
                                .to(at::kLong);
    m_fine.view({ -1 }).index_add_(
        0, cols * kFineBins + bins, at::ones({ bins.numel() }, opt.dtype(at::kInt)));

    // The window of each (context, feature, max position): activations of counted tokens.
    const at::Tensor offsets = at::arange(W, opt).unsqueeze(0);
    auto windows = [&](const at::Tensor &ctx, const at::Tensor &p, const at::Tensor &j) {
        const at::Tensor start = (p - m_options.windowRadius).clamp(0, T - W);
        const at::Tensor row0 = ctx * T + start;
        if (m_hostKernels) {
            // On the host a loop reads the W values directly (the tensor form below builds an
            // m x W index first, which costs more than the reads).
            const int64_t m = row0.numel();
            at::Tensor out = at::empty({ m, W }, at::TensorOptions().dtype(at::kHalf));
            const int64_t *r0 = row0.data_ptr<int64_t>(), *jj = j.contiguous().data_ptr<int64_t>();
            const float *src = flatA.data_ptr<float>();
            c10::Half *dst = out.data_ptr<c10::Half>();
            at::parallel_for(0, m, 1024, [&](int64_t begin, int64_t end) {
                for (int64_t i = begin; i < end; ++i)
                    for (int64_t t = 0; t < W; ++t) {
                        const int64_t r = r0[i] + t;
                        dst[i * W + t] = c10::Half(
                            counted[static_cast<size_t>(r)] ? src[r * F + jj[i]] : 0.0f);
                    }
            });
            return out;
        }
        const at::Tensor row = (row0.unsqueeze(1) + offsets).reshape({ -1 });
        const at::Tensor v = flatA.index_select(0, row * F + j.repeat_interleave(W));
        return at::where(rowCounted.index_select(0, row), v, at::zeros_like(v))
            .to(at::kHalf)
            .view({ -1, W });
    };

    if (m_options.topExamples > 0) {
        // The contexts that beat the feature's current last kept example.
        at::Tensor j = bestCell.remainder(F), c = at::div(bestCell, F, "floor"), v = bestValue;
        at::Tensor key = at::bitwise_or(
            at::__lshift__(INT32_MAX - v.view(at::kInt).to(at::kLong), 32), c + firstContext);
        const at::Tensor last = m_topKey.select(1, m_options.topExamples - 1).index_select(0, j);
        const at::Tensor keep = at::nonzero(key.lt(last)).squeeze(1);
        j = j.index_select(0, keep);
        c = c.index_select(0, keep);
        v = v.index_select(0, keep);
        key = key.index_select(0, keep);
        const at::Tensor p = bestPos.index_select(0, keep);
        const MergePlan plan = m_hostKernels ? planMergeHost(m_topKey, m_topSlot, j, key)
                                             : planMerge(m_topKey, m_topSlot, j, key);
        applyPlan(m_topKey, m_topSlot, plan);
        writePayload(m_topValue, plan, v);
        writePayload(m_topContext, plan, c + firstContext);
        writePayload(m_topPos, plan, p);
        // Windows only for the candidates that enter.
        writeEntered(m_topWindows, plan,
            windows(c.index_select(0, plan.candSel), p.index_select(0, plan.candSel),
                j.index_select(0, plan.candSel)));
    }

    if (m_options.reservoir > 0) {
        const at::Tensor globalRow = rows + firstContext * T;
        const at::Tensor key = at::bitwise_xor(
            mix64(at::bitwise_xor(at::bitwise_xor(m_featureMix.index_select(0, cols),
                                      static_cast<int64_t>(sampleSeedMix(m_options.seed))),
                globalRow * static_cast<int64_t>(0x9E3779B97F4A7C15ULL))),
            INT64_MIN);
        const at::Tensor last
            = m_sampleKey.select(1, m_options.reservoir - 1).index_select(0, cols);
        const at::Tensor keep = at::nonzero(key.lt(last)).squeeze(1);
        const at::Tensor j = cols.index_select(0, keep), k = key.index_select(0, keep);
        const at::Tensor c = local.index_select(0, keep), p = pos.index_select(0, keep);
        const MergePlan plan = m_hostKernels ? planMergeHost(m_sampleKey, m_sampleSlot, j, k)
                                             : planMerge(m_sampleKey, m_sampleSlot, j, k);
        applyPlan(m_sampleKey, m_sampleSlot, plan);
        writePayload(m_sampleValue, plan, vals.index_select(0, keep));
        writePayload(m_sampleContext, plan, c + firstContext);
        writePayload(m_samplePos, plan, p);
        writeEntered(m_sampleWindows, plan,
            windows(c.index_select(0, plan.candSel), p.index_select(0, plan.candSel),
                j.index_select(0, plan.candSel)));
    }
}

AccumulatorState FeatureAccumulator::download() const
{
    AccumulatorState s = AccumulatorState::empty(0, m_T, m_options);
    s.features = m_features;
    s.tokens = m_tokens;
    s.count = toVector<int64_t>(m_count);
    s.sum = toVector<int64_t>(m_sum);
    s.max = toVector<float>(m_max);
    s.fine = toVector<int32_t>(m_fine);
    // Keys back to their physical slots, where the payload is.
    s.topKeys = toVector<int64_t>(at::empty_like(m_topKey).scatter_(1, m_topSlot, m_topKey));
    s.topValue = toVector<float>(m_topValue);
    s.topContext = toVector<int32_t>(m_topContext);
    s.topPos = toVector<int32_t>(m_topPos);
    s.topWindows = toVector<uint16_t>(m_topWindows);
    s.sampleKeys
        = toVector<int64_t>(at::empty_like(m_sampleKey).scatter_(1, m_sampleSlot, m_sampleKey));
    s.sampleValue = toVector<float>(m_sampleValue);
    s.sampleContext = toVector<int32_t>(m_sampleContext);
    s.samplePos = toVector<int32_t>(m_samplePos);
    s.sampleWindows = toVector<uint16_t>(m_sampleWindows);
    return s;
}

Status FeatureAccumulator::upload(const AccumulatorState &s)
{
    const int64_t F = m_features, K = m_options.topExamples, R = m_options.reservoir, W = m_window;
    // Every array has the size of this accumulator's configuration (checked by arithmetic: an
    // empty state to compare with would cost as much memory as the state itself).
    const auto f = static_cast<size_t>(F), k = f * static_cast<size_t>(K),
               r = f * static_cast<size_t>(R), w = static_cast<size_t>(W);
    const bool sized = s.features == F && s.contextLength == m_T && s.window == W
        && s.count.size() == f && s.sum.size() == f && s.max.size() == f
        && s.fine.size() == f * kFineBins && s.topKeys.size() == k && s.topValue.size() == k
        && s.topContext.size() == k && s.topPos.size() == k && s.topWindows.size() == k * w
        && s.sampleKeys.size() == r && s.sampleValue.size() == r && s.sampleContext.size() == r
        && s.samplePos.size() == r && s.sampleWindows.size() == r * w;
    if (!sized)
        return Error { "index state of a different shape" };
    const at::Device d = m_device;
    m_tokens = s.tokens;
    m_count = fromVector(s.count, at::kLong, { F }, d);
    m_sum = fromVector(s.sum, at::kLong, { F }, d);
    m_max = fromVector(s.max, at::kFloat, { F }, d);
    m_fine = fromVector(s.fine, at::kInt, { F, kFineBins }, d);
    // On the device the keys are kept in order, each with the physical slot of its payload.
    std::tie(m_topKey, m_topSlot)
        = at::sort(fromVector(s.topKeys, at::kLong, { F, K }, d), true, 1, false);
    m_topValue = fromVector(s.topValue, at::kFloat, { F, K }, d);
    m_topContext = fromVector(s.topContext, at::kInt, { F, K }, d);
    m_topPos = fromVector(s.topPos, at::kInt, { F, K }, d);
    m_topWindows = fromVector(s.topWindows, at::kShort, { F, K, W }, d).view(at::kHalf);
    std::tie(m_sampleKey, m_sampleSlot)
        = at::sort(fromVector(s.sampleKeys, at::kLong, { F, R }, d), true, 1, false);
    m_sampleValue = fromVector(s.sampleValue, at::kFloat, { F, R }, d);
    m_sampleContext = fromVector(s.sampleContext, at::kInt, { F, R }, d);
    m_samplePos = fromVector(s.samplePos, at::kInt, { F, R }, d);
    m_sampleWindows = fromVector(s.sampleWindows, at::kShort, { F, R, W }, d).view(at::kHalf);
    return {};
}

Status FeatureAccumulator::restore(const std::string &blob)
{
    AccumulatorState s = AccumulatorState::empty(m_features, m_T, m_options);
    if (auto r = s.restore(blob); !r)
        return r;
    return upload(s);
}

} // namespace fscope::core::index
