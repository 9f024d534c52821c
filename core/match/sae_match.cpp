#include "core/match/sae_match.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <unistd.h>

namespace fscope::core::match {
namespace {

double secondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

at::Tensor unitRows(const at::Tensor &x)
{
    return x / x.norm(2, 1, true).clamp_min(1e-12);
}

// Per-pair quality on the decoders of `a` and `b` (folded ones give the paper's per-feature
// MSE), in double: sets each pair's partner, MSE (mean over d), relative error, cosine and
// good flag, and the result's totals. `aToB[i]` = -1 leaves feature i unpaired.
void scorePairs(const MatchParameters &a, const MatchParameters &b,
    const std::vector<int64_t> &aToB, double goodThreshold, MatchResult &r)
{
    std::vector<int64_t> rowIdx, colIdx;
    for (size_t i = 0; i < aToB.size(); ++i)
        if (aToB[i] >= 0) {
            rowIdx.push_back(int64_t(i));
            colIdx.push_back(aToB[i]);
        }
    r.totalCost = r.meanMse = r.goodShare = 0;
    if (rowIdx.empty())
        return;
    const auto dev = a.decoder.device();
    const at::Tensor ri = at::tensor(rowIdx, at::kLong).to(dev),
                     ci = at::tensor(colIdx, at::kLong).to(dev);
    const at::Tensor x = a.decoder.index_select(0, ri).to(at::kDouble),
                     y = b.decoder.index_select(0, ci).to(at::kDouble);
    const at::Tensor sq = (x - y).pow(2).sum(1);
    const at::Tensor energy = x.pow(2).sum(1) + y.pow(2).sum(1);
    const at::Tensor cosine = (x * y).sum(1) / (x.norm(2, 1) * y.norm(2, 1)).clamp_min(1e-300);
    const at::Tensor rel = sq / energy.clamp_min(1e-300);
    const auto sqH = sq.cpu(), relH = rel.cpu(), cosH = cosine.cpu();
    const double *sqP = sqH.data_ptr<double>(), *relP = relH.data_ptr<double>(),
                 *cosP = cosH.data_ptr<double>();
    const double d = double(a.decoder.size(1));
    int64_t good = 0;
    for (size_t k = 0; k < rowIdx.size(); ++k) {
        auto &p = r.pairs[size_t(rowIdx[k])];
        p.b = colIdx[k];
        p.mse = sqP[k] / d;
        p.relative = relP[k];
        p.cosine = cosP[k];
        p.good = p.relative <= goodThreshold;
        good += p.good;
        r.totalCost += p.mse;
    }
    r.meanMse = r.totalCost / double(rowIdx.size());
    r.goodShare = double(good) / double(rowIdx.size());
}

} // namespace

Result<sae::Sae> foldThresholds(const sae::Sae &s)
{
    if (s.config().architecture != sae::Architecture::JumpRelu)
        return Error { "fold: only JumpReLU SAEs have thresholds to fold (this one is "
            + sae::architectureName(s.config().architecture) + ")" };
    if (s.config().rescaleActsByDecoderNorm)
        return Error { "fold: the SAE rescales activations by the decoder norm; folding thresholds "
                       "would change its output" };
    const auto &w = s.weights();
    const at::Tensor theta = w.threshold;
    if ((theta <= 0).any().item<bool>())
        return Error { "fold: thresholds must be positive (JumpReLU, Gemma Scope eq. 3)" };
    sae::SaeWeights f = w;
    f.W_enc = w.W_enc / theta.unsqueeze(0);
    f.b_enc = w.b_enc / theta;
    f.W_dec = w.W_dec * theta.unsqueeze(1);
    f.threshold = at::ones_like(theta);
    return sae::Sae(s.config(), f);
}

Result<MatchCost> parseMatchCost(const std::string &name)
{
    if (name == "decoder")
        return MatchCost::Decoder;
    if (name == "encoder")
        return MatchCost::Encoder;
    if (name == "all")
        return MatchCost::All;
    if (name == "cosine")
        return MatchCost::Cosine;
    return Error { "unknown match cost '" + name + "' (decoder, encoder, all, cosine)" };
}

std::string matchCostName(MatchCost cost)
{
    switch (cost) {
    case MatchCost::Decoder:
        return "decoder";
    case MatchCost::Encoder:
        return "encoder";
    case MatchCost::All:
        return "all";
    case MatchCost::Cosine:
        return "cosine";
    }
    return "decoder";
}

MatchParameters matchParameters(const sae::Sae &s, bool fold)
{
    const auto &w = s.weights();
    MatchParameters p;
    p.decoder = w.W_dec.to(at::kFloat);
    p.encoder = w.W_enc.to(at::kFloat).t().contiguous();
    p.encoderBias = w.b_enc.to(at::kFloat);
    p.scale = at::ones({ s.config().dSae }, p.decoder.options());
    p.fold = "none";
    if (!fold)
        return p;
    if (s.config().architecture == sae::Architecture::JumpRelu && w.threshold.defined()
        && (w.threshold > 0).all().item<bool>()) {
        p.scale = w.threshold.to(at::kFloat);
        p.fold = "thresholds";
    } else {
        // No thresholds: unit-norm decoder rows (a direction-only comparison).
        p.scale = 1.0 / p.decoder.norm(2, 1).clamp_min(1e-12);
        p.fold = "decoder-norm";
    }
    p.decoder = p.decoder * p.scale.unsqueeze(1);
    p.encoder = p.encoder / p.scale.unsqueeze(1);
    p.encoderBias = p.encoderBias / p.scale;
    return p;
}

std::vector<int64_t> MatchResult::permutation() const
{
    std::vector<int64_t> out(pairs.size(), -1);
    for (const auto &p : pairs)
        out[p.a] = p.b;
    return out;
}

lap::CostRows matchCostRows(const MatchParameters &a, const MatchParameters &b, MatchCost cost)
{
    // Squared distances ||x||^2 + ||y||^2 - 2 x.y per compared block, summed.
    struct Block {
        at::Tensor x, y, xx, yy;
    };
    std::vector<Block> blocks;
    auto add = [&](const at::Tensor &x, const at::Tensor &y) {
        blocks.push_back({ x, y, x.pow(2).sum(1), y.pow(2).sum(1) });
    };
    at::Tensor ua, ub;
    if (cost == MatchCost::Cosine) {
        ua = unitRows(a.decoder);
        ub = unitRows(b.decoder);
    } else {
        if (cost == MatchCost::Decoder || cost == MatchCost::All)
            add(a.decoder, b.decoder);
        if (cost == MatchCost::Encoder || cost == MatchCost::All)
            add(a.encoder, b.encoder);
        if (cost == MatchCost::All)
            add(a.encoderBias.unsqueeze(1), b.encoderBias.unsqueeze(1));
    }
    return [=](int64_t r0, int64_t r1) {
        if (cost == MatchCost::Cosine)
            return (1.0 - at::matmul(ua.slice(0, r0, r1), ub.t())).to(at::kFloat);
        at::Tensor c;
        for (const auto &blk : blocks) {
            at::Tensor d = blk.xx.slice(0, r0, r1).unsqueeze(1) + blk.yy.unsqueeze(0)
                - 2.0 * at::matmul(blk.x.slice(0, r0, r1), blk.y.t());
            c = c.defined() ? c + d : d;
        }
        return c.clamp_min(0).to(at::kFloat); // rounding can leave tiny negatives on identical rows
    };
}

std::vector<float> matchCostMatrix(
    const MatchParameters &a, const MatchParameters &b, MatchCost cost, int64_t blockRows)
{
    const int64_t n = a.decoder.size(0), m = b.decoder.size(0);
    std::vector<float> out(n * m);
    const auto rows = matchCostRows(a, b, cost);
    blockRows = std::max<int64_t>(1, blockRows);
    for (int64_t r0 = 0; r0 < n; r0 += blockRows) {
        const int64_t r1 = std::min(n, r0 + blockRows);
        const at::Tensor host = rows(r0, r1).to(at::kCPU).contiguous();
        std::memcpy(out.data() + r0 * m, host.data_ptr<float>(), sizeof(float) * (r1 - r0) * m);
    }
    return out;
}

Result<MatchWarmStart> parseMatchWarmStart(const std::string &name)
{
    if (name == "auto")
        return MatchWarmStart::Auto;
    if (name == "jv")
        return MatchWarmStart::JonkerVolgenant;
    if (name == "auction")
        return MatchWarmStart::Auction;
    return Error { "unknown warm start '" + name + "' (auto, jv, auction)" };
}

Result<MatchSolver> parseMatchSolver(const std::string &name)
{
    if (name == "auto")
        return MatchSolver::Auto;
    if (name == "dense")
        return MatchSolver::Dense;
    if (name == "priced")
        return MatchSolver::Priced;
    if (name == "approximate")
        return MatchSolver::Approximate;
    return Error { "unknown match solver '" + name + "' (auto, dense, priced, approximate)" };
}

std::string matchSolverName(MatchSolver solver)
{
    switch (solver) {
    case MatchSolver::Auto:
        return "auto";
    case MatchSolver::Dense:
        return "dense";
    case MatchSolver::Priced:
        return "priced";
    case MatchSolver::Approximate:
        return "approximate";
    }
    return "auto";
}

int64_t denseMatchBudget()
{
    const long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || pageSize <= 0)
        return int64_t(8) << 30;
    return std::max<int64_t>(int64_t(2) << 30, int64_t(pages) * int64_t(pageSize) / 2);
}

