#include "core/store/migrations.h"

namespace fscope::core::store {

const std::vector<std::string> &schemaMigrations()
{
    static const std::vector<std::string> migrations = {
        // 0 -> 1: workspace settings and the registry of content-addressed inputs (models,
        // SAEs, corpora). Later schema versions add the index, steering and match tables.
        R"sql(
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE artifacts (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('model', 'sae', 'corpus', 'vector')),
    fingerprint TEXT NOT NULL UNIQUE,
    path        TEXT NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    config_json TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX artifacts_kind ON artifacts(kind);
)sql",
        // 1 -> 2: the feature index (DESIGN section 4). Blob layouts, all little-endian:
        //   contexts.ids           int32 token ids of one context
        //   histograms.counts      uint32 per bin; bins split [lo, hi] into equal widths
        //   examples.acts          IEEE binary16 activation of the feature on each token of the
        //                          window contexts.ids[start .. start + n)
        //   logit_effects.top/bottom  k records of (int32 token id, float32 effect)
        // index_checkpoints.state is private to the indexer (versioned inside the blob).
        R"sql(
CREATE TABLE models (
    artifact_id INTEGER PRIMARY KEY REFERENCES artifacts(id) ON DELETE CASCADE,
    family      TEXT NOT NULL,
    layers      INTEGER NOT NULL,
    d_model     INTEGER NOT NULL,
    vocab       INTEGER NOT NULL
);
CREATE TABLE saes (
    artifact_id  INTEGER PRIMARY KEY REFERENCES artifacts(id) ON DELETE CASCADE,
    hook         TEXT NOT NULL,
    layer        INTEGER NOT NULL,
    d_in         INTEGER NOT NULL,
    d_sae        INTEGER NOT NULL,
    architecture TEXT NOT NULL
);
CREATE TABLE corpora (
    artifact_id    INTEGER PRIMARY KEY REFERENCES artifacts(id) ON DELETE CASCADE,
    context_length INTEGER NOT NULL,
    contexts       INTEGER NOT NULL,
    tokens         INTEGER NOT NULL,
    complete       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE contexts (
    corpus_id INTEGER NOT NULL REFERENCES corpora(artifact_id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    ids       BLOB NOT NULL,
    PRIMARY KEY (corpus_id, idx)
) WITHOUT ROWID;
CREATE TABLE feature_indexes (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    model_id    INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    sae_id      INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    corpus_id   INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    params_json TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'done')),
    tokens      INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    finished_at TEXT
);
CREATE INDEX feature_indexes_sae ON feature_indexes(sae_id);
CREATE TABLE index_checkpoints (
    index_id   INTEGER PRIMARY KEY REFERENCES feature_indexes(id) ON DELETE CASCADE,
    next_batch INTEGER NOT NULL,
    state      BLOB NOT NULL
);
CREATE TABLE feature_stats (
    index_id INTEGER NOT NULL REFERENCES feature_indexes(id) ON DELETE CASCADE,
    feature  INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    density  REAL NOT NULL,
    max      REAL NOT NULL,
    mean     REAL NOT NULL,
    PRIMARY KEY (index_id, feature)
) WITHOUT ROWID;
CREATE TABLE histograms (
    index_id INTEGER NOT NULL REFERENCES feature_indexes(id) ON DELETE CASCADE,
    feature  INTEGER NOT NULL,
    lo       REAL NOT NULL,
    hi       REAL NOT NULL,
    counts   BLOB NOT NULL,
    PRIMARY KEY (index_id, feature)
) WITHOUT ROWID;
CREATE TABLE quantile_bands (
    index_id INTEGER NOT NULL REFERENCES feature_indexes(id) ON DELETE CASCADE,
    feature  INTEGER NOT NULL,
    band     INTEGER NOT NULL,
    lo       REAL NOT NULL,
    hi       REAL NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (index_id, feature, band)
) WITHOUT ROWID;
CREATE TABLE examples (
    index_id INTEGER NOT NULL REFERENCES feature_indexes(id) ON DELETE CASCADE,
    feature  INTEGER NOT NULL,
    kind     INTEGER NOT NULL CHECK (kind IN (0, 1)),
    rank     INTEGER NOT NULL,
    band     INTEGER NOT NULL,
    value    REAL NOT NULL,
    context  INTEGER NOT NULL,
    max_pos  INTEGER NOT NULL,
    start    INTEGER NOT NULL,
    acts     BLOB NOT NULL,
    PRIMARY KEY (index_id, feature, kind, rank)
) WITHOUT ROWID;
CREATE TABLE logit_effects (
    model_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    sae_id   INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    folded   INTEGER NOT NULL,
    feature  INTEGER NOT NULL,
    top      BLOB NOT NULL,
    bottom   BLOB NOT NULL,
    PRIMARY KEY (model_id, sae_id, folded, feature)
) WITHOUT ROWID;
CREATE TABLE labels (
    id         INTEGER PRIMARY KEY,
    sae_id     INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    feature    INTEGER NOT NULL,
    label      TEXT NOT NULL DEFAULT '',
    notes      TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (sae_id, feature)
);
CREATE VIRTUAL TABLE labels_fts USING fts5(label, notes, content='labels', content_rowid='id');
CREATE TRIGGER labels_ai AFTER INSERT ON labels BEGIN
    INSERT INTO labels_fts(rowid, label, notes) VALUES (new.id, new.label, new.notes);
END;
CREATE TRIGGER labels_ad AFTER DELETE ON labels BEGIN
    INSERT INTO labels_fts(labels_fts, rowid, label, notes) VALUES ('delete', old.id, old.label, old.notes);
END;
CREATE TRIGGER labels_au AFTER UPDATE ON labels BEGIN
    INSERT INTO labels_fts(labels_fts, rowid, label, notes) VALUES ('delete', old.id, old.label, old.notes);
    INSERT INTO labels_fts(rowid, label, notes) VALUES (new.id, new.label, new.notes);
END;
)sql",
        // 2 -> 3: named feature lists ("Bookmarks" always exists) and cached analysis results.
        R"sql(
CREATE TABLE feature_lists (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE feature_list_items (
    list_id  INTEGER NOT NULL REFERENCES feature_lists(id) ON DELETE CASCADE,
    sae_id   INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    feature  INTEGER NOT NULL,
    added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (list_id, sae_id, feature)
) WITHOUT ROWID;
INSERT INTO feature_lists(name) VALUES ('Bookmarks');
-- Results of steering, decompositions and matches, keyed by their full parameter set.
CREATE TABLE cached_results (
    key        TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    json       TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
)sql",
        // 3 -> 4: automatic interpretation. An explanation is keyed by its full request (SAE,
        // index, feature, backend, template, settings), so the same request never runs twice;
        // it keeps the exact prompt (a JSON list of chat messages) and answer. Scores hang off
        // their explanation, each keyed the same way, with every prompt, answer and scored
        // text in details_json. Imported explanations (Neuronpedia) have origin 'import'.
        R"sql(
CREATE TABLE explanations (
    id                INTEGER PRIMARY KEY,
    key               TEXT NOT NULL UNIQUE,
    sae_id            INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    feature           INTEGER NOT NULL,
    explanation       TEXT NOT NULL,
    origin            TEXT NOT NULL,
    llm               TEXT NOT NULL DEFAULT '',
    template_version  TEXT NOT NULL DEFAULT '',
    prompt_json       TEXT NOT NULL DEFAULT '[]',
    answer            TEXT NOT NULL DEFAULT '',
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX explanations_feature ON explanations(sae_id, feature);
CREATE TABLE explanation_scores (
    explanation_id    INTEGER NOT NULL REFERENCES explanations(id) ON DELETE CASCADE,
    scorer            TEXT NOT NULL,
    key               TEXT NOT NULL UNIQUE,
    score             REAL,
    details_json      TEXT NOT NULL,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (explanation_id, scorer)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE explanations_fts USING fts5(explanation, content='explanations', content_rowid='id');
CREATE TRIGGER explanations_ai AFTER INSERT ON explanations BEGIN
    INSERT INTO explanations_fts(rowid, explanation) VALUES (new.id, new.explanation);
END;
CREATE TRIGGER explanations_ad AFTER DELETE ON explanations BEGIN
    INSERT INTO explanations_fts(explanations_fts, rowid, explanation) VALUES ('delete', old.id, old.explanation);
END;
CREATE TRIGGER explanations_au AFTER UPDATE ON explanations BEGIN
    INSERT INTO explanations_fts(explanations_fts, rowid, explanation) VALUES ('delete', old.id, old.explanation);
    INSERT INTO explanations_fts(rowid, explanation) VALUES (new.id, new.explanation);
END;
)sql",
        // 4 -> 5: shards of a sharded index. A shard's record has its own key (the request's
        // key + the shard) and stays 'running'; its finished state is its checkpoint with
        // complete = 1. A merge turns it into the request's record with the merged results.
        R"sql(
CREATE TABLE index_shards (
    index_id    INTEGER PRIMARY KEY REFERENCES feature_indexes(id) ON DELETE CASCADE,
    request_key TEXT NOT NULL,
    shard       INTEGER NOT NULL,
    shards      INTEGER NOT NULL,
    batches     INTEGER NOT NULL,
    complete    INTEGER NOT NULL DEFAULT 0
);
)sql",
        // 5 -> 6: which device (and dtype) produced each result: a GPU's numbers can differ from
        // a CPU's in the last bits, so a result says where it was computed.
        R"sql(
ALTER TABLE cached_results ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE feature_indexes ADD COLUMN device TEXT NOT NULL DEFAULT '';
)sql",
        // 6 -> 7: where a dictionary's features write when that is more than one hook (a
        // cross-layer transcoder: one decoder block per later layer). decoder_write_hooks.hooks
        // is a JSON array of the output hooks in block order; decoder_writes.norms holds
        // float32 ||W_dec_block[feature]|| per block, in the same order.
        R"sql(
CREATE TABLE decoder_write_hooks (
    sae_id INTEGER PRIMARY KEY REFERENCES artifacts(id) ON DELETE CASCADE,
    hooks  TEXT NOT NULL
);
CREATE TABLE decoder_writes (
    sae_id  INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    feature INTEGER NOT NULL,
    norms   BLOB NOT NULL,
    PRIMARY KEY (sae_id, feature)
) WITHOUT ROWID;
)sql",
    };
    return migrations;
}

} // namespace fscope::core::store
