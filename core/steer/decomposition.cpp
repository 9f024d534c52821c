#include "core/steer/decomposition.h"

#include "core/metrics/metrics.h"
#include "core/store/fingerprint.h"
#include "core/store/result_cache.h"
#include "core/store/sha256.h"
#include "core/util/device_memory.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace fscope::core::steer {
namespace {

struct Dictionary {
    at::Tensor D; // [F, d] float64 decoder rows
    at::Tensor norms; // [F]
    at::Tensor U; // unit rows
};

Dictionary dictionary(const sae::Sae &sae)
{
    Dictionary d;
    d.D = sae.weights().W_dec.to(at::kDouble);
    d.norms = d.D.norm(2, 1).clamp_min(1e-12);
    d.U = d.D / d.norms.unsqueeze(1);
    return d;
}

at::Tensor encodeOne(const sae::Sae &sae, const at::Tensor &x)
{
    return sae.encode(x.to(sae.device(), sae.dtype()).reshape({ -1, sae.config().dIn }))
        .to(at::kDouble);
}

// Largest eigenvalue of U^T U (= sigma_max(U)^2) by power iteration: FISTA's step size.
double lipschitz(const at::Tensor &U)
{
    at::Tensor x = at::ones({ U.size(1) }, U.options());
    double lambda = 1;
    for (int i = 0; i < 50; ++i) {
        const at::Tensor y = at::matmul(U.t(), at::matmul(U, x));
        lambda = y.norm().item<double>() / std::max(1e-300, x.norm().item<double>());
        x = y / y.norm().clamp_min(1e-300);
    }
    return lambda * 1.01;
}

// min 1/2 ||v - c U||^2 (+ lambda ||c||_1) with c >= 0 when `nonNegative`, FISTA (Beck &
// Teboulle 2009) from `start`.
at::Tensor fista(const at::Tensor &U, const at::Tensor &v, double L, double lambda,
    bool nonNegative, int64_t iterations, at::Tensor start)
{
    at::Tensor c = start.defined() ? start.clone() : at::zeros({ U.size(0) }, U.options());
    at::Tensor y = c.clone();
    double t = 1;
    for (int64_t it = 0; it < iterations; ++it) {
        const at::Tensor grad = at::matmul(U, at::matmul(y, U) - v);
        at::Tensor next = y - grad / L;
        if (lambda > 0)
            next = at::sign(next) * at::clamp_min(next.abs() - lambda / L, 0);
        if (nonNegative)
            next = at::clamp_min(next, 0);
        const double tn = (1 + std::sqrt(1 + 4 * t * t)) / 2;
        y = next + ((t - 1) / tn) * (next - c);
        c = next;
        t = tn;
    }
    return c;
}

// Curves from the top-k terms by |c_j| ||d_j||.
void topKCurves(
    const Dictionary &dict, const at::Tensor &c, const at::Tensor &v, int64_t K, Decomposition &out)
{
    const at::Tensor weight = (c.abs() * dict.norms);
    const int64_t nonzero = (weight > 0).sum().item<int64_t>();
    K = std::min<int64_t>(K, nonzero);
    if (K <= 0)
        return;
    const at::Tensor idx = std::get<1>(weight.topk(K));
    const at::Tensor partial
        = (c.index_select(0, idx).unsqueeze(1) * dict.D.index_select(0, idx)).cumsum(0);
    for (int64_t k = 0; k < K; ++k) {
        out.fveCurve.push_back(metrics::fractionOfVarianceExplained(v, partial[k]));
        out.cosineCurve.push_back(metrics::cosineSimilarity(v, partial[k]));
    }
}

} // namespace

Result<DecompositionMethod> parseDecompositionMethod(const std::string &name)
{
    for (DecompositionMethod m : allDecompositionMethods())
        if (decompositionMethodName(m) == name)
            return m;
    std::string names;
    for (DecompositionMethod m : allDecompositionMethods())
        names += (names.empty() ? "" : ", ") + decompositionMethodName(m);
    return Error { "unknown decomposition method '" + name + "' (" + names + ")" };
}