namespace {

MatchSolver chooseSolver(
    const MatchOptions &options, const at::Device &device, int64_t n, int64_t m)
{
    if (options.solver != MatchSolver::Auto)
        return options.solver;
    if (n != m)
        return MatchSolver::Dense; // the priced solver is square-only
    if (!device.is_cpu() || n * m * int64_t(sizeof(float)) > denseMatchBudget())
        return MatchSolver::Priced;
    return MatchSolver::Dense;
}

} // namespace

Result<MatchResult> matchParametersExact(
    const MatchParameters &a, const MatchParameters &b, const MatchOptions &options)
{
    if (a.decoder.size(1) != b.decoder.size(1))
        return Error { "match: the SAEs read activations of different widths ("
            + std::to_string(a.decoder.size(1)) + " vs " + std::to_string(b.decoder.size(1))
            + ")" };
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t n = a.decoder.size(0), m = b.decoder.size(0);
    MatchResult r;
    r.folded = options.fold;
    r.fold = a.fold == b.fold ? a.fold : a.fold + "/" + b.fold;
    r.cost = options.cost;
    const MatchSolver solver = chooseSolver(options, a.decoder.device(), n, m);
    r.solver = matchSolverName(solver);
    std::vector<int64_t> aToB;
    if (solver == MatchSolver::Dense) {
        std::vector<float> c = matchCostMatrix(a, b, options.cost, options.blockRows);
        r.costSeconds = secondsSince(t0);
        const auto t1 = std::chrono::steady_clock::now();
        auto solved = lap::solveAssignment(c.data(), n, m, { options.initialize });
        if (!solved.ok())
            return solved.error();
        r.solveSeconds = secondsSince(t1);
        r.solverCost = solved->totalCost;
        r.freeRowsAfterInit = solved->freeRowsAfterInit;
        r.initSeconds = solved->initSeconds;
        r.searchSeconds = solved->searchSeconds;
        aToB = std::move(solved->rowToColumn);
    } else {
        if (n != m)
            return Error { "match: the " + r.solver + " solver needs SAEs of equal width ("
                + std::to_string(n) + " vs " + std::to_string(m) + "); use --solver dense" };
        lap::PricedOptions po;
        po.blockRows = options.blockRows;
        po.warmStart = options.warmStart == MatchWarmStart::Auction
            ? lap::PricedOptions::WarmStart::Auction
            : options.warmStart == MatchWarmStart::JonkerVolgenant
            ? lap::PricedOptions::WarmStart::JonkerVolgenant
            : lap::PricedOptions::WarmStart::Auto;
        if (solver == MatchSolver::Approximate)
            po.maxRounds = 0;
        auto solved = lap::solvePricedAssignment(n, matchCostRows(a, b, options.cost), po);
        if (!solved.ok())
            return solved.error();
        if (solver == MatchSolver::Priced && !solved->optimal)
            return Error { "match: the priced solver stopped after "
                + std::to_string(solved->rounds)
                + " pricing passes without proving the optimum (gap "
                + std::to_string(solved->gap()) + ")" };
        // The matrix is computed inside the passes: candidate passes count as cost, the
        // rest as solve.
        r.costSeconds = solved->candidateSeconds;
        r.solveSeconds = solved->solveSeconds + solved->pricingSeconds;
        r.searchSeconds = solved->solveSeconds;
        r.solverCost = solved->assignment.totalCost;
        r.optimal = solved->optimal;
        r.solverGap = solved->optimal ? 0.0 : std::max(0.0, solved->gap());
        r.pricingRounds = solved->rounds;
        r.candidates = solved->candidates;
        r.warmStart = solved->auction ? "auction" : "jv";
        if (solved->auction) {
            r.initSeconds = solved->auctionSeconds;
            r.freeRowsAfterInit = n - solved->seededPairs;
        }
        aToB = std::move(solved->assignment.rowToColumn);
    }

    r.pairs.resize(n);
    for (int64_t i = 0; i < n; ++i)
        r.pairs[i].a = i;
    scorePairs(a, b, aToB, options.goodThreshold, r);
    r.seconds = secondsSince(t0);
    return r;
}

