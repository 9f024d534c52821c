#pragma once
// Planted SAE pairs for SAE Match tests: a Gemma Scope-like JumpReLU SAE and its successor, the
// same features permuted with their directions perturbed and thresholds rescaled a little, so a
// match has a known answer (the permutation).

#include "core/match/sae_match.h"
#include "core/sae/sae.h"

#include <ATen/ATen.h>

#include <cmath>
#include <string>
#include <vector>

namespace fscope::test {

inline at::Tensor unitRows(const at::Tensor &x)
{
    return x / x.norm(2, 1, true);
}

// A Gemma Scope-like JumpReLU SAE: unit-norm decoder rows, encoder = decoder^T, thresholds
// carrying each feature's scale.
inline core::sae::Sae jumpRelu(const std::string &hook, const at::Tensor &directions,
    const at::Tensor &theta, const at::Tensor &bDec)
{
    core::sae::SaeConfig cfg;
    cfg.architecture = core::sae::Architecture::JumpRelu;
    cfg.dIn = directions.size(1);
    cfg.dSae = directions.size(0);
    cfg.hookName = hook;
    core::sae::SaeWeights w;
    w.W_dec = directions.contiguous();
    w.W_enc = directions.t().contiguous();
    w.b_enc = at::full({ cfg.dSae }, 0.01);
    w.b_dec = bDec;
    w.threshold = theta;
    return core::sae::Sae(cfg, w);
}

struct Planted {
    core::sae::Sae a, b;
    std::vector<int64_t> truth;
};

// The next layer's SAE: `from`'s features permuted, directions perturbed, thresholds rescaled
// a little, drawn from the current random state.
inline Planted successor(const core::sae::Sae &from, const std::string &hook)
{
    const at::Tensor dirA = from.weights().W_dec, thetaA = from.weights().threshold;
    const int64_t F = dirA.size(0), d = dirA.size(1);
    const at::Tensor perm = at::randperm(F, at::kLong);
    const at::Tensor dirB0 = unitRows(dirA + 0.25 * unitRows(at::randn({ F, d })));
    const at::Tensor thetaB0 = thetaA * at::exp(0.03 * at::randn({ F }));
    at::Tensor dirB = at::empty_like(dirB0), thetaB = at::empty_like(thetaB0);
    dirB.index_copy_(0, perm, dirB0);
    thetaB.index_copy_(0, perm, thetaB0);
    Planted p { from, jumpRelu(hook, dirB, thetaB, at::zeros({ d })), {} };
    p.truth.assign(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + F);
    return p;
}

// B = A's features permuted, directions perturbed, thresholds rescaled a little. The
// directions come from few shared centres, so by direction alone many features look alike;
// their thresholds (spread over an order of magnitude) tell them apart once folded in.
inline Planted plantedPair(int64_t F, int64_t d, uint64_t seed)
{
    at::manual_seed(seed);
    const at::Tensor centres = at::randn({ 4, d });
    const at::Tensor dirA = unitRows(centres.index_select(0, at::randint(4, { F }, at::kLong))
        + 0.35 * at::randn({ F, d }) / std::sqrt(double(d)) * 3);
    const at::Tensor thetaA = at::exp(1.2 * at::randn({ F }));
    return successor(jumpRelu("blocks.0.hook_resid_post", dirA, thetaA, at::zeros({ d })),
        "blocks.1.hook_resid_post");
}

inline double recovered(const core::match::MatchResult &r, const std::vector<int64_t> &truth)
{
    int64_t hits = 0;
    for (const auto &p : r.pairs)
        hits += p.b == truth[p.a];
    return double(hits) / double(truth.size());
}

} // namespace fscope::test
