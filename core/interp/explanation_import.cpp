#include "core/interp/explanation_import.h"

#include "core/store/fingerprint.h"
#include "core/store/interp_store.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

namespace fscope::core::interp {

using nlohmann::json;

namespace {

// The whole file, gunzipped when it is gzip (zlib reads plain files unchanged).
Result<std::string> readMaybeGzip(const std::string &path)
{
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f)
        return fileError(path, "cannot open the file");
    std::string out;
    char buffer[1 << 16];
    for (;;) {
        const int n = gzread(f, buffer, sizeof buffer);
        if (n < 0) {
            gzclose(f);
            return fileError(path, "cannot read the file (a damaged gzip stream?)");
        }
        if (n == 0)
            break;
        out.append(buffer, size_t(n));
        if (out.size() > (size_t(4) << 30))
            return fileError(path, "larger than 4 GiB uncompressed");
    }
    gzclose(f);
    return out;
}

std::string text(const json &r, const char *name)
{
    if (!r.contains(name))
        return {};
    if (r[name].is_string())
        return r[name].get<std::string>();
    if (r[name].is_number_integer())
        return std::to_string(r[name].get<int64_t>());
    return {};
}

} // namespace

Result<ImportOutcome> importExplanations(store::Database &db, int64_t saeId,
    const std::string &saeFingerprint, int64_t dSae, const std::string &path,
    const ImportFilter &filter)
{
    std::string content;
    FS_TRY(content, readMaybeGzip(path));
    std::vector<std::pair<std::string, json>> records; // (where, record)
    size_t first = content.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && content[first] == '[') {
        json all;
        try {
            all = json::parse(content);
        } catch (const json::exception &e) {
            return fileError(path, std::string("not valid JSON: ") + e.what());
        }
        for (size_t i = 0; i < all.size(); ++i)
            records.emplace_back("record " + std::to_string(i + 1), all[i]);
    } else {
        size_t at = 0;
        int64_t line = 0;
        while (at < content.size()) {
            const size_t end = std::min(content.find('\n', at), content.size());
            ++line;
            const std::string row = content.substr(at, end - at);
            at = end + 1;
            if (row.find_first_not_of(" \t\r") == std::string::npos)
                continue;
            try {
                records.emplace_back("line " + std::to_string(line), json::parse(row));
            } catch (const json::exception &) {
                return fileError(path, "line " + std::to_string(line) + " is not a JSON object");
            }
        }
    }
    ImportOutcome out;
    Status written = db.transaction([&]() -> Status {
        for (const auto &[where, r] : records) {
            if (!r.is_object())
                return fileError(path, where + " is not a JSON object");
            const std::string index = text(r, "index"), description = text(r, "description");
            if (index.empty() || description.empty())
                return fileError(path, where + " needs \"index\" and \"description\"");
            int64_t feature = -1;
            try {
                size_t used = 0;
                feature = std::stoll(index, &used);
                if (used != index.size())
                    feature = -1;
            } catch (const std::exception &) {
            }
            if (feature < 0)
                return fileError(path, where + ": \"index\" '" + index + "' is not a feature id");
            if (feature >= dSae || (!filter.modelId.empty() && text(r, "modelId") != filter.modelId)
                || (!filter.layer.empty() && text(r, "layer") != filter.layer)) {
                ++out.skipped;
                continue;
            }
            const std::string type = text(r, "typeName");
            store::StoredExplanation e;
            e.saeId = saeId;
            e.feature = feature;
            e.explanation = description;
            e.origin = "neuronpedia" + (type.empty() ? std::string() : ":" + type);
            e.llm = text(r, "explanationModelName");
            e.templateVersion = "import";
            e.key = store::combineFingerprints(
                { "import-v1", saeFingerprint, index, description, e.origin, e.llm });
            std::optional<store::StoredExplanation> existing;
            FS_TRY(existing, store::explanationByKey(db, e.key));
            if (existing) {
                ++out.unchanged;
                continue;
            }
            if (auto stored = store::storeExplanation(db, e); !stored)
                return stored.error();
            ++out.imported;
        }
        return {};
    });
    if (!written)
        return written.error();
    return out;
}

} // namespace fscope::core::interp
