#include "core/index/index_job.h"

#include "core/model/model_locator.h"
#include "core/sae/sae_io.h"
#include "core/store/index_store.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace fscope::core::index {

Result<IndexJobResult> runIndexJob(
    store::Database &db, const IndexRequest &request, jobs::Progress *progress)
{
    if (progress)
        progress->begin(0, "loading the model");
    std::string modelPath;
    FS_TRY(modelPath, model::resolveModelPath(request.model));
    std::unique_ptr<model::Decoder> decoder;
    FS_TRY(decoder, model::Decoder::load(modelPath, { request.device, request.dtype }));
    std::unique_ptr<tokenize::Tokenizer> tokenizer;
    FS_TRY(tokenizer, tokenize::loadTokenizer(modelPath));
    std::string modelFp, tokenizerFp;
    FS_TRY(modelFp, store::fingerprintModel(modelPath));
    FS_TRY(tokenizerFp, store::fingerprintTokenizer(modelPath));

    IndexJobResult result;
    std::vector<sae::Sae> saes;
    if (progress)
        progress->setMessage("loading the SAEs");
    for (const auto &path : request.saes) {
        sae::LoadSaeOptions lo;
        lo.hookName = request.hook;
        lo.device = decoder->device().is_cuda() ? "cuda" : "cpu";
        auto s = sae::loadSae(path, lo);
        if (!s)
            return s.error();
        if (auto v = sae::validateSaeForModel(*s, decoder->config()); !v)
            return fileError(path, v.errorMessage());
        saes.push_back(std::move(s).value());
        result.saeLabels.push_back(std::filesystem::path(path).filename().string() + " ("
            + saes.back().config().hookName + ")");
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
    return result;
}

} // namespace fscope::core::index