Result<MatchResult> matchSaes(
    const sae::Sae &a, const sae::Sae &b, const MatchOptions &options, jobs::Progress *progress)
{
    // ITDA atoms are data points, not learned directions, and two layers' atoms are different
    // tokens: matching them says nothing; the paper compares them by Jaccard similarity.
    for (const sae::Sae *s : { &a, &b })
        if (s->config().kind == sae::DictionaryKind::Itda)
            return Error { "match: " + s->config().sourcePath
                + " is an ITDA dictionary; compare ITDA dictionaries with itda similarity" };
    if (a.config().dIn != b.config().dIn)
        return Error { "match: " + a.config().sourcePath + " reads "
            + std::to_string(a.config().dIn) + " dimensions but " + b.config().sourcePath
            + " reads " + std::to_string(b.config().dIn) };
    if (progress)
        progress->setMessage("Matching " + a.config().hookName + " to " + b.config().hookName);
    const auto t0 = std::chrono::steady_clock::now();
    MatchParameters pa = matchParameters(a, options.fold), pb = matchParameters(b, options.fold);
    if (pb.decoder.device() != pa.decoder.device()) {
        pb.decoder = pb.decoder.to(pa.decoder.device());
        pb.encoder = pb.encoder.to(pa.decoder.device());
        pb.encoderBias = pb.encoderBias.to(pa.decoder.device());
    }
    // Reported costs are on folded decoders whatever the matching read: match on the chosen
    // parameters, then score the pairs on the folded ones.
    auto r = matchParametersExact(pa, pb, options);
    if (!r.ok() || options.fold)
        return r;
    MatchParameters fa = matchParameters(a, true), fb = matchParameters(b, true);
    fb.decoder = fb.decoder.to(fa.decoder.device());
    MatchResult out = std::move(r).value();
    scorePairs(fa, fb, out.permutation(), options.goodThreshold, out);
    out.seconds = secondsSince(t0);
    return out;
}

