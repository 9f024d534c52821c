#include "core/store/index_store.h"

#include "core/io/checkpoint.h"
#include "core/model/hooks.h"
#include "core/store/fingerprint.h"
#include "core/store/sha256.h"
#include "core/store/statement.h"
#include "core/util/json_file.h"

#include <c10/util/Half.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace fscope::core::store {

namespace {

Result<int64_t> upsertArtifact(Database &db, const std::string &kind,
    const std::string &fingerprint, const std::string &path, const std::string &label,
    const std::string &configJson)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "INSERT INTO artifacts(kind, fingerprint, path, label, config_json) "
            "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(fingerprint) DO UPDATE SET "
            "path = excluded.path RETURNING id"));
    st.bind(0, kind).bind(1, fingerprint).bind(2, path).bind(3, label).bind(4, configJson);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return fileError(db.path(), "cannot register " + kind + " " + path);
    return st.integer(0);
}

TokenValues unpackTokenValues(std::string_view blob)
{
    TokenValues out;
    for (size_t at = 0; at + 8 <= blob.size(); at += 8) {
        int32_t id;
        float v;
        std::memcpy(&id, blob.data() + at, 4);
        std::memcpy(&v, blob.data() + at + 4, 4);
        out.emplace_back(id, v);
    }
    return out;
}

} // namespace

// "cat dog" -> "\"cat\"* \"dog\"*": words as prefixes, never FTS5 syntax.
std::string ftsQuery(const std::string &text)
{
    std::istringstream in(text);
    std::string word, out;
    while (in >> word) {
        std::string quoted;
        for (char c : word)
            if (c != '"')
                quoted += c;
        if (quoted.empty())
            continue;
        out += (out.empty() ? "" : " ") + std::string("\"") + quoted + "\"*";
    }
    return out;
}

Result<int64_t> registerModel(Database &db, const std::string &path,
    const model::ModelConfig &config, const std::string &fingerprint)
{
    int64_t id = 0;
    FS_TRY(id,
        upsertArtifact(db, "model", fingerprint, path, fs::path(path).filename().string(), "{}"));
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "INSERT OR IGNORE INTO models(artifact_id, family, layers, d_model, vocab) "
            "VALUES(?1, ?2, ?3, ?4, ?5)"));
    st.bind(0, id)
        .bind(1, config.familyName())
        .bind(2, config.layers)
        .bind(3, config.hidden)
        .bind(4, config.vocabSize);
    if (auto s = st.run(); !s)
        return s.error();
    return id;
}

Result<int64_t> registerSae(
    Database &db, const sae::Sae &sae, const std::string &fingerprint, const std::string &label)
{
    const auto &c = sae.config();
    int64_t id = 0;
    FS_TRY(id, upsertArtifact(db, "sae", fingerprint, c.sourcePath, label, "{}"));
    const auto hook = model::parseHookName(c.hookName);
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "INSERT OR IGNORE INTO saes(artifact_id, hook, layer, d_in, d_sae, architecture) "
            "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    st.bind(0, id)
        .bind(1, c.hookName)
        .bind(2, hook ? hook->layer : int64_t { -1 })
        .bind(3, c.dIn)
        .bind(4, c.dSae)
        .bind(5, sae::architectureName(c.architecture));
    if (auto s = st.run(); !s)
        return s.error();
    return id;
}

