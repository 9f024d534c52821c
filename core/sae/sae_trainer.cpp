#include "core/sae/sae_trainer.h"

#include "core/sae/sae_io.h"
#include "core/train/adam.h"

#include <ATen/core/grad_mode.h>
#include <cmath>

namespace fscope::core::sae {

namespace {

// Rectangle kernel K(u) = 1[|u| < 1/2] of the JumpReLU paper's pseudo-derivatives.
at::Tensor rectangle(const at::Tensor &u)
{
    return (u.abs() < 0.5).to(u.scalar_type());
}

} // namespace

Result<Sae> trainLoop(const ActivationSource &source, int64_t dIn, const TrainOptions &o,
    jobs::Progress *progress, TrainReport *report);

Result<Sae> trainSae(const ActivationSource &source, int64_t dIn, const TrainOptions &o,
    jobs::Progress *progress, TrainReport *report)
{
    // The stream and LibTorch report failures by exceptions; they become error values here.
    try {
        return trainLoop(source, dIn, o, progress, report);
    } catch (const c10::Error &e) {
        return Error { std::string("training failed: ") + e.what_without_backtrace() };
    } catch (const std::exception &e) {
        return Error { std::string("training failed: ") + e.what() };
    }
}

Result<Sae> trainLoop(const ActivationSource &source, int64_t dIn, const TrainOptions &o,
    jobs::Progress *progress, TrainReport *report)
{
    if (o.architecture != Architecture::TopK && o.architecture != Architecture::JumpRelu)
        return Error { "training supports TopK and JumpReLU SAEs" };
    if (o.dSae <= 0 || dIn <= 0 || o.batchSize <= 0 || o.steps <= 0)
        return Error { "training needs positive d_in, d_sae, batch size and steps" };
    if (o.architecture == Architecture::TopK && (o.k <= 0 || o.k > o.dSae))
        return Error { "TopK training needs 0 < k <= d_sae" };
    at::manual_seed(static_cast<int64_t>(o.seed));

    // Scale so that E||x|| = sqrt(d_in), estimated on the first batch.
    at::Tensor first = source(o.batchSize);
    if (!first.defined() || first.dim() != 2 || first.size(1) != dIn)
        return Error { "the activation stream yielded no [batch, d_in] tensor" };
    first = first.to(at::kFloat);
    const double scale = std::sqrt(double(dIn)) / first.norm(2, 1).mean().item<double>();
    const at::Device device = first.device();
    const auto opts = at::TensorOptions().dtype(at::kFloat).device(device);

    // Decoder rows random unit vectors, encoder its transpose, b_dec the data mean.
    at::Tensor W_dec = at::randn({ o.dSae, dIn }, opts);
    W_dec = W_dec / W_dec.norm(2, 1, true);
    at::Tensor W_enc = W_dec.t().clone();
    at::Tensor b_enc = at::zeros({ o.dSae }, opts);
    at::Tensor b_dec = (first * scale).mean(0);
    at::Tensor logThreshold = at::full({ o.dSae }, std::log(o.initialThreshold), opts);
    std::vector<at::Tensor> params = { W_enc, b_enc, W_dec, b_dec };
    if (o.architecture == Architecture::JumpRelu)
        params.push_back(logThreshold);
    for (auto &p : params)
        p.requires_grad_(true);
    train::Adam adam(params);

    const int64_t auxK = o.auxK > 0 ? o.auxK : std::max<int64_t>(1, dIn / 2);
    const int64_t deadAfter = o.deadAfterTokens > 0 ? o.deadAfterTokens : 10 * o.batchSize;
    at::Tensor tokensSinceFired
        = at::zeros({ o.dSae }, at::TensorOptions().dtype(at::kLong).device(device));
    if (progress)
        progress->begin(o.steps, "Training " + architectureName(o.architecture) + " SAE");

    TrainReport r;
    at::Tensor batch = first;
    for (int64_t step = 0; step < o.steps; ++step) {
        if (progress && progress->cancelled())
            return Error { "training cancelled" };
        if (step > 0) {
            batch = source(o.batchSize);
            if (!batch.defined())
                break;
        }
        const at::Tensor x = batch.to(device, at::kFloat) * scale;
        const double warm
            = std::min(1.0, double(step + 1) / double(std::max<int64_t>(1, o.warmupSteps)));
        const at::Tensor pre = at::matmul(x - params[3], params[0]) + params[1];
        at::Tensor f, loss;
        if (o.architecture == Architecture::TopK) {
            const auto [values, indices] = pre.topk(o.k, -1);
            f = at::zeros_like(pre).scatter(-1, indices, at::relu(values));
            const at::Tensor xhat = at::matmul(f, params[2]) + params[3];
            const at::Tensor err = x - xhat;
            loss = err.pow(2).sum(-1).mean();
            // AuxK: the top auxK dead latents model the residual error (Gao et al., section 2.4).
            const at::Tensor dead = tokensSinceFired >= deadAfter;
            const int64_t nDead = dead.sum().item<int64_t>();
            if (nDead > 0) {
                const int64_t kk = std::min(auxK, nDead);
                const at::Tensor deadPre = pre.masked_fill(dead.logical_not(), -1e30);
                const auto [dv, di] = deadPre.topk(kk, -1);
                const at::Tensor fa = at::zeros_like(pre).scatter(-1, di, at::relu(dv));
                const at::Tensor errHat = at::matmul(fa, params[2]);
                const at::Tensor aux = (err.detach() - errHat).pow(2).sum(-1).mean()
                    / (err.detach().pow(2).sum(-1).mean() + 1e-12);
                loss = loss + o.auxCoefficient * aux;
            }
        } else {
            // JumpReLU(z) = z H(z - theta); pseudo-derivative wrt theta: -(theta/eps) K((z -
            // theta)/eps), and of H(z - theta) wrt theta: -(1/eps) K((z - theta)/eps)
            // (Rajamanoharan et al., eq. 11-12).
            const at::Tensor theta = params[4].exp();
            const at::Tensor gate = (pre > theta).to(pre.scalar_type()).detach();
            const at::Tensor kernel = rectangle((pre - theta) / o.bandwidth).detach();
            const at::Tensor thetaDelta = theta - theta.detach(); // zero value, unit gradient
            f = at::relu(pre) * gate + thetaDelta * (-(theta.detach() / o.bandwidth) * kernel);
            const at::Tensor l0 = gate + thetaDelta * (-(1.0 / o.bandwidth) * kernel);
            const at::Tensor xhat = at::matmul(f, params[2]) + params[3];
            loss = (x - xhat).pow(2).sum(-1).mean() + o.l0Coefficient * warm * l0.sum(-1).mean();
        }
        loss.backward();
        {
            // Unit-norm decoder rows: drop the gradient component along each row, step,
            // renormalise (Gao et al.; Bricken et al. 2023).
            at::NoGradGuard guard;
            at::Tensor g = params[2].mutable_grad();
            if (g.defined())
                g.sub_((g * params[2]).sum(1, true) * params[2]);
        }
        adam.step(o.learningRate * warm);
        {
            at::NoGradGuard guard;
            params[2].div_(params[2].norm(2, 1, true).clamp_min(1e-8));
            const at::Tensor fired = (f.detach() != 0).any(0);
            tokensSinceFired
                = at::where(fired, at::zeros_like(tokensSinceFired), tokensSinceFired + x.size(0));
            r.finalL0 = (f.detach() != 0).sum(-1).to(at::kDouble).mean().item<double>();
            r.finalMse = loss.item<double>();
        }
        r.steps = step + 1;
        if (progress)
            progress->advance();
        if (o.checkpointEvery > 0 && !o.checkpointDir.empty()
            && (step + 1) % o.checkpointEvery == 0) {
            // Checkpoints use the same folding as the final SAE.
            SaeConfig c;
            c.architecture = o.architecture;
            c.dIn = dIn;
            c.dSae = o.dSae;
            c.k = o.k;
            c.hookName = o.hookName;
            at::NoGradGuard guard;
            SaeWeights w;
            w.W_enc = params[0].detach() * scale;
            w.b_enc = params[1].detach().clone();
            w.W_dec = params[2].detach() / scale;
            w.b_dec = params[3].detach() / scale;
            if (o.architecture == Architecture::JumpRelu)
                w.threshold = params[4].detach().exp();
            (void)saveSaeLens(Sae(c, w), o.checkpointDir + "/step_" + std::to_string(step + 1));
        }
    }
    r.deadLatents = (tokensSinceFired >= deadAfter).sum().item<int64_t>();
    if (report)
        *report = r;

    // Fold the input scale s into the weights: the SAE then reads raw activations
    // (x' = s x: W_enc s, b_dec / s, W_dec / s, as SAELens folds expected_average_only_in).
    at::NoGradGuard guard;
    SaeConfig c;
    c.architecture = o.architecture;
    c.dIn = dIn;
    c.dSae = o.dSae;
    c.k = o.architecture == Architecture::TopK ? o.k : 0;
    c.hookName = o.hookName;
    c.sourceFormat = "featurescope";
    SaeWeights w;
    w.W_enc = (params[0].detach() * scale).contiguous();
    w.b_enc = params[1].detach().clone();
    w.W_dec = (params[2].detach() / scale).contiguous();
    w.b_dec = params[3].detach() / scale;
    if (o.architecture == Architecture::JumpRelu)
        w.threshold = params[4].detach().exp();
    return Sae(c, w);
}

} // namespace fscope::core::sae
