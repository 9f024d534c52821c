#pragma once
// The decomposition workflow, one call for the CLI's `decompose` and the Decomposition panel:
// the vector (a file, or the CAA vector of prompt pairs at the SAE's hook), the activations
// the activation-based methods read (special tokens excluded), every requested method
// (answered from the workspace when cached) and, optionally, re-steering with each rebuilt
// vector.

#include "core/jobs/progress.h"
#include "core/model/decoder.h"
#include "core/sae/sae.h"
#include "core/steer/decomposition.h"
#include "core/steer/steering_vector.h"
#include "core/store/database.h"
#include "core/tokenize/tokenizer.h"

#include <string>
#include <vector>

namespace fscope::core::steer {

struct DecomposeRequest {
    const sae::Sae *sae = nullptr;
    // The model: needed for pairs, activations and re-steering; may be null otherwise.
    const model::Decoder *decoder = nullptr;
    const tokenize::Tokenizer *tokenizer = nullptr;
    std::string vectorPath; // a steering vector (.npy, .safetensors, ...), or
    std::string pairsPath; // prompt pairs: their CAA vector (and the contrastive method)
    std::string position = "answer"; // where the pairs are read (last, answer, mean)
    at::Tensor contexts; // [N, T] token ids: activations for in-context / norm-matched
    std::vector<DecompositionMethod> methods;
    // Skip the methods whose inputs are missing (the CLI's "all", the panel's checkboxes)
    // instead of failing on them.
    bool skipUnavailable = false;
    DecomposeOptions options; // k, lambda, alpha (activations and pairs are filled here)
    std::string resteerPrompt; // non-empty: re-steer with each rebuilt vector
    std::string target; // optional single token whose log-prob change is reported
    double strength = 1;
};

struct DecomposeRun {
    at::Tensor vector;
    double vectorNorm = 0;
    std::vector<double> normQuantiles; // 5%, 50%, 95% of the activation norms at the hook
    std::vector<Decomposition> results;
    std::vector<bool> cached; // per result: answered from the workspace
    std::vector<ResteerComparison> resteer; // per result, when re-steering was asked for
    bool hasTarget = false;
    int64_t contrastPairs = 0;
    std::vector<DecompositionMethod> skipped;
};

Result<DecomposeRun> runDecomposition(store::Database *workspace, const DecomposeRequest &request,
    jobs::Progress *progress = nullptr);

} // namespace fscope::core::steer
