#include "tests/support/planted.h"

#include "core/index/index_job.h"
#include "core/model/synthetic_model.h"
#include "core/sae/sae_io.h"
#include "core/store/index_store.h"
#include "core/tokenize/tokenizer.h"
#include "tests/support/testsupport.h"

#include <filesystem>
#include <fstream>

namespace fscope::test {

PlantedSetup writePlantedSetup(
    const std::string &dir, const std::vector<std::string> &words, std::string *error)
{
    using namespace fscope::core;
    PlantedSetup s;
    const std::string modelDir = dir + "/planted-model";
    std::filesystem::create_directories(modelDir);
    for (const char *f : { "vocab.json", "merges.txt" })
        std::filesystem::copy_file(fixture(QString("tokenizers/gpt2/") + f), modelDir + "/" + f,
            std::filesystem::copy_options::overwrite_existing);
    auto tokenizer = tokenize::loadTokenizer(modelDir);
    if (!tokenizer) {
        *error = tokenizer.errorMessage();
        return {};
    }
    for (const auto &w : words) {
        const auto ids = (*tokenizer)->encode(w).ids;
        if (ids.size() != 1) {
            *error = "'" + w + "' is not one GPT-2 token";
            return {};
        }
        s.tokens.push_back(ids[0]);
    }
    const int64_t d = 48, last = d - 1, planted = static_cast<int64_t>(words.size());
    at::manual_seed(5);
    at::Tensor wte = at::randn({ 50257, d }) * 0.02;
    wte.narrow(1, 0, planted).zero_();
    wte.select(1, last).zero_();
    for (int64_t k = 0; k < planted; ++k) {
        wte[s.tokens[static_cast<size_t>(k)]].zero_();
        wte[s.tokens[static_cast<size_t>(k)]][k] = 1.0;
    }
    at::Tensor wpe = at::zeros({ 256, d });
    for (int64_t p = 0; p < 256; ++p)
        wpe[p][last] = 0.01 * double(p);
    if (auto st = model::writeRandomGpt2(modelDir, { 50257, d, 1, 4, 256, 50256 }, 7,
            { { "wte.weight", wte }, { "wpe.weight", wpe } });
        !st) {
        *error = st.errorMessage();
        return {};
    }
    s.features = planted + 4;
    sae::SaeConfig cfg;
    cfg.architecture = sae::Architecture::Relu;
    cfg.dIn = d;
    cfg.dSae = s.features;
    cfg.hookName = "blocks.0.hook_resid_pre";
    cfg.modelName = "planted";
    sae::SaeWeights w;
    w.W_enc = at::zeros({ d, s.features });
    w.b_enc = at::full({ s.features }, -1.0);
    w.W_dec = at::zeros({ s.features, d });
    w.b_dec = at::zeros({ d });
    for (int64_t k = 0; k < planted; ++k) {
        w.W_enc[k][k] = 2.0;
        w.W_enc[last][k] = 1.0;
        w.W_dec[k][k] = 1.0; // through the tied unembedding: the planted token's logit
    }
    const std::string saeDir = dir + "/planted-sae";
    if (auto st = sae::saveSaeLens(sae::Sae(cfg, w), saeDir); !st) {
        *error = st.errorMessage();
        return {};
    }
    s.modelDir = modelDir;
    s.saeDir = saeDir;
    return s;
}

void writePlantedCorpus(
    const std::string &path, const std::vector<std::string> &words, int lines, unsigned seed)
{
    const char *filler[] = { " the", " a", " and", " then", " it", " was", " very", " on", " in",
        " big", " small", " day" };
    std::ofstream out(path);
    unsigned s = seed;
    auto next = [&s] {
        s = s * 1664525u + 1013904223u;
        return s >> 8;
    };
    for (int l = 0; l < lines; ++l) {
        out << "Once";
        const int n = 6 + int(next() % 10);
        for (int i = 0; i < n; ++i)
            out << (next() % 4 == 0 ? words[next() % words.size()]
                                    : std::string(filler[next() % 12]));
        out << ".\n";
    }
}

} // namespace fscope::test

namespace fscope::test {

long long indexPlanted(core::store::Database &db, const PlantedSetup &setup,
    const std::string &corpusPath, std::string *error)
{
    core::index::IndexRequest request;
    request.model = setup.modelDir;
    request.device = "cpu";
    request.saes = { setup.saeDir };
    request.corpus.paths = { corpusPath };
    request.corpus.contextLength = 64;
    request.corpus.tokenBudget = 8192;
    request.options.batchContexts = 8;
    auto result = core::index::runIndexJob(db, request);
    if (!result) {
        if (error)
            *error = result.errorMessage();
        return 0;
    }
    auto indexes = core::store::listIndexes(db);
    if (!indexes || indexes->empty()) {
        if (error)
            *error = "no index after indexing";
        return 0;
    }
    return indexes->front().id;
}

} // namespace fscope::test
