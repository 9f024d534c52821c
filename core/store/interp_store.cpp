#include "core/store/interp_store.h"

#include "core/store/index_store.h"
#include "core/store/statement.h"

namespace fscope::core::store {

namespace {

const char *kExplanationColumns
    = "SELECT id, key, sae_id, feature, explanation, origin, llm, template_version, prompt_json, "
      "answer, prompt_tokens, completion_tokens, created_at FROM explanations ";

StoredExplanation readExplanation(const Statement &st)
{
    StoredExplanation e;
    e.id = st.integer(0);
    e.key = st.text(1);
    e.saeId = st.integer(2);
    e.feature = st.integer(3);
    e.explanation = st.text(4);
    e.origin = st.text(5);
    e.llm = st.text(6);
    e.templateVersion = st.text(7);
    e.promptJson = st.text(8);
    e.answer = st.text(9);
    e.promptTokens = st.integer(10);
    e.completionTokens = st.integer(11);
    e.createdAt = st.text(12);
    return e;
}

const char *kScoreColumns = "SELECT scorer, key, score, details_json, prompt_tokens, "
                            "completion_tokens FROM explanation_scores ";

StoredScore readScore(const Statement &st)
{
    StoredScore s;
    s.scorer = st.text(0);
    s.key = st.text(1);
    if (!st.isNull(2))
        s.score = st.real(2);
    s.detailsJson = st.text(3);
    s.promptTokens = st.integer(4);
    s.completionTokens = st.integer(5);
    return s;
}

} // namespace

Result<std::optional<StoredExplanation>> explanationByKey(Database &db, const std::string &key)
{
    Statement st;
    FS_TRY(st, Statement::prepare(db, std::string(kExplanationColumns) + "WHERE key = ?1"));
    st.bind(0, key);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return std::optional<StoredExplanation>();
    return std::optional<StoredExplanation>(readExplanation(st));
}

Result<int64_t> storeExplanation(Database &db, const StoredExplanation &e)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "INSERT INTO explanations(key, sae_id, feature, explanation, origin, llm, "
            "template_version, prompt_json, answer, prompt_tokens, completion_tokens) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT(key) DO UPDATE SET "
            "explanation = excluded.explanation, prompt_json = excluded.prompt_json, "
            "answer = excluded.answer, prompt_tokens = excluded.prompt_tokens, "
            "completion_tokens = excluded.completion_tokens RETURNING id"));
    st.bind(0, e.key)
        .bind(1, e.saeId)
        .bind(2, e.feature)
        .bind(3, e.explanation)
        .bind(4, e.origin)
        .bind(5, e.llm)
        .bind(6, e.templateVersion)
        .bind(7, e.promptJson)
        .bind(8, e.answer)
        .bind(9, e.promptTokens)
        .bind(10, e.completionTokens);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return fileError(
            db.path(), "cannot store the explanation of feature " + std::to_string(e.feature));
    return st.integer(0);
}

Result<std::optional<StoredScore>> scoreByKey(Database &db, const std::string &key)
{
    Statement st;
    FS_TRY(st, Statement::prepare(db, std::string(kScoreColumns) + "WHERE key = ?1"));
    st.bind(0, key);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return std::optional<StoredScore>();
    return std::optional<StoredScore>(readScore(st));
}

Status storeScore(Database &db, int64_t explanationId, const StoredScore &s)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "INSERT OR REPLACE INTO explanation_scores(explanation_id, scorer, key, score, "
            "details_json, prompt_tokens, completion_tokens) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    st.bind(0, explanationId).bind(1, s.scorer).bind(2, s.key);
    if (s.score)
        st.bind(3, *s.score);
    else
        st.bindNull(3);
    st.bind(4, s.detailsJson).bind(5, s.promptTokens).bind(6, s.completionTokens);
    return st.run();
}

std::optional<double> FeatureExplanation::score(const std::string &scorer) const
{
    for (const auto &s : scores)
        if (s.scorer == scorer)
            return s.score;
    return std::nullopt;
}

Result<std::optional<FeatureExplanation>> latestExplanation(
    Database &db, int64_t saeId, int64_t feature)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            std::string(kExplanationColumns)
                + "WHERE sae_id = ?1 AND feature = ?2 ORDER BY created_at DESC, id DESC LIMIT 1"));
    st.bind(0, saeId).bind(1, feature);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return std::optional<FeatureExplanation>();
    FeatureExplanation out;
    out.explanation = readExplanation(st);
    Statement scores;
    FS_TRY(scores,
        Statement::prepare(
            db, std::string(kScoreColumns) + "WHERE explanation_id = ?1 ORDER BY scorer"));
    scores.bind(0, out.explanation.id);
    for (;;) {
        FS_TRY(row, scores.step());
        if (!row)
            break;
        out.scores.push_back(readScore(scores));
    }
    return std::optional<FeatureExplanation>(std::move(out));
}

Result<std::map<int64_t, ExplanationSummary>> explanationsOfSae(Database &db, int64_t saeId)
{
    // The newest explanation per feature: the largest (created_at, id) of its rows.
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "WITH newest AS (SELECT id, feature, explanation, origin, ROW_NUMBER() OVER "
            "(PARTITION BY feature ORDER BY created_at DESC, id DESC) AS r FROM explanations "
            "WHERE sae_id = ?1) SELECT n.feature, n.explanation, n.origin, s.scorer, s.score "
            "FROM newest n LEFT JOIN explanation_scores s ON s.explanation_id = n.id "
            "WHERE n.r = 1 ORDER BY n.feature"));
    st.bind(0, saeId);
    std::map<int64_t, ExplanationSummary> out;
    for (;;) {
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            break;
        ExplanationSummary &s = out[st.integer(0)];
        s.explanation = st.text(1);
        s.origin = st.text(2);
        if (!st.isNull(3) && !st.isNull(4))
            s.scores[st.text(3)] = st.real(4);
    }
    return out;
}

Result<std::vector<int64_t>> searchExplanations(
    Database &db, int64_t saeId, const std::string &query)
{
    const std::string q = ftsQuery(query);
    std::vector<int64_t> out;
    if (q.empty())
        return out;
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT DISTINCT e.feature FROM explanations_fts JOIN explanations e ON e.id = "
            "explanations_fts.rowid WHERE explanations_fts MATCH ?2 AND e.sae_id = ?1 "
            "ORDER BY e.feature"));
    st.bind(0, saeId).bind(1, q);
    for (;;) {
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            break;
        out.push_back(st.integer(0));
    }
    return out;
}

Result<IndexIdentity> indexIdentity(Database &db, int64_t indexId)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT i.key, s.fingerprint, c.contexts FROM feature_indexes i "
            "JOIN artifacts s ON s.id = i.sae_id JOIN corpora c ON c.artifact_id = i.corpus_id "
            "WHERE i.id = ?1"));
    st.bind(0, indexId);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return fileError(db.path(), "no index " + std::to_string(indexId));
    return IndexIdentity { st.text(0), st.text(1), st.integer(2) };
}

} // namespace fscope::core::store
