#include "core/interp/explanation_records.h"

#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

namespace fscope::core::interp {

using nlohmann::json;

namespace {

std::string text(const json &r, const char *name)
{
    const auto it = r.find(name);
    if (it == r.end())
        return {};
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_number_integer())
        return it->is_number_unsigned() ? std::to_string(it->get<uint64_t>())
                                        : std::to_string(it->get<int64_t>());
    return {};
}

Result<ExplanationRecord> record(const json &r, const std::string &path, const std::string &where)
{
    if (!r.is_object())
        return fileError(path, where + " is not a JSON object");
    ExplanationRecord e;
    e.where = where;
    e.index = text(r, "index");
    e.description = text(r, "description");
    if (e.index.empty() || e.description.empty())
        return fileError(path, where + " needs \"index\" and \"description\"");
    // Digits only: " 5" or "+5" would parse too, but would key the same feature differently.
    e.feature = -1;
    if (e.index.size() <= 18 && e.index.find_first_not_of("0123456789") == std::string::npos)
        e.feature = std::stoll(e.index);
    if (e.feature < 0)
        return fileError(path, where + ": \"index\" '" + e.index + "' is not a feature id");
    e.modelId = text(r, "modelId");
    e.layer = text(r, "layer");
    e.typeName = text(r, "typeName");
    e.llm = text(r, "explanationModelName");
    return e;
}

} // namespace

Result<std::vector<ExplanationRecord>> parseExplanationRecords(
    std::string_view content, const std::string &path)
{
    std::vector<ExplanationRecord> out;
    const size_t first = content.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && content[first] == '[') {
        json all;
        FS_TRY(all, parseJson(content, path));
        if (!all.is_array())
            return fileError(path, "not a JSON array of records");
        for (size_t i = 0; i < all.size(); ++i) {
            ExplanationRecord e;
            FS_TRY(e, record(all[i], path, "record " + std::to_string(i + 1)));
            out.push_back(std::move(e));
        }
        return out;
    }
    int64_t line = 0;
    for (size_t at = 0; at < content.size();) {
        const size_t end = std::min(content.find('\n', at), content.size());
        ++line;
        const std::string_view row = content.substr(at, end - at);
        at = end + 1;
        if (row.find_first_not_of(" \t\r") == std::string_view::npos)
            continue;
        const std::string where = "line " + std::to_string(line);
        if (auto deep = checkJsonDepth(row, path + " " + where); !deep)
            return deep.error();
        const json r = json::parse(row, nullptr, false);
        if (r.is_discarded())
            return fileError(path, where + " is not a JSON object");
        ExplanationRecord e;
        FS_TRY(e, record(r, path, where));
        out.push_back(std::move(e));
    }
    return out;
}

} // namespace fscope::core::interp
