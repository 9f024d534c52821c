#include "core/sae/itda.h"

#include "core/io/atomic_file.h"
#include "core/io/checkpoint.h"
#include "core/io/torch_tensor.h"
#include "core/sae/tensor_set.h"
#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace fs = std::filesystem;
using nlohmann::json;

namespace fscope::core::sae {

namespace {

// err = 1 - cos(x, x_hat) per unit row of `xn`, x_hat its matching pursuit over `atoms`
// (undefined atoms: nothing approximated, err 1).
at::Tensor approximationError(const at::Tensor &xn, const at::Tensor &atoms, int64_t k)
{
    if (!atoms.defined() || atoms.size(0) == 0)
        return at::ones({ xn.size(0) }, xn.options());
    const at::Tensor xhat = at::matmul(matchingPursuit(xn, atoms, k), atoms);
    const at::Tensor norm = xhat.norm(2, -1);
    const at::Tensor cosine = (xn * xhat).sum(-1) / norm.clamp_min(1e-12);
    return 1 - at::where(norm > 0, cosine, at::zeros_like(cosine));
}

} // namespace

Result<ItdaDictionary> buildItda(const std::function<Result<ItdaBatch>()> &next,
    const ItdaOptions &options, jobs::Progress *progress)
{
    if (options.size <= 0 || options.k <= 0)
        return Error { "an ITDA dictionary needs size > 0 and k > 0" };
    const auto started = std::chrono::steady_clock::now();
    ItdaDictionary dict;
    dict.k = options.k;
    dict.lossThreshold = options.lossThreshold;
    std::vector<at::Tensor> parts; // unit rows, appended in order
    at::Tensor atoms;
    int64_t count = 0;
    if (progress)
        progress->begin(options.size, "collecting ITDA atoms");
    auto append = [&](const at::Tensor &rows, const std::vector<int64_t> &which,
                      const std::vector<ItdaOrigin> &origins) {
        if (which.empty())
            return;
        const at::Tensor idx = at::tensor(which, at::kLong).to(rows.device());
        parts.push_back(rows.index_select(0, idx));
        for (int64_t i : which)
            dict.origins.push_back(origins[static_cast<size_t>(i)]);
        atoms = at::cat(parts, 0);
        parts = { atoms };
        count = atoms.size(0);
        if (progress)
            progress->advance(static_cast<int64_t>(which.size()));
    };
    while (count < options.size) {
        if (progress && progress->cancelled())
            return Error { "ITDA build cancelled" };
        ItdaBatch batch;
        FS_TRY(batch, next());
        if (!batch.activations.defined() || batch.activations.size(0) == 0)
            break;
        if (static_cast<int64_t>(batch.origins.size()) != batch.activations.size(0))
            return Error { "an ITDA batch needs one origin per activation row" };
        const at::Tensor x = batch.activations.to(at::kFloat);
        const at::Tensor norm = x.norm(2, -1, true);
        const at::Tensor xn = x / norm.clamp_min(1e-12);
        dict.tokensSeen += x.size(0);
        const at::Tensor err = approximationError(xn, atoms, options.k).to(at::kCPU).contiguous();
        const float *e = err.data_ptr<float>();
        const at::Tensor hostNorm = norm.squeeze(-1).to(at::kCPU).contiguous();
        const float *rowNorm = hostNorm.data_ptr<float>();
        std::vector<int64_t> candidates;
        for (int64_t i = 0; i < err.size(0); ++i)
            if (e[i] > options.lossThreshold && rowNorm[i] > 0) // a zero row has no direction
                candidates.push_back(i);
        std::stable_sort(candidates.begin(), candidates.end(),
            [e](int64_t a, int64_t b) { return e[a] > e[b]; });
        // Greedy within the batch: a candidate that an atom taken from this batch already
        // approximates (one-atom pursuit: err = 1 - |cos|) is not taken again.
        std::vector<int64_t> taken;
        const at::Tensor unit = xn.to(at::kCPU).contiguous();
        at::Tensor takenRows;
        for (int64_t i : candidates) {
            if (count + static_cast<int64_t>(taken.size()) >= options.size)
                break;
            if (takenRows.defined()) {
                const double best = at::matmul(takenRows, unit[i]).abs().max().item<double>();
                if (1 - best <= options.lossThreshold)
                    continue;
            }
            taken.push_back(i);
            takenRows = takenRows.defined() ? at::cat({ takenRows, unit[i].unsqueeze(0) }, 0)
                                            : unit[i].unsqueeze(0);
        }
        std::sort(taken.begin(), taken.end()); // atoms keep the batch's order
        append(xn, taken, batch.origins);
    }
    if (count == 0)
        return Error { "no activations to build an ITDA dictionary from" };
    dict.atoms = atoms.to(at::kCPU).contiguous();
    dict.seconds
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return dict;
}

Result<ItdaDictionary> buildItdaFromModel(const model::Decoder &decoder,
    const std::vector<std::vector<int64_t>> &contexts, const std::string &hook,
    const std::set<int64_t> &specialTokens, const ItdaOptions &options, jobs::Progress *progress)
{
    if (contexts.empty())
        return Error { "no contexts to build an ITDA dictionary from" };
    const int64_t length = static_cast<int64_t>(contexts[0].size());
    const int64_t perForward
        = std::max<int64_t>(1, options.batchTokens / std::max<int64_t>(length, 1));
    size_t nextContext = 0;
    auto next = [&]() -> Result<ItdaBatch> {
        ItdaBatch batch;
        if (nextContext >= contexts.size())
            return batch;
        const size_t end = std::min(contexts.size(), nextContext + static_cast<size_t>(perForward));
        at::Tensor ids = at::empty({ static_cast<int64_t>(end - nextContext), length }, at::kLong);
        for (size_t i = nextContext; i < end; ++i) {
            if (static_cast<int64_t>(contexts[i].size()) != length)
                return Error { "ITDA contexts must share one length" };
            ids[static_cast<int64_t>(i - nextContext)] = at::tensor(contexts[i], at::kLong);
        }
        model::ForwardOptions fo;
        fo.capture = { hook };
        fo.computeLogits = false;
        auto r = decoder.forward({ ids }, fo);
        if (!r)
            return r.error();
        const at::Tensor act = r->activations.at(hook);
        const at::Tensor flat = act.reshape({ act.size(0) * act.size(1), -1 });
        std::vector<int64_t> rows;
        for (size_t i = nextContext; i < end; ++i)
            for (int64_t p = 0; p < length; ++p) {
                const int64_t token = contexts[i][static_cast<size_t>(p)];
                if (specialTokens.count(token))
                    continue; // BOS and padding activations are outliers, never atoms
                rows.push_back(static_cast<int64_t>(i - nextContext) * length + p);
                batch.origins.push_back({ static_cast<int64_t>(i), p, token });
            }
        nextContext = end;
        batch.activations = flat.index_select(0, at::tensor(rows, at::kLong).to(flat.device()));
        return batch;
    };
    at::NoGradGuard noGrad;
    ItdaDictionary dict;
    try {
        FS_TRY(dict, buildItda(next, options, progress));
    } catch (const c10::Error &e) {
        return Error { std::string("ITDA build failed: ") + e.what_without_backtrace() };
    }
    dict.hookName = hook;
    return dict;
}

Status saveItda(const ItdaDictionary &dictionary, const std::string &dir)
{
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        return fileError(dir, "cannot create directory: " + ec.message());
    const int64_t n = dictionary.atoms.size(0);
    at::Tensor origins = at::empty({ n, 3 }, at::kLong);
    auto *o = origins.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
        const ItdaOrigin &src = dictionary.origins[static_cast<size_t>(i)];
        o[3 * i] = src.context;
        o[3 * i + 1] = src.position;
        o[3 * i + 2] = src.token;
    }
    if (auto s = io::writeSafetensors((fs::path(dir) / "itda.safetensors").string(),
            { { "atoms", dictionary.atoms.to(at::kFloat).contiguous() }, { "origins", origins } });
        !s)
        return s;
    const json cfg = { { "architecture", "itda" }, { "version", 1 },
        { "d_model", dictionary.atoms.size(1) }, { "n_atoms", n }, { "k", dictionary.k },
        { "loss_threshold", dictionary.lossThreshold }, { "hook_name", dictionary.hookName },
        { "model_name", dictionary.modelName }, { "tokens_seen", dictionary.tokensSeen },
        { "build_seconds", dictionary.seconds },
        { "corpus_fingerprint", dictionary.corpusFingerprint } };
    const std::string text = cfg.dump(2) + "\n";
    io::AtomicFile file((fs::path(dir) / "cfg.json").string());
    file.write(text.data(), text.size());
    return file.commit();
}

