#include "core/train/adam.h"

#include <ATen/core/grad_mode.h>

#include <cmath>

namespace fscope::core::train {

Adam::Adam(std::vector<at::Tensor> params, Options options, std::vector<bool> decay)
    : m_params(std::move(params))
    , m_decay(std::move(decay))
    , m_o(options)
{
    m_decay.resize(m_params.size(), false);
    for (const auto &x : m_params) {
        m_m.push_back(at::zeros_like(x));
        m_v.push_back(at::zeros_like(x));
    }
}

void Adam::step(double lr)
{
    at::NoGradGuard guard;
    ++m_t;
    const double c1 = 1 - std::pow(m_o.beta1, double(m_t)),
                 c2 = 1 - std::pow(m_o.beta2, double(m_t));
    for (size_t i = 0; i < m_params.size(); ++i) {
        at::Tensor &p = m_params[i];
        const at::Tensor g = p.grad();
        if (!g.defined())
            continue;
        if (m_decay[i] && m_o.weightDecay > 0)
            p.mul_(1 - lr * m_o.weightDecay);
        m_m[i].mul_(m_o.beta1).add_(g, 1 - m_o.beta1);
        m_v[i].mul_(m_o.beta2).addcmul_(g, g, 1 - m_o.beta2);
        p.sub_(lr * (m_m[i] / c1) / ((m_v[i] / c2).sqrt() + m_o.eps));
        p.mutable_grad().zero_();
    }
}

double clipGradNorm(const std::vector<at::Tensor> &params, double maxNorm)
{
    at::NoGradGuard guard;
    std::vector<at::Tensor> norms;
    for (const auto &p : params)
        if (p.grad().defined())
            norms.push_back(p.grad().norm().to(at::kDouble));
    if (norms.empty())
        return 0;
    const double norm
        = at::stack(norms).norm().item<double>(); // one device sync, not one per tensor
    if (norm > maxNorm)
        for (const auto &p : params)
            if (p.grad().defined())
                p.mutable_grad().mul_(maxNorm / norm);
    return norm;
}

} // namespace fscope::core::train
