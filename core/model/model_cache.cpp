#include "core/model/model_cache.h"

#include "core/sae/sae_io.h"

namespace fscope::core::model {

Result<ModelCache::Model> ModelCache::model(const std::string &path, const std::string &device)
{
    std::lock_guard lock(m_mutex);
    const std::string key = path + "|" + device;
    if (auto it = m_models.find(key); it != m_models.end())
        return it->second;
    auto decoder = Decoder::load(path, { device, "auto" });
    if (!decoder)
        return decoder.error();
    auto tokenizer = tokenize::loadTokenizer(path);
    if (!tokenizer)
        return tokenizer.error();
    Model m { std::shared_ptr<Decoder>(std::move(decoder).value()),
        std::shared_ptr<tokenize::Tokenizer>(std::move(tokenizer).value()) };
    m_models[key] = m;
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
    o.device = device.is_cuda() ? "cuda" : "cpu";
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
