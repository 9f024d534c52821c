#pragma once
// Trains small SAEs on streamed activations: TopK with the AuxK loss for dead latents
// (Gao et al. 2024, "Scaling and evaluating sparse autoencoders") and JumpReLU with
// straight-through estimators for the threshold and the L0 penalty (Rajamanoharan et al.
// 2024, "Jumping Ahead"). Decoder rows are kept at unit norm (both papers' set-ups), inputs
// are scaled to E||x|| = sqrt(d_in) and the scale is folded back into the saved weights.

#include "core/jobs/progress.h"
#include "core/sae/sae.h"

#include <functional>

namespace fscope::core::sae {

// Yields [batch, d_in] activation batches; an undefined tensor ends the stream.
using ActivationSource = std::function<at::Tensor(int64_t batch)>;

struct TrainOptions {
    Architecture architecture = Architecture::TopK; // TopK or JumpRelu
    int64_t dSae = 0;
    int64_t k = 32; // TopK
    int64_t auxK = 0; // AuxK latents (0: d_in / 2)
    double auxCoefficient = 1.0 / 32;
    int64_t deadAfterTokens
        = 0; // a latent is dead after this many tokens without firing (0: 10 batches)
    double l0Coefficient = 1e-3; // JumpReLU sparsity lambda
    double bandwidth = 1e-3; // JumpReLU STE kernel width epsilon
    double initialThreshold = 1e-3;
    double learningRate = 4e-4;
    int64_t warmupSteps = 100; // linear learning-rate (and lambda) warm-up
    int64_t steps = 1000;
    int64_t batchSize = 256;
    uint64_t seed = 0;
    std::string hookName;
    // Periodic SAELens checkpoints into checkpointDir/step_N (0: none).
    int64_t checkpointEvery = 0;
    std::string checkpointDir;
};

struct TrainReport {
    double finalMse = 0; // normalised units
    double finalL0 = 0;
    int64_t deadLatents = 0;
    int64_t steps = 0;
};

Result<Sae> trainSae(const ActivationSource &source, int64_t dIn, const TrainOptions &options,
    jobs::Progress *progress = nullptr, TrainReport *report = nullptr);

} // namespace fscope::core::sae
