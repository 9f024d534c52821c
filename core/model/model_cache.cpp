#include "core/model/model_cache.h"

#include "core/jobs/progress.h"
#include "core/sae/sae_io.h"
#include "core/util/device_memory.h"

namespace fscope::core::model {

Result<ModelCache::Model> ModelCache::model(const std::string &path, const std::string &device,
    const std::string &dtype, jobs::Progress *progress)
{
    std::lock_guard lock(m_mutex);
    const std::string key = path + "|" + device + "|" + dtype;
    const auto tell = [progress](const Model &m) {
        if (progress)
            progress->setDevice(util::deviceLabel(m.decoder->device(), m.decoder->dtype()));
    };
    if (auto it = m_models.find(key); it != m_models.end()) {
        tell(it->second);
        return it->second;
    }
    auto decoder = Decoder::load(path, { device, dtype });
    if (!decoder)
        return decoder.error();
    auto tokenizer = tokenize::loadTokenizer(path);
    if (!tokenizer)
        return tokenizer.error();
    Model m { std::shared_ptr<Decoder>(std::move(decoder).value()),
        std::shared_ptr<tokenize::Tokenizer>(std::move(tokenizer).value()) };
    m_models[key] = m;
    tell(m);
    return m;
}

Result<std::shared_ptr<sae::Sae>> ModelCache::sae(
    const std::string &path, const std::string &hook, at::Device device)
{
    std::lock_guard lock(m_mutex);
    const std::string key = path + "|" + hook + "|" + device.str();
    if (auto it = m_saes.find(key); it != m_saes.end())
        return it->second;
    sae::LoadSaeOptions o;
    o.hookName = hook;
    o.device = device.str(); // "cuda:1" stays on the model's GPU
    auto s = sae::loadSae(path, o);
    if (!s)
        return s.error();
    auto shared = std::make_shared<sae::Sae>(std::move(s).value());
    m_saes[key] = shared;
    return shared;
}

std::vector<std::string> ModelCache::loadedModels() const
{
    std::lock_guard lock(m_mutex);
    std::vector<std::string> out;
    for (const auto &[key, model] : m_models)
        out.push_back(key);
    return out;
}

int64_t ModelCache::residentBytes() const
{
    std::lock_guard lock(m_mutex);
    int64_t bytes = 0;
    for (const auto &[key, model] : m_models)
        bytes += model.decoder->parameterBytes();
    for (const auto &[key, sae] : m_saes) {
        const sae::SaeWeights &w = sae->weights();
        for (const at::Tensor *t : { &w.W_enc, &w.b_enc, &w.W_dec, &w.b_dec, &w.threshold,
                 &w.b_gate, &w.r_mag, &w.b_mag, &w.W_skip, &w.W_dec_blocks })
            if (t->defined())
                bytes += static_cast<int64_t>(t->nbytes());
    }
    return bytes;
}

void ModelCache::clear()
{
    std::lock_guard lock(m_mutex);
    m_models.clear();
    m_saes.clear();
}

std::vector<std::string> computeDevices()
{
    std::vector<std::string> out = { "cpu" };
    if (at::hasCUDA())
        for (int i = 0; i < int(at::getNumGPUs()); ++i)
            out.push_back("cuda:" + std::to_string(i));
    return out;
}

} // namespace fscope::core::model