Result<ItdaDictionary> readItda(const std::string &dir)
{
    const std::string cfgFile = (fs::path(dir) / "cfg.json").string();
    json cfg;
    FS_TRY(cfg, readJsonFile(cfgFile));
    TensorSet w;
    FS_TRY(w, readSafetensors((fs::path(dir) / "itda.safetensors").string()));
    const at::Tensor *atoms = w.find("atoms");
    const at::Tensor *origins = w.find("origins");
    if (!atoms || atoms->dim() != 2)
        return fileError(w.file, "missing tensor 'atoms' (has " + w.names() + ")");
    if (!origins || origins->dim() != 2 || origins->size(1) != 3
        || origins->size(0) != atoms->size(0) || origins->scalar_type() != at::kLong)
        return fileError(w.file, "tensor 'origins' must be int64 [n_atoms, 3]");
    ItdaDictionary d;
    try {
        d.k = jsonInt64(cfg.at("k"));
        d.lossThreshold = cfg.value("loss_threshold", 0.0);
        d.hookName = cfg.value("hook_name", std::string());
        d.modelName = cfg.value("model_name", std::string());
        d.tokensSeen = cfg.contains("tokens_seen") ? jsonInt64(cfg["tokens_seen"]) : 0;
        d.seconds = cfg.value("build_seconds", 0.0);
        d.corpusFingerprint = cfg.value("corpus_fingerprint", std::string());
    } catch (const json::exception &e) {
        return fileError(cfgFile, std::string("missing or mistyped key (") + e.what() + ")");
    }
    d.atoms = atoms->to(at::kFloat);
    const at::Tensor o = origins->contiguous();
    const int64_t *p = o.data_ptr<int64_t>();
    for (int64_t i = 0; i < o.size(0); ++i)
        d.origins.push_back({ p[3 * i], p[3 * i + 1], p[3 * i + 2] });
    return d;
}