std::string decompositionMethodName(DecompositionMethod m)
{
    switch (m) {
    case DecompositionMethod::Encode:
        return "encode";
    case DecompositionMethod::EncodeMinusZero:
        return "encode-minus-zero";
    case DecompositionMethod::EncoderProjection:
        return "encoder-projection";
    case DecompositionMethod::DecoderCosine:
        return "decoder-cosine";
    case DecompositionMethod::NormMatched:
        return "norm-matched";
    case DecompositionMethod::InContext:
        return "in-context";
    case DecompositionMethod::Contrastive:
        return "contrastive";
    case DecompositionMethod::MatchingPursuit:
        return "mp";
    case DecompositionMethod::OrthogonalMatchingPursuit:
        return "omp";
    case DecompositionMethod::Nnls:
        return "nnls";
    case DecompositionMethod::NnlsSigned:
        return "nnls-signed";
    case DecompositionMethod::Lasso:
        return "lasso";
    }
    return "encode";
}

std::vector<DecompositionMethod> allDecompositionMethods()
{
    using M = DecompositionMethod;
    return { M::Encode, M::EncodeMinusZero, M::EncoderProjection, M::DecoderCosine, M::NormMatched,
        M::InContext, M::Contrastive, M::MatchingPursuit, M::OrthogonalMatchingPursuit, M::Nnls,
        M::NnlsSigned, M::Lasso };
}

bool needsActivations(DecompositionMethod m)
{
    return m == DecompositionMethod::NormMatched || m == DecompositionMethod::InContext
        || m == DecompositionMethod::Contrastive;
}

at::Tensor rebuildVector(const sae::Sae &sae, const Decomposition &d, int64_t k)
{
    const at::Tensor D = sae.weights().W_dec.to(at::kCPU, at::kDouble);
    at::Tensor vhat = at::zeros({ D.size(1) }, at::kDouble);
    for (int64_t i = 0; i < std::min<int64_t>(k, int64_t(d.top.size())); ++i)
        vhat += d.top[i].second * D[d.top[i].first];
    return vhat;
}

