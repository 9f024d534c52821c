#pragma once
// The workspace side of automatic interpretation: explanations and their scores, each stored
// under the key of its full request (so a repeated request is answered from here), with the
// exact prompts and answers; reads for the browser (every feature's newest explanation and
// scores in one query), the dashboard, search (FTS5) and reports.

#include "core/store/database.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fscope::core::store {

struct StoredExplanation {
    int64_t id = 0;
    std::string key;
    int64_t saeId = 0, feature = 0;
    std::string explanation, origin, llm, templateVersion;
    std::string promptJson = "[]", answer;
    int64_t promptTokens = 0, completionTokens = 0;
    std::string createdAt;
};

struct StoredScore {
    std::string scorer, key;
    std::optional<double> score;
    std::string detailsJson = "{}";
    int64_t promptTokens = 0, completionTokens = 0;
};

Result<std::optional<StoredExplanation>> explanationByKey(Database &db, const std::string &key);
// Inserts (or replaces the record of the same key); returns its id.
Result<int64_t> storeExplanation(Database &db, const StoredExplanation &explanation);
Result<std::optional<StoredScore>> scoreByKey(Database &db, const std::string &key);
Status storeScore(Database &db, int64_t explanationId, const StoredScore &score);

// A feature's newest explanation with the scores stored for it.
struct FeatureExplanation {
    StoredExplanation explanation;
    std::vector<StoredScore> scores;
    std::optional<double> score(const std::string &scorer) const;
};
Result<std::optional<FeatureExplanation>> latestExplanation(
    Database &db, int64_t saeId, int64_t feature);
// Every feature's newest explanation and its scores (no prompts or details): the browser's
// columns, reports and exports.
struct ExplanationSummary {
    std::string explanation, origin;
    std::map<std::string, double> scores;
};
Result<std::map<int64_t, ExplanationSummary>> explanationsOfSae(Database &db, int64_t saeId);
// Features of the SAE whose explanations match an FTS5 query (words, prefixes).
Result<std::vector<int64_t>> searchExplanations(
    Database &db, int64_t saeId, const std::string &query);

// What keys an index's interpretations: the index's own key and its SAE's fingerprint, and
// the number of contexts of its corpus.
struct IndexIdentity {
    std::string indexKey, saeFingerprint;
    int64_t contexts = 0;
};
Result<IndexIdentity> indexIdentity(Database &db, int64_t indexId);

} // namespace fscope::core::store
