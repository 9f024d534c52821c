#include "core/steer/steering_vector.h"

#include "core/io/npz_tensor.h"
#include "core/io/safetensors_file.h"
#include "core/io/torch_tensor.h"
#include "core/metrics/metrics.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace fscope::core::steer {

Result<ReadPosition> parseReadPosition(const std::string &name)
{
    if (name == "last")
        return ReadPosition::Last;
    if (name == "answer")
        return ReadPosition::Answer;
    if (name == "mean")
        return ReadPosition::CompletionMean;
    return Error { "unknown read position '" + name + "' (last, answer, mean)" };
}

Result<CaaVector> buildCaaVector(const model::Decoder &decoder,
    const tokenize::Tokenizer &tokenizer, const std::vector<ContrastPair> &pairs,
    const std::string &hook, ReadPosition position)
{
    if (pairs.empty())
        return Error { "CAA: no prompt pairs" };
    // The prompt and the completion are tokenized apart and joined, so the completion's first
    // token (the answer token) sits at a known index whatever the tokenizer merges.
    auto read
        = [&](const std::string &prompt, const std::string &completion) -> Result<at::Tensor> {
        std::vector<int64_t> ids
            = tokenizer.encodeForModel(prompt, tokenizer.bosId().has_value()).ids;
        const int64_t start = int64_t(ids.size());
        const auto comp = tokenizer.encode(completion).ids;
        if (comp.empty())
            return Error { "CAA: the completion '" + completion + "' has no tokens" };
        ids.insert(ids.end(), comp.begin(), comp.end());
        model::ForwardOptions o;
        o.capture = { hook };
        o.computeLogits = false;
        model::ForwardResult r;
        FS_TRY(r,
            decoder.forward(
                model::ForwardInputs(at::tensor(ids, at::kLong).unsqueeze(0).to(decoder.device())),
                o));
        const at::Tensor a = r.activations.at(hook)[0].to(at::kCPU, at::kFloat); // [T, d]
        switch (position) {
        case ReadPosition::Last:
            return a[int64_t(ids.size()) - 1];
        case ReadPosition::Answer:
            return a[start];
        case ReadPosition::CompletionMean:
            return a.slice(0, start).mean(0);
        }
        return a[int64_t(ids.size()) - 1];
    };
    std::vector<at::Tensor> pos, neg;
    for (const auto &p : pairs) {
        at::Tensor x;
        FS_TRY(x, read(p.prompt, p.positive));
        pos.push_back(x);
        FS_TRY(x, read(p.prompt, p.negative));
        neg.push_back(x);
    }
    CaaVector out;
    out.positives = at::stack(pos);
    out.negatives = at::stack(neg);
    out.vector = (out.positives - out.negatives).mean(0);
    return out;
}

Result<at::Tensor> loadSteeringVector(const std::string &path)
{
    at::Tensor t;
    const bool npy = path.size() >= 4 && path.substr(path.size() - 4) == ".npy";
    if (npy) {
        FS_TRY(t, io::loadNpy(path));
    } else {
        io::SafetensorsFile file;
        FS_TRY(file, io::SafetensorsFile::open(path));
        const io::TensorEntry *entry = nullptr;
        for (const char *name : { "vector", "steering_vector" })
            if (!entry)
                entry = file.find(name);
        if (!entry && file.tensors().size() == 1)
            entry = &file.tensors()[0];
        if (!entry)
            return fileError(
                path, "holds several tensors and none is named \"vector\" or \"steering_vector\"");
        FS_TRY(t, io::tensorFromFile(file, *entry));
    }
    if (t.dim() == 2 && t.size(0) == 1)
        t = t[0];
    if (t.dim() != 1)
        return fileError(path,
            "a steering vector must be [d] or [1, d], not " + std::to_string(t.dim())
                + "-dimensional");
    if (!at::isFloatingType(t.scalar_type()))
        return fileError(path, "the vector is not floating point");
    t = t.to(at::kFloat).contiguous();
    if (!at::isfinite(t).all().item<bool>())
        return fileError(path, "the vector holds NaN or Inf");
    return t;
}

Status saveSteeringVector(const std::string &path, const at::Tensor &vector)
{
    const at::Tensor v = vector.to(at::kCPU, at::kFloat).contiguous();
    if (path.size() >= 4 && path.substr(path.size() - 4) == ".npy")
        return io::writeNpy(path, v);
    return io::writeSafetensors(path, { { "vector", v } });
}

Result<at::Tensor> hookActivations(const model::Decoder &decoder, const at::Tensor &contexts,
    const std::string &hook, const std::set<int64_t> &specialTokens)
{
    model::ForwardOptions o;
    o.capture = { hook };
    o.computeLogits = false;
    std::vector<at::Tensor> rows;
    const at::Tensor ids = contexts.to(decoder.device(), at::kLong);
    for (int64_t b0 = 0; b0 < ids.size(0); b0 += 8) {
        model::ForwardResult r;
        const at::Tensor batch = ids.slice(0, b0, std::min(ids.size(0), b0 + 8));
        FS_TRY(r, decoder.forward(model::ForwardInputs(batch), o));
        const at::Tensor a = r.activations.at(hook);
        const at::Tensor counted = metrics::countedTokens(batch, specialTokens);
        rows.push_back(
            a.reshape({ a.size(0), a.size(1), -1 }).index({ counted }).to(at::kCPU, at::kFloat));
    }
    return at::cat(rows);
}

Result<ResteerComparison> compareResteer(const model::Decoder &decoder, const std::string &hook,
    const std::vector<int64_t> &prompt, const at::Tensor &original, const at::Tensor &rebuilt,
    double strength, int64_t target)
{
    const at::Tensor ids = at::tensor(prompt, at::kLong).unsqueeze(0).to(decoder.device());
    auto run = [&](const at::Tensor &vec) -> Result<at::Tensor> {
        model::ForwardOptions o;
        if (vec.defined()) {
            const at::Tensor add = (vec.to(at::kFloat) * strength).to(decoder.device());
            o.interventions.emplace(hook, [add](const at::Tensor &act, const model::HookContext &) {
                return act + add.to(act.scalar_type());
            });
        }
        model::ForwardResult r;
        FS_TRY(r, decoder.forward(model::ForwardInputs(ids), o));
        return at::log_softmax(r.logits[0].to(at::kFloat), -1);
    };
    at::Tensor base, lv, lr;
    FS_TRY(base, run({}));
    FS_TRY(lv, run(original));
    FS_TRY(lr, run(rebuilt));
    auto kl = [](const at::Tensor &p, const at::Tensor &q) {
        return metrics::klDivergence(p, q).mean().item<double>();
    };
    ResteerComparison c;
    c.klRebuiltVsOriginal = kl(lr, lv);
    c.klOriginalVsBase = kl(lv, base);
    c.klRebuiltVsBase = kl(lr, base);
    if (target >= 0) {
        const int64_t last = int64_t(prompt.size()) - 1;
        c.targetDeltaOriginal = (lv[last][target] - base[last][target]).item<double>();
        c.targetDeltaRebuilt = (lr[last][target] - base[last][target]).item<double>();
    }
    return c;
}

} // namespace fscope::core::steer