std::vector<int64_t> chainLengthHistogram(const std::vector<MatchResult> &links)
{
    const int64_t layers = int64_t(links.size()) + 1;
    std::vector<int64_t> hist(layers, 0);
    if (links.empty())
        return hist;
    // reached[t][f]: feature f of layer t is the end of a good link from layer t-1.
    std::vector<std::vector<char>> reached(layers);
    for (int64_t t = 0; t < layers; ++t) {
        const int64_t width = t < int64_t(links.size()) ? int64_t(links[t].pairs.size()) : 0;
        reached[t].assign(std::max<int64_t>(width, 0), 0);
    }
    // The last layer's width comes from the last link's B side.
    int64_t lastWidth = 0;
    for (const auto &p : links.back().pairs)
        lastWidth = std::max(lastWidth, p.b + 1);
    reached[layers - 1].assign(lastWidth, 0);
    for (int64_t t = 0; t + 1 < layers; ++t)
        for (const auto &p : links[t].pairs)
            if (p.good && p.b >= 0 && p.b < int64_t(reached[t + 1].size()))
                reached[t + 1][p.b] = 1;
    for (int64_t t = 0; t < layers; ++t) {
        for (int64_t f = 0; f < int64_t(reached[t].size()); ++f) {
            if (reached[t][f])
                continue; // inside a chain that started earlier
            int64_t len = 1, cur = f;
            for (int64_t s = t; s + 1 < layers; ++s) {
                if (cur >= int64_t(links[s].pairs.size()))
                    break;
                const auto &p = links[s].pairs[cur];
                if (!p.good || p.b < 0)
                    break;
                cur = p.b;
                ++len;
            }
            ++hist[len - 1];
        }
    }
    return hist;
}

