// featurescope-cli fetch: downloads a Hub repository (or an SAE folder of one) into the
// Hugging Face cache and prints the snapshot path the loaders open.

#include "app/cli/commands.h"
#include "app/cli/options.h"

#include "core/hub/hub_client.h"
#include "core/jobs/terminal_progress.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace fscope::cli {

int runFetch(const Args &args)
{
    const Options o(args, { "revision" }, { "json", "verify" });
    if (!o.ok())
        return fail(o.error());
    if (o.positional().size() != 1)
        return fail("usage: featurescope-cli fetch org/name[@rev] | hf://org/repo/path[@rev] "
                    "[--revision R] "
                    "[--verify] [--json]");
    auto ref = core::hub::parseRepoRef(o.positional()[0]);
    if (!ref)
        return fail(ref.errorMessage());
    if (o.has("revision"))
        ref->revision = o.value("revision");
    core::hub::HubClient client;
    core::hub::FetchOptions options;
    options.verify = o.has("verify");
    core::jobs::TerminalProgress progress("bytes");
    auto snapshot = client.fetch(*ref, &progress, options);
    progress.finish();
    if (!snapshot)
        return fail(snapshot.errorMessage());
    if (o.has("json")) {
        std::printf("%s\n",
            nlohmann::json { { "repo", snapshot->repo }, { "commit", snapshot->commit },
                { "path", snapshot->path }, { "files", snapshot->files },
                { "bytes_downloaded", snapshot->bytesDownloaded },
                { "bytes_reused", snapshot->bytesReused }, { "from_cache", snapshot->fromCache } }
                .dump()
                .c_str());
        return 0;
    }
    std::printf("%s\n", snapshot->path.c_str());
    std::fprintf(stderr,
        "%zu files of %s at %s: %.1f MB downloaded, %.1f MB already in the cache%s\n",
        snapshot->files.size(), snapshot->repo.c_str(), snapshot->commit.c_str(),
        double(snapshot->bytesDownloaded) / 1e6, double(snapshot->bytesReused) / 1e6,
        snapshot->fromCache ? " (offline: from the cache)" : "");
    return 0;
}

} // namespace fscope::cli