Result<int64_t> storeCorpus(Database &db, const corpus::Corpus &corpus, const std::string &label,
    const std::string &specJson)
{
    int64_t id = 0;
    FS_TRY(id, upsertArtifact(db, "corpus", corpus.fingerprint, label, label, specJson));
    Statement done;
    FS_TRY(done, Statement::prepare(db, "SELECT complete FROM corpora WHERE artifact_id = ?1"));
    done.bind(0, id);
    bool row = false;
    FS_TRY(row, done.step());
    if (row && done.integer(0) == 1)
        return id;
    done.reset();
    // A partial store from an interrupted run is replaced: contexts are cheap to write again.
    auto s = db.transaction([&]() -> Status {
        Statement st;
        FS_TRY(st, Statement::prepare(db, "DELETE FROM contexts WHERE corpus_id = ?1"));
        st.bind(0, id);
        if (auto r = st.run(); !r)
            return r;
        FS_TRY(st,
            Statement::prepare(db,
                "INSERT INTO corpora(artifact_id, context_length, contexts, tokens, complete) "
                "VALUES(?1, ?2, ?3, ?4, 0) ON CONFLICT(artifact_id) DO UPDATE SET complete = 0"));
        st.bind(0, id)
            .bind(1, corpus.contextLength)
            .bind(2, corpus.contexts())
            .bind(3, corpus.tokens());
        return st.run();
    });
    if (!s)
        return s.error();
    const int64_t perTransaction = 4096;
    for (int64_t begin = 0; begin < corpus.contexts(); begin += perTransaction) {
        s = db.transaction([&]() -> Status {
            Statement st;
            FS_TRY(st,
                Statement::prepare(
                    db, "INSERT INTO contexts(corpus_id, idx, ids) VALUES(?1, ?2, ?3)"));
            for (int64_t c = begin; c < std::min(corpus.contexts(), begin + perTransaction); ++c) {
                st.bind(0, id).bind(1, c).bindBlob(
                    2, corpus.context(c), static_cast<size_t>(corpus.contextLength) * 4);
                if (auto r = st.run(); !r)
                    return r;
            }
            return {};
        });
        if (!s)
            return s.error();
    }
    if (auto r
        = db.exec("UPDATE corpora SET complete = 1 WHERE artifact_id = " + std::to_string(id));
        !r)
        return r.error();
    return id;
}

Result<std::optional<corpus::Corpus>> loadCorpus(Database &db, const std::string &fingerprint)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT c.artifact_id, c.context_length, c.contexts FROM corpora c "
            "JOIN artifacts a ON a.id = c.artifact_id WHERE a.fingerprint = ?1 AND c.complete = "
            "1"));
    st.bind(0, fingerprint);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return std::optional<corpus::Corpus>();
    corpus::Corpus corpus;
    corpus.fingerprint = fingerprint;
    const int64_t id = st.integer(0);
    corpus.contextLength = st.integer(1);
    corpus.ids.reserve(static_cast<size_t>(st.integer(2) * corpus.contextLength));
    Statement rows;
    FS_TRY(
        rows, Statement::prepare(db, "SELECT ids FROM contexts WHERE corpus_id = ?1 ORDER BY idx"));
    rows.bind(0, id);
    for (;;) {
        FS_TRY(row, rows.step());
        if (!row)
            break;
        const auto ids = store::unpackBlob<int32_t>(rows.blob(0));
        if (static_cast<int64_t>(ids.size()) != corpus.contextLength)
            return fileError(db.path(), "stored context has the wrong length");
        corpus.ids.insert(corpus.ids.end(), ids.begin(), ids.end());
    }
    return std::optional<corpus::Corpus>(std::move(corpus));
}

Result<std::vector<int32_t>> loadContext(Database &db, int64_t corpusId, int64_t context)
{
    Statement st;
    FS_TRY(
        st, Statement::prepare(db, "SELECT ids FROM contexts WHERE corpus_id = ?1 AND idx = ?2"));
    st.bind(0, corpusId).bind(1, context);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return fileError(db.path(), "context " + std::to_string(context) + " is not stored");
    return store::unpackBlob<int32_t>(st.blob(0));
}

namespace {

const char *kIndexColumns
    = "SELECT i.id, i.model_id, i.sae_id, i.corpus_id, m.path, s.path, s.label, sa.hook, c.label, "
      "i.status, "
      "i.created_at, i.params_json, sa.layer, sa.d_sae, i.tokens, i.device FROM feature_indexes i "
      "JOIN artifacts m ON m.id = i.model_id JOIN artifacts s ON s.id = i.sae_id "
      "JOIN artifacts c ON c.id = i.corpus_id JOIN saes sa ON sa.artifact_id = i.sae_id ";

IndexInfo readIndexInfo(const Statement &st)
{
    IndexInfo info;
    info.id = st.integer(0);
    info.modelId = st.integer(1);
    info.saeId = st.integer(2);
    info.corpusId = st.integer(3);
    info.modelPath = st.text(4);
    info.saePath = st.text(5);
    info.saeLabel = st.text(6);
    info.hook = st.text(7);
    info.corpusLabel = st.text(8);
    info.status = st.text(9);
    info.createdAt = st.text(10);
    info.paramsJson = st.text(11);
    info.layer = st.integer(12);
    info.dSae = st.integer(13);
    info.tokens = st.integer(14);
    info.device = st.text(15);
    return info;
}

} // namespace

Result<std::vector<IndexInfo>> listIndexes(Database &db)
{
    Statement st;
    FS_TRY(st, Statement::prepare(db, std::string(kIndexColumns) + "ORDER BY i.id DESC"));
    std::vector<IndexInfo> out;
    for (;;) {
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            break;
        out.push_back(readIndexInfo(st));
    }
    return out;
}

