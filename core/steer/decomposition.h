#pragma once
// Decomposing a steering vector v into SAE features, side by side (Mayne, Yang & Mahdi 2024,
// "Can sparse autoencoders be used to decompose and interpret steering vectors?", arXiv
// 2411.08790; reference/steering.md 1.6 and 2). Every method returns signed coefficients in
// decoder units (c_j such that v_hat = sum_j c_j W_dec[j]), so each is scored the same way:
// rebuild v from its top-k terms and report cosine and FVE = 1 - ||v - v_hat||^2 / ||v||^2.
//
//   encode            f(v): the naive SAE encoding (shown next to f(0), paper Table 1)
//   encode-minus-zero f(v) - f(0)
//   encoder-projection  v . W_enc[:, j] (pre(v) - pre(0): no bias, no nonlinearity)
//   decoder-cosine    ranks by cos(v, d_j); coefficient = the projection <v, d_j> / ||d_j||^2
//   norm-matched      f(s v) with ||s v|| = the median activation norm at the hook
//   in-context        E_x[f(x + alpha v) - f(x)] over real activations x
//   contrastive       E f(x+) - E f(x-) over the pairs' activations
//   mp / omp          signed (orthogonal) matching pursuit on the unit-normalised decoder
//   nnls / nnls-signed  least squares with c >= 0 on D (what a non-negative code can
//                     express) and on [D; -D] (signed), by projected FISTA
//   lasso             min 1/2 ||v - c D||^2 + lambda ||c||_1 by FISTA, with a lambda sweep

#include "core/sae/sae.h"
#include "core/store/database.h"

#include <string>
#include <vector>

namespace fscope::core::steer {

enum class DecompositionMethod {
    Encode,
    EncodeMinusZero,
    EncoderProjection,
    DecoderCosine,
    NormMatched,
    InContext,
    Contrastive,
    MatchingPursuit,
    OrthogonalMatchingPursuit,
    Nnls,
    NnlsSigned,
    Lasso
};
Result<DecompositionMethod> parseDecompositionMethod(const std::string &name);
std::string decompositionMethodName(DecompositionMethod method);
std::vector<DecompositionMethod> allDecompositionMethods();
// Methods that need activations (in-context, norm-matched) or pairs (contrastive).
bool needsActivations(DecompositionMethod method);

struct DecomposeOptions {
    int64_t k = 32; // atoms for MP / OMP (at most 64 in the UI)
    int64_t curveK = 64; // points of the FVE / cosine curves
    int64_t iterations = 400; // FISTA iterations (NNLS, lasso)
    double lassoLambda = 0.05; // as a fraction of lambda_max = max_j |<v, d_j>|
    double alpha = 1.0; // in-context strength
    at::Tensor activations; // [N, d] activations at the SAE's hook (in-context, norm-matched)
    at::Tensor positives, negatives; // [P, d] activations of the contrastive pairs
};

struct LassoPoint {
    double lambda = 0;
    int64_t l0 = 0;
    double fve = 0;
};

struct Decomposition {
    DecompositionMethod method = DecompositionMethod::Encode;
    at::Tensor coefficients; // [F] float64 on the CPU, decoder units
    std::vector<std::pair<int64_t, double>>
        top; // non-zero coefficients by |c_j| ||d_j||, largest first
    double cosine = 0, fve = 0; // of v_hat = c . W_dec with every coefficient
    std::vector<double> fveCurve, cosineCurve; // k = 1..: pursuits by step, others by top-k terms
    at::Tensor zeroCode; // encode: f(0), the bias-only code the paper compares with
    at::Tensor biasShare; // encode: per feature, b_enc[j] - b_dec . W_enc[:, j] (the part of
                          // pre(v) that does not depend on v)
    std::vector<LassoPoint> lassoSweep;
    double seconds = 0;
};

Result<Decomposition> decompose(const sae::Sae &sae, const at::Tensor &vector,
    DecompositionMethod method, const DecomposeOptions &options = {});

// v rebuilt from the top-k terms of a decomposition.
at::Tensor rebuildVector(const sae::Sae &sae, const Decomposition &d, int64_t k);

// JSON in the `decompose --json` shape: method, coefficients [[feature, value], ...], cosine,
// fve, curves, ...; `limit` caps the coefficient list (0 = all non-zero).
std::string decompositionToJson(const Decomposition &d, int64_t limit = 0);
// Every field (all non-zero coefficients, f(0) and the bias share for all features), and back:
// the workspace cache's form.
std::string decompositionToFullJson(const Decomposition &d);
Result<Decomposition> decompositionFromJson(const std::string &json);

// decompose(), answered from `workspace` when it holds the identical request (SAE fingerprint,
// vector, method, options and the activations the method reads), then stored there. A null
// workspace just runs it. `cached` says where the answer came from.
Result<Decomposition> decomposeCached(store::Database *workspace, const sae::Sae &sae,
    const std::string &saeFingerprint, const at::Tensor &vector, DecompositionMethod method,
    const DecomposeOptions &options, bool *cached = nullptr);

} // namespace fscope::core::steer
