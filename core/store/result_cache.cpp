#include "core/store/result_cache.h"

#include "core/store/statement.h"

namespace fscope::core::store {

Result<std::optional<std::string>> cachedResult(store::Database &db, const std::string &key)
{
    store::Statement st;
    FS_TRY(st, store::Statement::prepare(db, "SELECT json FROM cached_results WHERE key = ?1"));
    st.bind(0, key);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return std::optional<std::string>();
    return std::optional<std::string>(st.text(0));
}

Status storeResult(store::Database &db, const std::string &key, const std::string &kind,
    const std::string &json, const std::string &device)
{
    store::Statement st;
    FS_TRY(st,
        store::Statement::prepare(db,
            "INSERT OR REPLACE INTO cached_results(key, kind, json, device) "
            "VALUES(?1, ?2, ?3, ?4)"));
    st.bind(0, key).bind(1, kind).bind(2, json).bind(3, device);
    return st.run();
}

Result<std::vector<CachedResultInfo>> listCachedResults(store::Database &db)
{
    store::Statement st;
    FS_TRY(st,
        store::Statement::prepare(
            db, "SELECT key, kind, device, created_at FROM cached_results ORDER BY rowid"));
    std::vector<CachedResultInfo> out;
    while (true) {
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            return out;
        out.push_back({ st.text(0), st.text(1), st.text(2), st.text(3) });
    }
}

} // namespace fscope::core::store
