#include "core/demo/demo_workspace.h"

#include "core/store/index_store.h"

namespace fscope::core::demo {

index::IndexRequest demoIndexRequest(
    const DemoAssets &a, const std::string &device, const std::string &dtype)
{
    index::IndexRequest r;
    r.model = a.model;
    r.device = device;
    r.dtype = dtype;
    for (const auto &s : a.saes)
        r.saes.push_back(s.path);
    r.corpus.paths = { a.corpus };
    r.corpus.contextLength = a.contextLength;
    r.corpus.tokenBudget = 1'000'000; // more than the sample holds: all of it
    r.corpus.split = corpus::Split::Lines;
    r.options.batchContexts = 16;
    return r;
}

Result<int> applyDemoLabels(
    store::Database &db, const DemoAssets &a, const std::vector<int64_t> &indexIds)
{
    if (indexIds.size() != a.saes.size())
        return Error { "the demo index job returned " + std::to_string(indexIds.size())
            + " indexes for " + std::to_string(a.saes.size()) + " SAEs" };
    int written = 0;
    for (const auto &l : a.labels) {
        size_t i = 0;
        while (i < a.saes.size() && a.saes[i].name != l.sae)
            ++i;
        if (i == a.saes.size())
            return fileError(
                a.manifest, "a label names SAE '" + l.sae + "', which the manifest does not list");
        auto info = store::indexInfo(db, indexIds[i]);
        if (!info)
            return info.error();
        auto existing = store::label(db, info->saeId, l.feature);
        if (!existing)
            return existing.error();
        if (!existing->first.empty())
            continue;
        if (auto s = store::setLabel(db, info->saeId, l.feature, l.label, existing->second); !s)
            return s.error();
        ++written;
    }
    return written;
}

Result<DemoWorkspace> populateDemoWorkspace(store::Database &db, const DemoAssets &assets,
    jobs::Progress *progress, const std::string &device, const std::string &dtype)
{
    index::IndexJobResult r;
    FS_TRY(r, index::runIndexJob(db, demoIndexRequest(assets, device, dtype), progress));
    DemoWorkspace out;
    FS_TRY(out.labelsWritten, applyDemoLabels(db, assets, r.outcome.indexIds));
    out.indexIds = r.outcome.indexIds;
    out.outcome = r.outcome;
    out.summary = "Demo ready: " + std::to_string(r.outcome.tokens) + " tokens indexed for "
        + std::to_string(assets.saes.size()) + " SAEs"
        + (r.outcome.batchesRun == 0 ? " (from the workspace)" : "");
    return out;
}

} // namespace fscope::core::demo
