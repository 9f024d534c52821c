#pragma once
// The workspace side of the feature index: registering models, SAEs and corpora by content
// fingerprint, storing a corpus's contexts once, and the fast reads the UI and CLI make (all
// features of an index as columns; one feature's dashboard in a few queries).

#include "core/corpus/corpus.h"
#include "core/model/model_config.h"
#include "core/sae/sae.h"
#include "core/store/database.h"
#include "core/store/fingerprint.h"

#include <map>
#include <optional>
#include <utility>

namespace fscope::core::store {

Result<int64_t> registerModel(store::Database &db, const std::string &path,
    const model::ModelConfig &config, const std::string &fingerprint);
Result<int64_t> registerSae(store::Database &db, const sae::Sae &sae,
    const std::string &fingerprint, const std::string &label);
// Stores the corpus's contexts once (batched transactions; an interrupted store is redone).
Result<int64_t> storeCorpus(store::Database &db, const corpus::Corpus &corpus,
    const std::string &label, const std::string &specJson);
// The stored corpus with this fingerprint, if complete.
Result<std::optional<corpus::Corpus>> loadCorpus(
    store::Database &db, const std::string &fingerprint);
// Token ids of one stored context.
Result<std::vector<int32_t>> loadContext(store::Database &db, int64_t corpusId, int64_t context);

struct IndexInfo {
    int64_t id = 0;
    int64_t modelId = 0, saeId = 0, corpusId = 0;
    std::string modelPath, saePath, saeLabel, hook, corpusLabel, status, createdAt, paramsJson;
    std::string device; // where it was computed ("cuda:0 bf16"); "" for older workspaces
    int64_t layer = -1, dSae = 0, tokens = 0;
};
// Every index of the workspace, newest first.
Result<std::vector<IndexInfo>> listIndexes(store::Database &db);
Result<IndexInfo> indexInfo(store::Database &db, int64_t indexId);

// All features of an index as columns (one query; sized for a million rows).
struct FeatureTable {
    std::vector<int32_t> feature;
    std::vector<int64_t> count;
    std::vector<float> density, max, mean;
    size_t size() const { return feature.size(); }
};
Result<FeatureTable> loadFeatureTable(store::Database &db, int64_t indexId);

struct ExampleView {
    int kind = 0; // 0 top, 1 quantile
    int rank = 0, band = -1;
    float value = 0;
    int64_t context = 0;
    int maxPos = 0; // index of the max token inside `ids`
    int start = 0; // first context position of the window
    std::vector<int32_t> ids;
    std::vector<float> activations;
};
struct BandView {
    float lo = 0, hi = 0;
    int64_t count = 0;
};
using TokenValues = std::vector<std::pair<int32_t, float>>;
struct FeatureDashboard {
    IndexInfo index;
    int64_t feature = 0;
    int64_t count = 0;
    double density = 0, mean = 0;
    float max = 0;
    bool dead() const { return count == 0; }
    float histLo = 0, histHi = 0;
    std::vector<uint32_t> histogram;
    std::vector<BandView> bands;
    TokenValues logitTop, logitBottom; // W_dec . W_U
    TokenValues foldedLogitTop, foldedLogitBottom; // with the final norm's scale folded in
    // Where the feature writes, per output hook (||W_dec_block[f]||): only for dictionaries
    // that write several hooks (a CLT layer writes every later layer).
    std::vector<std::pair<std::string, float>> writes;
    std::vector<ExampleView> top, quantiles;
    std::string label, notes;
};
Result<FeatureDashboard> loadFeatureDashboard(
    store::Database &db, int64_t indexId, int64_t feature);

// User labels and notes, per SAE (they survive re-indexing) and searchable (FTS5).
Status setLabel(store::Database &db, int64_t saeId, int64_t feature, const std::string &label,
    const std::string &notes);
Result<std::pair<std::string, std::string>> label(
    store::Database &db, int64_t saeId, int64_t feature);
// feature -> label of every labelled feature of the SAE.
Result<std::vector<std::pair<int64_t, std::string>>> allLabels(store::Database &db, int64_t saeId);
// Features of the SAE whose label or notes match an FTS5 query (words, prefixes with '*').
Result<std::vector<int64_t>> searchLabels(
    store::Database &db, int64_t saeId, const std::string &query);

// "cat dog" -> "\"cat\"* \"dog\"*": typed words as an FTS5 query of prefixes, never syntax.
std::string ftsQuery(const std::string &text);

// Each feature's top-example context ids (sorted) in one index.
Result<std::map<int64_t, std::vector<int64_t>>> topExampleContexts(Database &db, int64_t indexId);

// A feature's max activation in the newest finished index of the SAE with this fingerprint.
Result<std::optional<double>> featureMaxOfSae(
    Database &db, const std::string &saeFingerprint, int64_t feature);

} // namespace fscope::core::store
