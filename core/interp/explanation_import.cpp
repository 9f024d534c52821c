#include "core/interp/explanation_import.h"

#include "core/interp/explanation_records.h"
#include "core/store/fingerprint.h"
#include "core/store/interp_store.h"

#include <zlib.h>

namespace fscope::core::interp {

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
        if (out.size() > (size_t(4) << 30)) {
            gzclose(f);
            return fileError(path, "larger than 4 GiB uncompressed; refused");
        }
    }
    gzclose(f);
    return out;
}

} // namespace

Result<ImportOutcome> importExplanations(store::Database &db, int64_t saeId,
    const std::string &saeFingerprint, int64_t dSae, const std::string &path,
    const ImportFilter &filter)
{
    std::string content;
    FS_TRY(content, readMaybeGzip(path));
    std::vector<ExplanationRecord> records;
    FS_TRY(records, parseExplanationRecords(content, path));
    ImportOutcome out;
    Status written = db.transaction([&]() -> Status {
        for (const ExplanationRecord &r : records) {
            if (r.feature >= dSae || (!filter.modelId.empty() && r.modelId != filter.modelId)
                || (!filter.layer.empty() && r.layer != filter.layer)) {
                ++out.skipped;
                continue;
            }
            store::StoredExplanation e;
            e.saeId = saeId;
            e.feature = r.feature;
            e.explanation = r.description;
            e.origin = "neuronpedia" + (r.typeName.empty() ? std::string() : ":" + r.typeName);
            e.llm = r.llm;
            e.templateVersion = "import";
            e.key = store::combineFingerprints(
                { "import-v1", saeFingerprint, r.index, r.description, e.origin, e.llm });
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
