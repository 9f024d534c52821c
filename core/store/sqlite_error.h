#pragma once
// SQLite's message for the last failure on a connection, with what the user can do about the
// causes that have a remedy (a busy workspace, a full disk, a failing disk).

#include <sqlite3.h>

#include <string>

namespace fscope::core::store {

std::string sqliteMessage(sqlite3 *db);

} // namespace fscope::core::store
