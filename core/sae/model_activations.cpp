#include "core/sae/model_activations.h"

#include <ATen/CPUGeneratorImpl.h>

#include <memory>
#include <stdexcept>

namespace fscope::core::sae {

ActivationSource activationsFromModel(const model::Decoder &decoder,
    const std::vector<std::vector<int64_t>> &contexts, const ActivationStreamOptions &options)
{
    struct State {
        at::Tensor buffer; // [n, d_in], shuffled
        int64_t served = 0;
        size_t next = 0; // next context
        at::Generator generator;
    };
    auto state = std::make_shared<State>();
    state->generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);

    auto refill = [&decoder, &contexts, options, state]() -> bool {
        std::vector<at::Tensor> parts;
        int64_t collected = 0;
        while (collected < options.bufferTokens && !contexts.empty()) {
            // A batch of consecutive contexts (equal lengths are not required: one at a time
            // when they differ).
            std::vector<std::vector<int64_t>> batch;
            while (static_cast<int64_t>(batch.size()) < options.contextsPerForward
                && (batch.empty() || contexts[state->next].size() == batch[0].size())) {
                batch.push_back(contexts[state->next]);
                state->next = (state->next + 1) % contexts.size();
            }
            at::Tensor ids = at::empty(
                { static_cast<int64_t>(batch.size()), static_cast<int64_t>(batch[0].size()) },
                at::kLong);
            for (size_t i = 0; i < batch.size(); ++i)
                ids[static_cast<int64_t>(i)] = at::tensor(batch[i]);
            model::ForwardOptions fo;
            fo.capture = { options.hookName };
            fo.computeLogits = false; // stop after the hook's layer
            auto r = decoder.forward({ ids }, fo);
            if (!r) // surfaces through trainSae as an error value
                throw std::runtime_error("activation stream: " + r.errorMessage());
            at::Tensor act = r->activations.at(options.hookName);
            act = act.reshape({ act.size(0), act.size(1), -1 }).to(at::kCPU, at::kFloat);
            at::Tensor keep = at::ones_like(ids, at::kBool);
            for (int64_t t : options.specialTokens)
                keep = keep.logical_and(ids != t);
            const at::Tensor kept = act.index({ keep });
            collected += kept.size(0);
            parts.push_back(kept);
        }
        if (parts.empty())
            return false;
        const at::Tensor all = at::cat(parts, 0);
        state->buffer = all.index_select(0, at::randperm(all.size(0), state->generator));
        state->served = 0;
        return true;
    };

    return [state, refill](int64_t n) -> at::Tensor {
        if (!state->buffer.defined() || state->served + n > state->buffer.size(0)) {
            if (!refill() || state->buffer.size(0) < n)
                return at::Tensor();
        }
        const at::Tensor out = state->buffer.narrow(0, state->served, n);
        state->served += n;
        return out;
    };
}

} // namespace fscope::core::sae