Result<IndexInfo> indexInfo(Database &db, int64_t indexId)
{
    Statement st;
    FS_TRY(st, Statement::prepare(db, std::string(kIndexColumns) + "WHERE i.id = ?1"));
    st.bind(0, indexId);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return fileError(db.path(), "no feature index " + std::to_string(indexId));
    return readIndexInfo(st);
}

Result<FeatureTable> loadFeatureTable(Database &db, int64_t indexId)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT feature, count, density, max, mean FROM feature_stats "
            "WHERE index_id = ?1 ORDER BY feature"));
    st.bind(0, indexId);
    FeatureTable t;
    for (;;) {
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            break;
        t.feature.push_back(static_cast<int32_t>(st.integer(0)));
        t.count.push_back(st.integer(1));
        t.density.push_back(static_cast<float>(st.real(2)));
        t.max.push_back(static_cast<float>(st.real(3)));
        t.mean.push_back(static_cast<float>(st.real(4)));
    }
    return t;
}

Result<FeatureDashboard> loadFeatureDashboard(Database &db, int64_t indexId, int64_t feature)
{
    FeatureDashboard d;
    FS_TRY(d.index, indexInfo(db, indexId));
    d.feature = feature;
    if (feature < 0 || feature >= d.index.dSae)
        return fileError(db.path(),
            "feature " + std::to_string(feature) + " is out of range (the SAE has "
                + std::to_string(d.index.dSae) + " features)");
    if (d.index.status != "done")
        return fileError(db.path(),
            "the index of " + d.index.saeLabel
                + " is not finished; run the indexing again to resume it");
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT f.count, f.density, f.max, f.mean, h.lo, h.hi, h.counts FROM feature_stats f "
            "JOIN histograms h ON h.index_id = f.index_id AND h.feature = f.feature "
            "WHERE f.index_id = ?1 AND f.feature = ?2"));
    st.bind(0, indexId).bind(1, feature);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return fileError(db.path(), "feature " + std::to_string(feature) + " has no statistics");
    d.count = st.integer(0);
    d.density = st.real(1);
    d.max = static_cast<float>(st.real(2));
    d.mean = st.real(3);
    d.histLo = static_cast<float>(st.real(4));
    d.histHi = static_cast<float>(st.real(5));
    d.histogram = store::unpackBlob<uint32_t>(st.blob(6));

    FS_TRY(st,
        Statement::prepare(db,
            "SELECT lo, hi, count FROM quantile_bands WHERE index_id = ?1 AND feature = ?2 ORDER "
            "BY band"));
    st.bind(0, indexId).bind(1, feature);
    for (;;) {
        FS_TRY(row, st.step());
        if (!row)
            break;
        d.bands.push_back(
            { static_cast<float>(st.real(0)), static_cast<float>(st.real(1)), st.integer(2) });
    }

    FS_TRY(st,
        Statement::prepare(db,
            "SELECT folded, top, bottom FROM logit_effects WHERE model_id = ?1 AND sae_id = ?2 AND "
            "feature = ?3"));
    st.bind(0, d.index.modelId).bind(1, d.index.saeId).bind(2, feature);
    for (;;) {
        FS_TRY(row, st.step());
        if (!row)
            break;
        const bool folded = st.integer(0) != 0;
        (folded ? d.foldedLogitTop : d.logitTop) = unpackTokenValues(st.blob(1));
        (folded ? d.foldedLogitBottom : d.logitBottom) = unpackTokenValues(st.blob(2));
    }

    FS_TRY(st,
        Statement::prepare(db,
            "SELECT h.hooks, w.norms FROM decoder_writes w JOIN decoder_write_hooks h "
            "ON h.sae_id = w.sae_id WHERE w.sae_id = ?1 AND w.feature = ?2"));
    st.bind(0, d.index.saeId).bind(1, feature);
    FS_TRY(row, st.step());
    if (row) {
        const auto hooks = nlohmann::json::parse(st.text(0), nullptr, false);
        const std::vector<float> norms = unpackBlob<float>(st.blob(1));
        if (hooks.is_array() && hooks.size() == norms.size())
            for (size_t b = 0; b < norms.size(); ++b)
                d.writes.emplace_back(
                    hooks[b].is_string() ? hooks[b].get<std::string>() : "?", norms[b]);
    }

    // Examples joined with their contexts: the window's token ids come from the one stored copy.
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT e.kind, e.rank, e.band, e.value, e.context, e.max_pos, e.start, e.acts, c.ids "
            "FROM examples e JOIN contexts c ON c.corpus_id = ?3 AND c.idx = e.context "
            "WHERE e.index_id = ?1 AND e.feature = ?2 ORDER BY e.kind, e.rank"));
    st.bind(0, indexId).bind(1, feature).bind(2, d.index.corpusId);
    for (;;) {
        FS_TRY(row, st.step());
        if (!row)
            break;
        ExampleView e;
        e.kind = static_cast<int>(st.integer(0));
        e.rank = static_cast<int>(st.integer(1));
        e.band = static_cast<int>(st.integer(2));
        e.value = static_cast<float>(st.real(3));
        e.context = st.integer(4);
        e.start = static_cast<int>(st.integer(6));
        e.maxPos = static_cast<int>(st.integer(5)) - e.start;
        const auto halves = store::unpackBlob<uint16_t>(st.blob(7));
        const auto ids = store::unpackBlob<int32_t>(st.blob(8));
        for (size_t t = 0; t < halves.size() && e.start + t < ids.size(); ++t) {
            e.ids.push_back(ids[e.start + t]);
            e.activations.push_back(
                static_cast<float>(c10::Half(halves[t], c10::Half::from_bits())));
        }
        (e.kind == 0 ? d.top : d.quantiles).push_back(std::move(e));
    }
    auto l = label(db, d.index.saeId, feature);
    if (!l)
        return l.error();
    std::tie(d.label, d.notes) = *l;
    return d;
}