Result<Decomposition> decompose(const sae::Sae &sae, const at::Tensor &vector,
    DecompositionMethod method, const DecomposeOptions &o)
{
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t dIn = sae.config().dIn;
    if (vector.numel() != dIn)
        return Error { "decompose: the vector has " + std::to_string(vector.numel())
            + " entries but the SAE reads " + std::to_string(dIn) + " dimensions" };
    if (!at::isfinite(vector).all().item<bool>())
        return Error { "decompose: the vector holds NaN or Inf" };
    const Dictionary dict = dictionary(sae);
    const at::Tensor v = vector.reshape({ dIn }).to(dict.D.device(), at::kDouble);
    const int64_t F = dict.D.size(0);
    Decomposition out;
    out.method = method;
    at::Tensor c; // decoder units
    bool pursuitCurves = false;
    auto requireActivations = [&](const at::Tensor &t, const char *what) -> Status {
        if (!t.defined() || t.numel() == 0 || t.size(-1) != dIn)
            return Error { std::string("decompose: ") + decompositionMethodName(method) + " needs "
                + what };
        return {};
    };
    switch (method) {
    case DecompositionMethod::Encode:
    case DecompositionMethod::EncodeMinusZero: {
        const at::Tensor zero = at::zeros({ dIn }, v.options());
        const at::Tensor fv = encodeOne(sae, v)[0], f0 = encodeOne(sae, zero)[0];
        out.zeroCode = f0.cpu();
        const auto [normalized, state]
            = sae.normalizeInput(zero.to(sae.device(), sae.dtype()).unsqueeze(0));
        (void)state;
        out.biasShare = sae.preActivations(normalized)[0].to(at::kCPU, at::kDouble);
        c = method == DecompositionMethod::Encode ? fv : fv - f0;
        break;
    }
    case DecompositionMethod::EncoderProjection:
        c = at::matmul(v, sae.weights().W_enc.to(at::kDouble));
        break;
    case DecompositionMethod::DecoderCosine:
        c = at::matmul(dict.D, v) / dict.norms.pow(2);
        break;
    case DecompositionMethod::NormMatched: {
        if (auto s = requireActivations(
                o.activations, "activations at the SAE's hook (for the median norm)");
            !s)
            return s.error();
        const double median = o.activations.to(at::kDouble).norm(2, -1).median().item<double>();
        const double vn = v.norm().item<double>();
        if (vn <= 0)
            return Error { "decompose: the vector is zero" };
        const double s = median / vn;
        c = encodeOne(sae, v * s)[0] / s; // reported per unit of v
        break;
    }
    case DecompositionMethod::InContext: {
        if (auto s = requireActivations(o.activations, "activations at the SAE's hook"); !s)
            return s.error();
        const at::Tensor X = o.activations.to(sae.device(), at::kDouble).reshape({ -1, dIn });
        const at::Tensor vv = v.to(X.device());
        c = ((encodeOne(sae, X + o.alpha * vv) - encodeOne(sae, X)).mean(0) / o.alpha)
                .to(dict.D.device());
        break;
    }
    case DecompositionMethod::Contrastive: {
        if (auto s = requireActivations(o.positives, "the pairs' positive activations"); !s)
            return s.error();
        if (auto s = requireActivations(o.negatives, "the pairs' negative activations"); !s)
            return s.error();
        c = (encodeOne(sae, o.positives).mean(0) - encodeOne(sae, o.negatives).mean(0))
                .to(dict.D.device());
        break;
    }
    case DecompositionMethod::MatchingPursuit: {
        // Signed MP (ITDA's mp_encode): atoms may be chosen again.
        at::Tensor cu = at::zeros({ F }, v.options()), r = v.clone();
        for (int64_t step = 0; step < o.k; ++step) {
            const at::Tensor g = at::matmul(dict.U, r);
            const int64_t j = g.abs().argmax().item<int64_t>();
            const double gj = g[j].item<double>();
            if (gj == 0)
                break;
            cu[j] += gj;
            r -= gj * dict.U[j];
            out.fveCurve.push_back(metrics::fractionOfVarianceExplained(v, v - r));
            out.cosineCurve.push_back(metrics::cosineSimilarity(v, v - r));
        }
        c = cu / dict.norms;
        pursuitCurves = true;
        break;
    }
    case DecompositionMethod::OrthogonalMatchingPursuit: {
        // OMP: the next atom by |correlation| with the residual, then least squares on the
        // whole support, so the residual is orthogonal to every chosen atom.
        std::vector<int64_t> support;
        at::Tensor r = v.clone(), coef;
        at::Tensor used = at::zeros({ F }, at::TensorOptions().dtype(at::kBool).device(v.device()));
        for (int64_t step = 0; step < std::min<int64_t>(o.k, std::min<int64_t>(F, dIn)); ++step) {
            at::Tensor g = at::matmul(dict.U, r).abs().masked_fill(used, -1);
            const int64_t j = g.argmax().item<int64_t>();
            if (g[j].item<double>() <= 1e-14 * std::max(1.0, v.norm().item<double>()))
                break;
            support.push_back(j);
            used[j] = true;
            const at::Tensor idx = at::tensor(support, at::kLong).to(v.device());
            const at::Tensor A = dict.U.index_select(0, idx).t(); // [d, s]
            coef = std::get<0>(at::linalg_lstsq(A, v.unsqueeze(1))).squeeze(1);
            r = v - at::matmul(A, coef);
            out.fveCurve.push_back(metrics::fractionOfVarianceExplained(v, v - r));
            out.cosineCurve.push_back(metrics::cosineSimilarity(v, v - r));
        }
        at::Tensor cu = at::zeros({ F }, v.options());
        if (!support.empty())
            cu.index_copy_(0, at::tensor(support, at::kLong).to(v.device()), coef);
        c = cu / dict.norms;
        pursuitCurves = true;
        break;
    }
    case DecompositionMethod::Nnls:
    case DecompositionMethod::NnlsSigned: {
        const double L = lipschitz(dict.U);
        c = fista(dict.U, v, L, 0, method == DecompositionMethod::Nnls, o.iterations, {})
            / dict.norms;
        break;
    }
    case DecompositionMethod::Lasso: {
        const double L = lipschitz(dict.U);
        const double lambdaMax = at::matmul(dict.U, v).abs().max().item<double>();
        std::vector<double> fractions = { 0.5, 0.2, 0.1, 0.05, 0.02, 0.01 };
        if (std::find(fractions.begin(), fractions.end(), o.lassoLambda) == fractions.end())
            fractions.push_back(o.lassoLambda);
        std::sort(fractions.begin(), fractions.end(), std::greater<>());
        at::Tensor warm;
        for (double fraction : fractions) { // warm starts down the path
            warm = fista(dict.U, v, L, fraction * lambdaMax, false, o.iterations, warm);
            const at::Tensor cd = warm / dict.norms;
            out.lassoSweep.push_back({ fraction, (cd != 0).sum().item<int64_t>(),
                metrics::fractionOfVarianceExplained(v, at::matmul(warm, dict.U)) });
            if (fraction == o.lassoLambda)
                c = cd;
        }
        break;
    }
    }
    c = c.to(at::kCPU, at::kDouble).contiguous();
    out.coefficients = c;
    const at::Tensor Dc = dict.D.to(at::kCPU), vc = v.to(at::kCPU);
    const at::Tensor vhat = at::matmul(c, Dc);
    out.fve = metrics::fractionOfVarianceExplained(vc, vhat);
    out.cosine = metrics::cosineSimilarity(vc, vhat);
    Dictionary cpuDict { Dc, dict.norms.to(at::kCPU), {} };
    if (!pursuitCurves)
        topKCurves(cpuDict, c, vc, o.curveK, out);
    const at::Tensor weight = c.abs() * cpuDict.norms;
    const int64_t nonzero = (weight > 1e-12).sum().item<int64_t>();
    const at::Tensor order = std::get<1>(weight.topk(std::min<int64_t>(nonzero, F)));
    const double *cp = c.data_ptr<double>();
    for (int64_t i = 0; i < order.size(0); ++i) {
        const int64_t j = order[i].item<int64_t>();
        out.top.emplace_back(j, cp[j]);
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

std::string decompositionToJson(const Decomposition &d, int64_t limit)
{
    nlohmann::json coefficients = nlohmann::json::array();
    for (size_t i = 0; i < d.top.size() && (limit <= 0 || int64_t(i) < limit); ++i)
        coefficients.push_back({ d.top[i].first, d.top[i].second });
    nlohmann::json j = { { "method", decompositionMethodName(d.method) },
        { "coefficients", coefficients }, { "nonzero", d.top.size() }, { "cosine", d.cosine },
        { "fve", d.fve }, { "fve_curve", d.fveCurve }, { "cosine_curve", d.cosineCurve },
        { "seconds", d.seconds } };
    if (d.zeroCode.defined()) {
        // f(0): the features the encoder bias alone turns on (paper Table 1's right column).
        nlohmann::json zero = nlohmann::json::array();
        const at::Tensor z = d.zeroCode.to(at::kDouble);
        const int64_t n = std::min<int64_t>(20, (z != 0).sum().item<int64_t>());
        if (n > 0) {
            const auto [vals, idx] = z.abs().topk(n);
            for (int64_t i = 0; i < n; ++i)
                zero.push_back(
                    { idx[i].item<int64_t>(), z[idx[i].item<int64_t>()].item<double>() });
        }
        j["zero_code"] = zero;
        nlohmann::json bias = nlohmann::json::array();
        for (size_t i = 0; i < d.top.size() && i < 20; ++i)
            bias.push_back({ d.top[i].first, d.biasShare[d.top[i].first].item<double>() });
        j["bias_share"] = bias; // pre-activation at v = 0 of the top features
    }
    if (!d.lassoSweep.empty()) {
        nlohmann::json sweep = nlohmann::json::array();
        for (const auto &p : d.lassoSweep)
            sweep.push_back({ { "lambda_fraction", p.lambda }, { "l0", p.l0 }, { "fve", p.fve } });
        j["lasso_sweep"] = sweep;
    }
    return j.dump();
}

namespace {

std::vector<double> toVector(const at::Tensor &t)
{
    const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::string tensorHash(const at::Tensor &t)
{
    if (!t.defined())
        return "-";
    const at::Tensor c = t.to(at::kCPU, at::kFloat).contiguous();
    std::string shape;
    for (auto s : c.sizes())
        shape += std::to_string(s) + "x";
    return shape
        + store::sha256Hex(
            std::string_view(static_cast<const char *>(c.data_ptr()), size_t(c.numel()) * 4));
}

} // namespace

std::string decompositionToFullJson(const Decomposition &d)
{
    nlohmann::json j = nlohmann::json::parse(decompositionToJson(d));
    j["features"] = d.coefficients.numel();
    if (d.zeroCode.defined())
        j["zero_code_all"] = toVector(d.zeroCode);
    if (d.biasShare.defined())
        j["bias_share_all"] = toVector(d.biasShare);
    return j.dump();
}

Result<Decomposition> decompositionFromJson(const std::string &text)
{
    try {
        const auto j = nlohmann::json::parse(text);
        Decomposition d;
        FS_TRY(d.method, parseDecompositionMethod(j.at("method").get<std::string>()));
        const int64_t F = j.at("features").get<int64_t>();
        d.coefficients = at::zeros({ F }, at::kDouble);
        for (const auto &c : j.at("coefficients")) {
            const int64_t f = c[0].get<int64_t>();
            const double v = c[1].get<double>();
            if (f < 0 || f >= F)
                return Error { "decomposition: feature " + std::to_string(f) + " out of range" };
            d.coefficients[f] = v;
            d.top.emplace_back(f, v);
        }
        d.cosine = j.at("cosine").get<double>();
        d.fve = j.at("fve").get<double>();
        d.fveCurve = j.at("fve_curve").get<std::vector<double>>();
        d.cosineCurve = j.at("cosine_curve").get<std::vector<double>>();
        d.seconds = j.value("seconds", 0.0);
        if (j.contains("zero_code_all"))
            d.zeroCode = at::tensor(j.at("zero_code_all").get<std::vector<double>>(), at::kDouble);
        if (j.contains("bias_share_all"))
            d.biasShare
                = at::tensor(j.at("bias_share_all").get<std::vector<double>>(), at::kDouble);
        if (j.contains("lasso_sweep"))
            for (const auto &p : j.at("lasso_sweep"))
                d.lassoSweep.push_back({ p.at("lambda_fraction").get<double>(),
                    p.at("l0").get<int64_t>(), p.at("fve").get<double>() });
        return d;
    } catch (const std::exception &e) {
        return Error { std::string("decomposition: ") + e.what() };
    }
}

Result<Decomposition> decomposeCached(store::Database *workspace, const sae::Sae &sae,
    const std::string &saeFingerprint, const at::Tensor &vector, DecompositionMethod method,
    const DecomposeOptions &o, bool *cached)
{
    if (cached)
        *cached = false;
    if (!workspace)
        return decompose(sae, vector, method, o);
    const bool acts
        = method == DecompositionMethod::InContext || method == DecompositionMethod::NormMatched;
    const bool pairs = method == DecompositionMethod::Contrastive;
    const std::string key = store::combineFingerprints({ "decompose-v1", saeFingerprint,
        tensorHash(vector), decompositionMethodName(method),
        std::to_string(o.k) + "|" + std::to_string(o.curveK) + "|" + std::to_string(o.iterations)
            + "|" + std::to_string(o.lassoLambda) + "|" + std::to_string(o.alpha),
        acts ? tensorHash(o.activations) : "-",
        pairs ? tensorHash(o.positives) + tensorHash(o.negatives) : "-" });
    std::optional<std::string> hit;
    FS_TRY(hit, store::cachedResult(*workspace, key));
    if (hit) {
        auto d = decompositionFromJson(*hit);
        if (d.ok()) {
            if (cached)
                *cached = true;
            return d;
        }
    }
    Decomposition d;
    FS_TRY(d, decompose(sae, vector, method, o));
    if (auto s = store::storeResult(*workspace, key, "decompose", decompositionToFullJson(d),
            util::deviceLabel(sae.device(), at::kFloat));
        !s)
        return s.error();
    return d;
}

} // namespace fscope::core::steer
