#include "core/store/database.h"

#include "core/store/sqlite_error.h"

#include "core/store/migrations.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

namespace fscope::core::store {

namespace {

struct Statement {
    sqlite3_stmt *stmt = nullptr;
    ~Statement() { sqlite3_finalize(stmt); }
};

} // namespace

Database::Database(std::string path, sqlite3 *db)
    : m_path(std::move(path))
    , m_db(db)
{
}

Database::~Database()
{
    sqlite3_close_v2(m_db);
}

int Database::currentSchemaVersion()
{
    return static_cast<int>(schemaMigrations().size());
}

Error Database::sqliteError(const std::string &what) const
{
    return fileError(m_path, what + ": " + sqliteMessage(m_db));
}

namespace {

// True when `path` exists but this user cannot write it or its folder (where SQLite keeps
// the -wal and -shm files).
bool unwritable(const std::string &path)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        return false;
    const std::filesystem::path folder = std::filesystem::absolute(path, ec).parent_path();
    return ::access(path.c_str(), W_OK) != 0 || ::access(folder.c_str(), W_OK) != 0;
}

} // namespace

Result<std::unique_ptr<Database>> Database::open(const std::string &path, Mode mode)
{
    if (mode == Mode::ReadWrite && unwritable(path))
        mode = Mode::ReadOnly;
    const bool readOnly = mode == Mode::ReadOnly;
    sqlite3 *db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db,
        (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_FULLMUTEX,
        nullptr);
    std::unique_ptr<Database> database(new Database(path, db));
    database->m_readOnly = readOnly;
    if (rc != SQLITE_OK)
        return database->sqliteError(
            readOnly ? "cannot open workspace read-only" : "cannot open workspace");
    sqlite3_busy_timeout(db, 5000);
    // Reading user_version is the first read of the file: it is where "not a database" shows.
    auto version = database->queryText("PRAGMA user_version");
    if (!version)
        return fileError(path, "not a Featurescope workspace (" + version.errorMessage() + ")");
    if (std::stoi(*version) > currentSchemaVersion())
        return fileError(path,
            "workspace schema version " + *version + " is newer than this Featurescope supports ("
                + std::to_string(currentSchemaVersion()) + "); update Featurescope to open it");
    if (readOnly) {
        if (std::stoi(*version) < currentSchemaVersion())
            return fileError(path,
                "the workspace is read-only and of schema version " + *version
                    + "; this Featurescope needs version " + std::to_string(currentSchemaVersion())
                    + ": copy it somewhere writable to upgrade it");
        if (auto s = database->exec("PRAGMA foreign_keys=ON;"); !s)
            return s.error();
        return database;
    }
    auto journal = database->queryText("PRAGMA journal_mode=WAL");
    if (!journal)
        return journal.error();
    if (auto s = database->exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;"); !s)
        return s.error();
    if (auto s = database->migrate(); !s)
        return s.error();
    return database;
}

int Database::schemaVersion() const
{
    Statement s;
    sqlite3_prepare_v2(m_db, "PRAGMA user_version", -1, &s.stmt, nullptr);
    return sqlite3_step(s.stmt) == SQLITE_ROW ? sqlite3_column_int(s.stmt, 0) : -1;
}

Status Database::migrate()
{
    const auto &migrations = schemaMigrations();
    for (int v = schemaVersion(); v < static_cast<int>(migrations.size()); ++v) {
        // Each step and its version bump commit together: an interrupted migration leaves
        // the previous version intact.
        auto s = transaction([&]() -> Status {
            if (auto r = exec(migrations[v]); !r)
                return r;
            return exec("PRAGMA user_version=" + std::to_string(v + 1));
        });
        if (!s)
            return fileError(m_path,
                "migration to schema version " + std::to_string(v + 1)
                    + " failed: " + s.errorMessage());
    }
    return {};
}

Status Database::exec(const std::string &sql)
{
    char *message = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        sqlite3_free(message); // the connection's message says the same, with the advice
        return fileError(m_path, sqliteMessage(m_db));
    }
    return {};
}

Status Database::transaction(const std::function<Status()> &body)
{
    if (!sqlite3_get_autocommit(m_db)) {
        // Inside a transaction already: a savepoint makes this one all-or-nothing within it.
        if (auto s = exec("SAVEPOINT nested"); !s)
            return s;
        Status result = body();
        if (!result)
            (void)exec("ROLLBACK TO nested");
        (void)exec("RELEASE nested");
        return result;
    }
    if (auto s = exec("BEGIN IMMEDIATE"); !s)
        return s;
    Status result = body();
    if (!result) {
        (void)exec("ROLLBACK");
        return result;
    }
    if (auto s = exec("COMMIT"); !s) {
        (void)exec("ROLLBACK");
        return s;
    }
    return {};
}

Result<std::string> Database::queryText(const std::string &sql)
{
    Statement s;
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &s.stmt, nullptr) != SQLITE_OK)
        return sqliteError("query failed");
    const int rc = sqlite3_step(s.stmt);
    if (rc == SQLITE_ROW) {
        const auto *text = sqlite3_column_text(s.stmt, 0);
        return std::string(text ? reinterpret_cast<const char *>(text) : "");
    }
    if (rc == SQLITE_DONE)
        return std::string();
    return sqliteError("query failed");
}

Status Database::setMeta(const std::string &key, const std::string &value)
{
    Statement s;
    sqlite3_prepare_v2(m_db,
        "INSERT INTO meta(key, value) VALUES(?1, ?2) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        -1, &s.stmt, nullptr);
    sqlite3_bind_text(s.stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s.stmt, 2, value.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s.stmt) != SQLITE_DONE)
        return sqliteError("cannot write setting '" + key + "'");
    return {};
}

Result<std::string> Database::meta(const std::string &key)
{
    Statement s;
    sqlite3_prepare_v2(m_db, "SELECT value FROM meta WHERE key = ?1", -1, &s.stmt, nullptr);
    sqlite3_bind_text(s.stmt, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    const int rc = sqlite3_step(s.stmt);
    if (rc == SQLITE_ROW)
        return std::string(reinterpret_cast<const char *>(sqlite3_column_text(s.stmt, 0)));
    if (rc == SQLITE_DONE)
        return std::string();
    return sqliteError("cannot read setting '" + key + "'");
}

} // namespace fscope::core::store
