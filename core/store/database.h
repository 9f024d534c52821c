#pragma once
// A workspace database: one SQLite file per workspace, WAL mode, foreign keys on, schema
// version in PRAGMA user_version with forward migrations (DESIGN section 4).

#include "core/util/result.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

struct sqlite3;

namespace fscope::core::store {

class Database {
public:
    enum class Mode { ReadWrite, ReadOnly };
    // Opens or creates `path` and migrates it to the current schema. A file that is not a
    // database, or was written by a newer Featurescope, is refused untouched. A workspace the
    // user cannot write (the file or its folder) opens read-only, for browsing: every write
    // then fails naming the workspace, and an older schema is refused (it cannot migrate).
    static Result<std::unique_ptr<Database>> open(
        const std::string &path, Mode mode = Mode::ReadWrite);
    bool readOnly() const { return m_readOnly; }
    ~Database();
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;

    const std::string &path() const { return m_path; }
    int schemaVersion() const;
    static int currentSchemaVersion();

    // Runs SQL without results (several statements allowed).
    Status exec(const std::string &sql);
    // Runs `body` inside BEGIN IMMEDIATE / COMMIT; rolls back when it returns an error. Nests
    // (as a savepoint) inside another transaction.
    Status transaction(const std::function<Status()> &body);
    // The first column of the first row as text, or an error (for PRAGMAs and small queries).
    Result<std::string> queryText(const std::string &sql);

    // Key/value settings of the workspace (table `meta`).
    Status setMeta(const std::string &key, const std::string &value);
    Result<std::string> meta(const std::string &key); // empty if unset

    sqlite3 *handle() const { return m_db; }

private:
    Database(std::string path, sqlite3 *db);
    Status migrate();
    Error sqliteError(const std::string &what) const;

    std::string m_path;
    sqlite3 *m_db = nullptr;
    bool m_readOnly = false;
};

} // namespace fscope::core::store
