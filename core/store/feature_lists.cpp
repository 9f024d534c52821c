#include "core/store/feature_lists.h"

#include "core/store/statement.h"

namespace fscope::core::store {

namespace {

Result<std::vector<int64_t>> integers(Statement &st)
{
    std::vector<int64_t> out;
    for (;;) {
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            return out;
        out.push_back(st.integer(0));
    }
}

} // namespace

Result<std::vector<FeatureList>> featureLists(store::Database &db)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT l.id, l.name, count(i.feature) FROM feature_lists l "
            "LEFT JOIN feature_list_items i ON i.list_id = l.id GROUP BY l.id ORDER BY l.id"));
    std::vector<FeatureList> out;
    for (;;) {
        bool row = false;
        FS_TRY(row, st.step());
        if (!row)
            return out;
        out.push_back({ st.integer(0), st.text(1), st.integer(2) });
    }
}

Result<int64_t> createFeatureList(store::Database &db, const std::string &name)
{
    if (name.empty())
        return fileError(db.path(), "a list needs a name");
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "INSERT INTO feature_lists(name) VALUES(?1) ON CONFLICT(name) DO UPDATE SET name = "
            "name RETURNING id"));
    st.bind(0, name);
    bool row = false;
    FS_TRY(row, st.step());
    if (!row)
        return fileError(db.path(), "cannot create the list '" + name + "'");
    return st.integer(0);
}

Status addToFeatureList(store::Database &db, int64_t listId, int64_t saeId, int64_t feature)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "INSERT OR IGNORE INTO feature_list_items(list_id, sae_id, feature) VALUES(?1, ?2, "
            "?3)"));
    st.bind(0, listId).bind(1, saeId).bind(2, feature);
    return st.run();
}

Status removeFromFeatureList(store::Database &db, int64_t listId, int64_t saeId, int64_t feature)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "DELETE FROM feature_list_items WHERE list_id = ?1 AND sae_id = ?2 AND feature = ?3"));
    st.bind(0, listId).bind(1, saeId).bind(2, feature);
    return st.run();
}

Result<std::vector<int64_t>> featureListItems(store::Database &db, int64_t listId, int64_t saeId)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT feature FROM feature_list_items WHERE list_id = ?1 AND sae_id = ?2 ORDER BY "
            "added_at, feature"));
    st.bind(0, listId).bind(1, saeId);
    return integers(st);
}

Result<std::vector<int64_t>> listsContaining(store::Database &db, int64_t saeId, int64_t feature)
{
    Statement st;
    FS_TRY(st,
        Statement::prepare(db,
            "SELECT list_id FROM feature_list_items WHERE sae_id = ?1 AND feature = ?2 ORDER BY "
            "list_id"));
    st.bind(0, saeId).bind(1, feature);
    return integers(st);
}

} // namespace fscope::core::store
