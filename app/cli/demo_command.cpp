// featurescope-cli demo: builds (or finds) the demo workspace in the user's cache directory —
// the demo corpus indexed for every demo SAE, with the demo's feature labels — and says where
// it is. Afterwards `demo` works as a workspace name in every command.

#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/options.h"

#include "core/demo/demo_workspace.h"
#include "core/jobs/terminal_progress.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

namespace fscope::cli {

int runDemo(const Args &args)
{
    const Options o(args, { "device" }, { "json" });
    if (!o.ok())
        return fail(o.error());
    auto assets = core::demo::locateDemo();
    if (!assets)
        return fail(assets.errorMessage());
    const std::string path = workspacePath("demo");
    auto db = core::store::Database::open(path);
    if (!db)
        return fail(db.errorMessage());
    const auto t0 = std::chrono::steady_clock::now();
    core::jobs::TerminalProgress progress("tokens");
    auto demo
        = core::demo::populateDemoWorkspace(**db, *assets, &progress, o.value("device", "auto"));
    progress.finish();
    if (!demo)
        return fail(demo.errorMessage());
    const core::index::IndexOutcome *r = &demo->outcome;
    const int *labels = &demo->labelsWritten;
    const double seconds
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.has("json")) {
        std::printf("%s\n",
            nlohmann::json { { "workspace", path }, { "assets", assets->root },
                { "index_ids", r->indexIds }, { "tokens", r->tokens },
                { "batches_run", r->batchesRun }, { "labels_written", *labels },
                { "seconds", seconds } }
                .dump()
                .c_str());
        return 0;
    }
    std::printf(
        "demo workspace %s: %lld tokens indexed for %zu SAEs (%s) in %.1f s; %d labels added\n",
        path.c_str(), static_cast<long long>(r->tokens), r->indexIds.size(),
        r->batchesRun == 0 ? "from the cache" : "computed", seconds, *labels);
    std::printf("try: featurescope-cli feature demo --sae demo:1 --id 0\n");
    return 0;
}

} // namespace fscope::cli
