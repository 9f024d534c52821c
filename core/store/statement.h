#pragma once
// A prepared SQLite statement with typed binds and column reads: the one way core code talks
// SQL beyond Database::exec. Columns and parameters are 0-based here (SQLite binds are 1-based).

#include "core/store/database.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3_stmt;

namespace fscope::core::store {

class Statement {
public:
    static Result<Statement> prepare(Database &db, const std::string &sql);
    Statement() = default; // empty until assigned a prepared one
    Statement(Statement &&other) noexcept;
    Statement &operator=(Statement &&other) noexcept;
    Statement(const Statement &) = delete;
    ~Statement();

    Statement &bind(int index, int64_t value);
    Statement &bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    Statement &bind(int index, double value);
    Statement &bind(int index, std::string_view text);
    Statement &bind(int index, const char *text) { return bind(index, std::string_view(text)); }
    Statement &bindBlob(int index, const void *data, size_t bytes);
    Statement &bindNull(int index);

    // Steps once: true with a row to read, false when done.
    Result<bool> step();
    // Steps to the end (for writes) and resets for the next binds.
    Status run();
    void reset();

    int64_t integer(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    std::string_view blob(int column) const; // valid until the next step/reset
    bool isNull(int column) const;

private:
    Statement(Database *db, sqlite3_stmt *stmt)
        : m_db(db)
        , m_stmt(stmt)
    {
    }
    Database *m_db = nullptr;
    sqlite3_stmt *m_stmt = nullptr;
};

// Little-endian packing of plain arrays into blobs (the documented blob layouts are LE).
template <typename T> std::string packBlob(const std::vector<T> &values)
{
    return std::string(reinterpret_cast<const char *>(values.data()), values.size() * sizeof(T));
}
template <typename T> std::vector<T> unpackBlob(std::string_view bytes)
{
    std::vector<T> out(bytes.size() / sizeof(T));
    if (!out.empty())
        std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
    return out;
}

} // namespace fscope::core::store
