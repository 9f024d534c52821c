#include "core/store/sqlite_error.h"

namespace fscope::core::store {

std::string sqliteMessage(sqlite3 *db)
{
    std::string message = sqlite3_errmsg(db);
    // What was committed before stays whatever the cause: SQLite rolls the failed write back.
    switch (sqlite3_extended_errcode(db) & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return message
            + " (another process, the GUI or featurescope-cli, kept the workspace busy for "
              "longer than the 5 s this waits: run it again when that write is done)";
    case SQLITE_FULL:
        return message
            + " (free space on its disk and run it again; what was saved before is kept)";
    case SQLITE_IOERR:
        return message + " (the disk failed a read or write; what was saved before is kept)";
    default:
        return message;
    }
}

} // namespace fscope::core::store
