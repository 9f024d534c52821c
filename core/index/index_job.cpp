#include "core/index/index_job.h"

#include "core/model/model_locator.h"
#include "core/sae/sae_io.h"
#include "core/store/index_store.h"
#include "core/store/index_writes.h"
#include "core/util/device_memory.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace fscope::core::index {

namespace {

// An SAE found in a release folder is named by its path inside it ("layer_3/width_16k/..."),
// since its own folder name is often the same for every layer ("average_l0_82").
std::string saeLabel(const std::string &path, const std::vector<std::string> &dirs)
{
    for (const auto &dir : dirs) {
        const std::filesystem::path rel = std::filesystem::path(path).lexically_relative(dir);
        if (!rel.empty() && *rel.begin() != ".." && rel != ".")
            return std::filesystem::path(dir).filename().string() + "/" + rel.generic_string();
    }
    return std::filesystem::path(path).filename().string();
}

} // namespace

Result<IndexJobResult> runIndexJob(
    store::Database &db, const IndexRequest &request, jobs::Progress *progress)
{
    if (progress)
        progress->begin(0, "loading the model");
    std::string modelPath;
    FS_TRY(modelPath, model::resolveModelPath(request.model));
    std::unique_ptr<model::Decoder> decoder;
    FS_TRY(decoder, model::Decoder::load(modelPath, { request.device, request.dtype }));
    const std::string device = util::deviceLabel(decoder->device(), decoder->dtype());
    if (progress)
        progress->setDevice(device);
    std::unique_ptr<tokenize::Tokenizer> tokenizer;
    FS_TRY(tokenizer, tokenize::loadTokenizer(modelPath));
    std::string modelFp, tokenizerFp;
    FS_TRY(modelFp, store::fingerprintModel(modelPath));
    FS_TRY(tokenizerFp, store::fingerprintTokenizer(modelPath));

    IndexJobResult result;
    std::vector<sae::Sae> saes;
    if (progress)
        progress->setMessage("loading the SAEs");
    std::vector<std::string> paths = request.saes;
    for (const auto &dir : request.saeDirs) {
        std::vector<std::string> found;
        FS_TRY(found, sae::findSaes(dir));
        paths.insert(paths.end(), found.begin(), found.end());
    }
    if (paths.empty())
        return Error { "no SAE to index: give --sae or --sae-dir" };
    for (const auto &path : paths) {
        sae::LoadSaeOptions lo;
        lo.hookName = request.hook;
        lo.device = decoder->device().str(); // "cuda:1" on rank 1 of a node
        auto s = sae::loadSae(path, lo);
        if (!s)
            return s.error();
        if (auto v = sae::validateSaeForModel(*s, decoder->config()); !v)
            return fileError(path, v.errorMessage());
        saes.push_back(std::move(s).value());
        result.saeLabels.push_back(
            saeLabel(path, request.saeDirs) + " (" + saes.back().config().hookName + ")");
    }

    // The stored corpus is reused when its fingerprint matches (files, tokenizer, spec).
    if (progress)
        progress->setMessage("fingerprinting the corpus");
    std::string corpusFp;
    FS_TRY(corpusFp, store::corpusFingerprint(request.corpus, tokenizerFp));
    std::optional<corpus::Corpus> stored;
    FS_TRY(stored, store::loadCorpus(db, corpusFp));
    corpus::Corpus corpus;
    if (stored) {
        corpus = std::move(*stored);
        result.corpusFromCache = true;
    } else {
        FS_TRY(corpus, corpus::buildCorpus(request.corpus, *tokenizer, tokenizerFp, progress));
    }
    result.contexts = corpus.contexts();

    IndexInputs inputs;
    inputs.decoder = decoder.get();
    inputs.modelFingerprint = modelFp;
    inputs.corpus = &corpus;
    std::string label;
    for (const auto &p : request.corpus.paths)
        label += (label.empty() ? "" : ", ") + std::filesystem::path(p).filename().string();
    inputs.corpusLabel = label + " (" + std::to_string(corpus.tokens()) + " tokens)";
    inputs.corpusSpecJson = nlohmann::json {
        { "paths", request.corpus.paths },
        { "split", request.corpus.split == corpus::Split::Lines ? "lines" : "files" },
        { "field", request.corpus.textField }, { "context_length", request.corpus.contextLength },
        { "token_budget", request.corpus.tokenBudget }, { "seed", request.corpus.seed }
    }.dump();
    for (size_t i = 0; i < saes.size(); ++i)
        inputs.saes.push_back({ &saes[i], result.saeLabels[i] });
    IndexOptions options = request.options;
    if (options.specialTokens.empty())
        options.specialTokens = corpus::specialTokens(*tokenizer);
    FS_TRY(result.outcome, indexCorpus(db, inputs, options, progress));
    // A shard's part records its device too: the merged index keeps shard 0's.
    for (size_t i = 0; i < result.outcome.indexIds.size(); ++i)
        if (result.outcome.computed[i])
            if (auto s = store::setIndexDevice(db, result.outcome.indexIds[i], device); !s)
                return s.error();
    return result;
}

} // namespace fscope::core::index
