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
    };
    return migrations;
}

} // namespace fscope::core::store
