#pragma once
// Adam (Kingma & Ba 2015) with optional decoupled weight decay (AdamW, Loshchilov & Hutter
// 2019) on a list of parameters; written out so core needs no torch::optim. Shared by the
// SAE trainer and the demo model's trainer.

#include <ATen/ATen.h>

#include <vector>

namespace fscope::core::train {

class Adam {
public:
    struct Options {
        double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        double weightDecay = 0; // decoupled: p -= lr * wd * p, on the parameters flagged below
    };
    // `decay[i]` says whether weight decay applies to params[i] (empty: none decays).
    Adam(std::vector<at::Tensor> params, Options options, std::vector<bool> decay = {});
    explicit Adam(std::vector<at::Tensor> params)
        : Adam(std::move(params), Options {})
    {
    }

    // One update with learning rate `lr`; zeroes the gradients afterwards.
    void step(double lr);
    int64_t steps() const { return m_t; }

private:
    std::vector<at::Tensor> m_params, m_m, m_v;
    std::vector<bool> m_decay;
    Options m_o;
    int64_t m_t = 0;
};

// Scales every gradient so their global L2 norm is at most maxNorm; returns the norm before.
double clipGradNorm(const std::vector<at::Tensor> &params, double maxNorm);

} // namespace fscope::core::train
