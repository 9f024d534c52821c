#pragma once
// Downloads from the Hugging Face Hub into the standard cache layout, so files are shared with
// the Python tools in both directions (huggingface_hub file_download.py / _snapshot_download.py):
//   models--org--name/blobs/<etag>                the file, named by its ETag (LFS: its sha256)
//   models--org--name/snapshots/<commit>/<path>   relative symlinks into blobs/
//   models--org--name/refs/<revision>             the commit a branch or tag pointed to
// A download is written to blobs/<etag>.incomplete and renamed when complete and verified
// (size, and sha256 for LFS files), so a partial file never appears as complete; an
// interrupted one resumes with a Range request, in the same run or the next. Only what is
// needed is fetched: never pickles (a repository that has only .bin/.pt weights is refused
// with the conversion hint), and for an SAE only its folder. The token goes only to the
// configured endpoint, never to a CDN it redirects to, and never into a message.

#include "core/hub/hub_settings.h"
#include "core/jobs/progress.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fscope::core::hub {

struct HubFile {
    std::string path; // inside the repository
    int64_t size = -1; // -1: unknown until the file's HEAD
    std::string sha256; // LFS files: the content hash the download is checked against
};

struct RepoListing {
    std::string repo, revision, commit;
    std::vector<HubFile> files;
    bool fromCache = false; // offline, or the Hub could not be reached: what the cache holds
};

struct Snapshot {
    std::string repo, commit;
    std::string path; // snapshots/<commit>[/folder]: what the loaders open
    std::vector<std::string> files; // fetched paths, inside the repository
    int64_t bytesDownloaded = 0, bytesReused = 0;
    bool fromCache = false;
};

struct FetchOptions {
    // Re-hash every LFS blob already in the cache (a download is always checked; a cache hit
    // is checked by size only unless this is set).
    bool verify = false;
};

class HubClient {
public:
    explicit HubClient(HubSettings settings = settingsFromEnvironment());

    // The files of a revision (the API's listing, or the cache's snapshot when offline).
    Result<RepoListing> list(const std::string &repo, const std::string &revision);
    // Downloads what a loader needs of `ref` (the whole repository, or ref.path's folder or
    // file) and returns the snapshot path that holds it.
    Result<Snapshot> fetch(
        const RepoRef &ref, jobs::Progress *progress = nullptr, const FetchOptions &options = {});

    const HubSettings &settings() const { return m_settings; }

private:
    Result<RepoListing> listFromCache(
        const std::string &repo, const std::string &revision, const std::string &why);
    Status fetchFile(const std::string &repo, const std::string &commit, const HubFile &file,
        Snapshot &snapshot, jobs::Progress *progress, const FetchOptions &options);
    std::vector<std::string> authHeaders(const std::string &url) const;
    std::string repoDir(const std::string &repo) const;

    HubSettings m_settings;
    int64_t m_totalBytes = 0, m_doneBytes = 0; // over one fetch, for progress
};

// Files a loader never needs or must never open (pickles, other frameworks' weights).
bool skippedFile(const std::string &path);

} // namespace fscope::core::hub