std::vector<ChainStep> featureChain(const std::vector<MatchResult> &links, int64_t layer,
    int64_t feature, std::vector<double> *linkMse, std::vector<bool> *linkGood)
{
    const int64_t layers = int64_t(links.size()) + 1;
    std::vector<ChainStep> chain(layers);
    if (linkMse)
        linkMse->assign(links.size(), std::nan(""));
    if (linkGood)
        linkGood->assign(links.size(), false);
    for (int64_t t = 0; t < layers; ++t)
        chain[t].layer = t;
    if (layer < 0 || layer >= layers)
        return chain;
    chain[layer].feature = feature;
    for (int64_t t = layer; t + 1 < layers; ++t) { // forwards
        const int64_t f = chain[t].feature;
        if (f < 0 || f >= int64_t(links[t].pairs.size()))
            break;
        const auto &p = links[t].pairs[f];
        chain[t + 1].feature = p.b;
        if (linkMse)
            (*linkMse)[t] = p.mse;
        if (linkGood)
            (*linkGood)[t] = p.good;
    }
    for (int64_t t = layer - 1; t >= 0; --t) { // backwards through the inverse permutation
        const int64_t target = chain[t + 1].feature;
        if (target < 0)
            break;
        for (const auto &p : links[t].pairs)
            if (p.b == target) {
                chain[t].feature = p.a;
                if (linkMse)
                    (*linkMse)[t] = p.mse;
                if (linkGood)
                    (*linkGood)[t] = p.good;
                break;
            }
        if (chain[t].feature < 0)
            break;
    }
    return chain;
}

std::vector<int64_t> composePermutations(
    const std::vector<int64_t> &aToB, const std::vector<int64_t> &bToC)
{
    std::vector<int64_t> out(aToB.size(), -1);
    for (size_t i = 0; i < aToB.size(); ++i)
        if (aToB[i] >= 0 && aToB[i] < int64_t(bToC.size()))
            out[i] = bToC[aToB[i]];
    return out;
}

PlantedPair plantedMatchPair(
    int64_t F, int64_t d, bool clustered, double noise, double unrelated, uint64_t seed)
{
    auto gen = at::detail::createCPUGenerator(seed);
    auto normal = [&](std::vector<int64_t> shape) {
        return at::normal(0.0, 1.0, shape, gen, at::TensorOptions().dtype(at::kFloat));
    };
    at::Tensor base = normal({ F, d });
    if (clustered) {
        const int64_t k = std::max<int64_t>(1, F / 8);
        const at::Tensor centres = normal({ k, d });
        const at::Tensor which = at::randint(k, { F }, gen, at::TensorOptions().dtype(at::kLong));
        base = std::sqrt(0.6) * centres.index_select(0, which) + std::sqrt(0.4) * base;
    }
    const at::Tensor dirA = unitRows(base);
    const at::Tensor scaleA = at::exp(0.5 * normal({ F })) + 0.5;
    const at::Tensor perm = at::randperm(F, gen, at::TensorOptions().dtype(at::kLong));
    at::Tensor dirB = unitRows(dirA + noise * unitRows(normal({ F, d })));
    at::Tensor scaleB = scaleA * at::exp(0.05 * normal({ F }));
    const at::Tensor isUnrelated
        = at::rand({ F }, gen, at::TensorOptions().dtype(at::kFloat)) < unrelated;
    dirB = at::where(isUnrelated.unsqueeze(1), unitRows(normal({ F, d })), dirB);
    scaleB = at::where(isUnrelated, at::exp(0.5 * normal({ F })) + 0.5, scaleB);
    // Row i of A sits at row perm[i] of B.
    at::Tensor bDec = at::empty({ F, d }, at::kFloat);
    at::Tensor bScale = at::empty({ F }, at::kFloat);
    bDec.index_copy_(0, perm, dirB * scaleB.unsqueeze(1));
    bScale.index_copy_(0, perm, scaleB);
    auto params = [&](const at::Tensor &dec, const at::Tensor &scale) {
        MatchParameters p;
        p.decoder = dec.contiguous();
        p.encoder = (unitRows(dec) / scale.unsqueeze(1)).contiguous();
        p.encoderBias = at::zeros({ F }, at::kFloat);
        p.scale = scale;
        p.fold = "thresholds";
        return p;
    };
    PlantedPair out { params(dirA * scaleA.unsqueeze(1), scaleA), params(bDec, bScale), {} };
    const auto permH = perm.contiguous();
    out.truth.assign(permH.data_ptr<int64_t>(), permH.data_ptr<int64_t>() + F);
    return out;
}

