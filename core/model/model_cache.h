#pragma once
// Loaded models, tokenizers and SAEs shared by every job of the workbench, loaded once per
// path and device: the panels ask here instead of loading their own copies.

#include "core/model/decoder.h"
#include "core/sae/sae.h"
#include "core/tokenize/tokenizer.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace fscope::core::jobs {
class Progress;
}

namespace fscope::core::model {

class ModelCache {
public:
    struct Model {
        std::shared_ptr<Decoder> decoder;
        std::shared_ptr<tokenize::Tokenizer> tokenizer;
    };
    // One resident copy per (path, device, dtype); dtype "auto" is bf16 on a GPU, f32 on a CPU.
    // With a progress, the job is told where it computes (Progress::setDevice: "cuda:0 bf16").
    Result<Model> model(const std::string &path, const std::string &device = "auto",
        const std::string &dtype = "auto", jobs::Progress *progress = nullptr);
    Result<std::shared_ptr<sae::Sae>> sae(
        const std::string &path, const std::string &hook, at::Device device);

    // "path|device" of every resident model (what File > Unload frees).
    std::vector<std::string> loadedModels() const;
    // Bytes of the resident models' and SAEs' weights (what File > Unload frees).
    int64_t residentBytes() const;
    // Drops the cache's references: a model or SAE is freed once no running job holds it.
    void clear();

private:
    mutable std::mutex m_mutex;
    std::map<std::string, Model> m_models;
    std::map<std::string, std::shared_ptr<sae::Sae>> m_saes;
};

// The devices a job can run on: "cpu", then "cuda:N" for every CUDA device LibTorch sees.
std::vector<std::string> computeDevices();

} // namespace fscope::core::model
