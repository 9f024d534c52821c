#include "core/store/statement.h"

#include "core/store/sqlite_error.h"

#include <sqlite3.h>

#include <utility>

namespace fscope::core::store {

Result<Statement> Statement::prepare(Database &db, const std::string &sql)
{
    sqlite3_stmt *stmt = nullptr;
    if (sqlite3_prepare_v2(db.handle(), sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr)
        != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return fileError(
            db.path(), std::string("cannot prepare query: ") + sqliteMessage(db.handle()));
    }
    return Statement(&db, stmt);
}

Statement::Statement(Statement &&other) noexcept
    : m_db(other.m_db)
    , m_stmt(std::exchange(other.m_stmt, nullptr))
{
}

Statement &Statement::operator=(Statement &&other) noexcept
{
    if (this != &other) {
        sqlite3_finalize(m_stmt);
        m_db = other.m_db;
        m_stmt = std::exchange(other.m_stmt, nullptr);
    }
    return *this;
}

Statement::~Statement()
{
    sqlite3_finalize(m_stmt);
}

Statement &Statement::bind(int index, int64_t value)
{
    sqlite3_bind_int64(m_stmt, index + 1, value);
    return *this;
}

Statement &Statement::bind(int index, double value)
{
    sqlite3_bind_double(m_stmt, index + 1, value);
    return *this;
}

Statement &Statement::bind(int index, std::string_view text)
{
    sqlite3_bind_text(
        m_stmt, index + 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement &Statement::bindBlob(int index, const void *data, size_t bytes)
{
    // Zero-length blobs still bind as blobs (not NULL) so readers see an empty array.
    static const char empty = 0;
    sqlite3_bind_blob64(m_stmt, index + 1, bytes ? data : &empty, bytes, SQLITE_TRANSIENT);
    return *this;
}

Statement &Statement::bindNull(int index)
{
    sqlite3_bind_null(m_stmt, index + 1);
    return *this;
}

Result<bool> Statement::step()
{
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    return fileError(m_db->path(), std::string("query failed: ") + sqliteMessage(m_db->handle()));
}

Status Statement::run()
{
    auto r = step();
    while (r && *r)
        r = step();
    reset();
    if (!r)
        return r.error();
    return {};
}

void Statement::reset()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

int64_t Statement::integer(int column) const
{
    return sqlite3_column_int64(m_stmt, column);
}

double Statement::real(int column) const
{
    return sqlite3_column_double(m_stmt, column);
}

std::string Statement::text(int column) const
{
    const auto *t = sqlite3_column_text(m_stmt, column);
    return t ? std::string(reinterpret_cast<const char *>(t),
               static_cast<size_t>(sqlite3_column_bytes(m_stmt, column)))
             : std::string();
}

std::string_view Statement::blob(int column) const
{
    const void *p = sqlite3_column_blob(m_stmt, column);
    const int n = sqlite3_column_bytes(m_stmt, column);
    return p ? std::string_view(static_cast<const char *>(p), static_cast<size_t>(n))
             : std::string_view();
}

bool Statement::isNull(int column) const
{
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

} // namespace fscope::core::store