Result<std::vector<ItdaOrigin>> readItdaOrigins(const std::string &dir)
{
    const std::string file = (fs::path(dir) / "itda.safetensors").string();
    auto c = io::Checkpoint::open(file);
    if (!c)
        return c.error();
    at::Tensor o;
    FS_TRY(o, io::loadTensor(*c, "origins"));
    if (o.dim() != 2 || o.size(1) != 3 || o.scalar_type() != at::kLong)
        return fileError(file, "tensor 'origins' must be int64 [n_atoms, 3]");
    o = o.contiguous();
    const int64_t *p = o.data_ptr<int64_t>();
    std::vector<ItdaOrigin> out;
    for (int64_t i = 0; i < o.size(0); ++i)
        out.push_back({ p[3 * i], p[3 * i + 1], p[3 * i + 2] });
    return out;
}

double itdaJaccard(const ItdaDictionary &a, const ItdaDictionary &b)
{
    return originJaccard(std::set<ItdaOrigin>(a.origins.begin(), a.origins.end()),
        std::set<ItdaOrigin>(b.origins.begin(), b.origins.end()));
}

double originJaccard(const std::set<ItdaOrigin> &a, const std::set<ItdaOrigin> &b)
{
    std::vector<ItdaOrigin> both;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
    const size_t unionSize = a.size() + b.size() - both.size();
    return unionSize == 0 ? 0.0 : double(both.size()) / double(unionSize);
}

} // namespace fscope::core::sae