Status setLabel(Database &db, int64_t saeId, int64_t feature, const std::string &labelText,
    const std::string &notes)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "INSERT INTO labels(sae_id, feature, label, notes) VALUES(?1, ?2, ?3, ?4) "
            "ON CONFLICT(sae_id, feature) DO UPDATE SET label = excluded.label, "
            "notes = excluded.notes, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"));
    st.bind(0, saeId).bind(1, feature).bind(2, labelText).bind(3, notes);
    return st.run();
}

Result<std::pair<std::string, std::string>> label(Database &db, int64_t saeId, int64_t feature)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(
            db, "SELECT label, notes FROM labels WHERE sae_id = ?1 AND feature = ?2"));
    st.bind(0, saeId).bind(1, feature);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return std::pair<std::string, std::string>();
    return std::make_pair(st.text(0), st.text(1));
}

Result<std::vector<std::pair<int64_t, std::string>>> allLabels(Database &db, int64_t saeId)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT feature, label FROM labels WHERE sae_id = ?1 AND label != '' ORDER BY "
            "feature"));
    st.bind(0, saeId);
    std::vector<std::pair<int64_t, std::string>> out;
    for (;;) {
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            break;
        out.emplace_back(st.integer(0), st.text(1));
    }
    return out;
}

Result<std::vector<int64_t>> searchLabels(Database &db, int64_t saeId, const std::string &query)
{
    const std::string q = ftsQuery(query);
    std::vector<int64_t> out;
    if (q.empty())
        return out;
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT l.feature FROM labels_fts JOIN labels l ON l.id = labels_fts.rowid "
            "WHERE labels_fts MATCH ?2 AND l.sae_id = ?1 ORDER BY rank"));
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

Result<std::map<int64_t, std::vector<int64_t>>> topExampleContexts(Database &db, int64_t indexId)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(
            db, "SELECT feature, context FROM examples WHERE index_id = ?1 AND kind = 0"));
    st.bind(0, indexId);
    std::map<int64_t, std::vector<int64_t>> out;
    for (;;) {
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            break;
        out[st.integer(0)].push_back(st.integer(1));
    }
    for (auto &[f, v] : out)
        std::sort(v.begin(), v.end());
    return out;
}

Result<std::optional<double>> featureMaxOfSae(
    Database &db, const std::string &saeFingerprint, int64_t feature)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT f.max FROM feature_stats f JOIN feature_indexes i ON i.id = f.index_id "
            "JOIN artifacts a ON a.id = i.sae_id WHERE a.fingerprint = ?1 AND i.status = 'done' "
            "AND f.feature = ?2 ORDER BY i.id DESC LIMIT 1"));
    st.bind(0, saeFingerprint).bind(1, feature);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return std::optional<double>();
    return std::optional<double>(st.real(0));
}

} // namespace fscope::core::store