std::string matchResultToJson(const MatchResult &r, bool withPairs)
{
    nlohmann::json j;
    j["folded"] = r.folded;
    j["fold"] = r.fold;
    j["cost"] = matchCostName(r.cost);
    j["total_cost"] = r.totalCost;
    j["mean_mse"] = r.meanMse;
    j["good_share"] = r.goodShare;
    j["solver_cost"] = r.solverCost;
    j["seconds"] = r.seconds;
    j["cost_seconds"] = r.costSeconds;
    j["solve_seconds"] = r.solveSeconds;
    j["free_rows_after_init"] = r.freeRowsAfterInit;
    j["solver"] = r.solver;
    if (!r.warmStart.empty())
        j["warm_start"] = r.warmStart;
    j["optimal"] = r.optimal;
    j["solver_gap"] = r.solverGap;
    j["pricing_rounds"] = r.pricingRounds;
    j["features"] = r.pairs.size();
    if (withPairs) {
        auto pairs = nlohmann::json::array(), mse = nlohmann::json::array(),
             cosine = nlohmann::json::array(), good = nlohmann::json::array();
        for (const auto &p : r.pairs) {
            pairs.push_back({ p.a, p.b });
            mse.push_back(p.mse);
            cosine.push_back(p.cosine);
            good.push_back(p.good ? 1 : 0);
        }
        j["pairs"] = std::move(pairs);
        j["pair_mse"] = std::move(mse);
        j["pair_cosine"] = std::move(cosine);
        j["pair_good"] = std::move(good);
    }
    return j.dump();
}

Result<MatchResult> matchResultFromJson(const std::string &text)
{
    try {
        const auto j = nlohmann::json::parse(text);
        MatchResult r;
        r.folded = j.at("folded").get<bool>();
        r.fold = j.value("fold", "");
        auto cost = parseMatchCost(j.value("cost", "decoder"));
        if (!cost.ok())
            return cost.error();
        r.cost = *cost;
        r.totalCost = j.at("total_cost").get<double>();
        r.meanMse = j.value("mean_mse", 0.0);
        r.goodShare = j.value("good_share", 0.0);
        r.solverCost = j.value("solver_cost", 0.0);
        r.seconds = j.value("seconds", 0.0);
        r.costSeconds = j.value("cost_seconds", 0.0);
        r.solveSeconds = j.value("solve_seconds", 0.0);
        r.freeRowsAfterInit = j.value("free_rows_after_init", int64_t(0));
        r.solver = j.value("solver", "dense");
        r.warmStart = j.value("warm_start", "");
        r.optimal = j.value("optimal", true);
        r.solverGap = j.value("solver_gap", 0.0);
        r.pricingRounds = j.value("pricing_rounds", 0);
        const auto &pairs = j.at("pairs");
        const auto &mse = j.at("pair_mse");
        const auto &cosine = j.at("pair_cosine");
        const auto &good = j.at("pair_good");
        r.pairs.resize(pairs.size());
        for (size_t k = 0; k < pairs.size(); ++k) {
            auto &p = r.pairs[k];
            p.a = pairs[k][0].get<int64_t>();
            p.b = pairs[k][1].get<int64_t>();
            p.mse = mse[k].get<double>();
            p.cosine = cosine[k].get<double>();
            p.good = good[k].get<int>() != 0;
        }
        return r;
    } catch (const std::exception &e) {
        return Error { std::string("match result: ") + e.what() };
    }
}

} // namespace fscope::core::match
