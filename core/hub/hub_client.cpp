#include "core/hub/hub_client.h"

#include "core/net/http.h"
#include "core/store/fingerprint.h"
#include "core/store/sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

namespace fs = std::filesystem;

namespace fscope::core::hub {

using net::HttpRequest;
using net::httpRequest;
using net::HttpResponse;

namespace {

bool isHex(const std::string &s, size_t n)
{
    return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c));
    });
}

// Percent-encodes everything but unreserved characters (and '/' when `keepSlash`): revisions
// such as refs/pr/3 become one path segment, file paths keep their folders.
std::string encode(const std::string &s, bool keepSlash)
{
    static const char *hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
            || (keepSlash && c == '/'))
            out += char(c);
        else
            out += std::string("%") + hex[c >> 4] + hex[c & 15];
    }
    return out;
}

// scheme://host[:port] of a URL.
std::string origin(const std::string &url)
{
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos)
        return {};
    const size_t path = url.find('/', scheme + 3);
    return url.substr(0, path);
}

std::string stripEtag(std::string e)
{
    if (e.rfind("W/", 0) == 0)
        e = e.substr(2);
    e.erase(std::remove(e.begin(), e.end(), '"'), e.end());
    return e;
}

std::string megabytes(double bytes)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
    return text;
}

int64_t fileSize(const fs::path &p)
{
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? -1 : int64_t(n);
}

// SHA-256 on its own thread, fed the chunks a download writes: hashing (about 250 MB/s on a
// core without SHA instructions) overlaps the transfer instead of adding its time to it. The
// queue is bounded, so a fast network waits for the hash rather than filling memory.
class BackgroundSha256 {
public:
    BackgroundSha256()
        : m_thread([this] { run(); })
    {
    }
    ~BackgroundSha256() { stop(); }
    void update(const char *data, size_t n)
    {
        std::unique_lock lock(m_mutex);
        m_space.wait(lock, [&] { return m_queuedBytes < kMaxQueued; });
        m_queue.emplace_back(data, n);
        m_queuedBytes += n;
        m_ready.notify_one();
    }
    std::string hexDigest()
    {
        stop();
        return m_hash.hexDigest();
    }

private:
    void run()
    {
        for (;;) {
            std::string chunk;
            {
                std::unique_lock lock(m_mutex);
                m_ready.wait(lock, [&] { return !m_queue.empty() || m_done; });
                if (m_queue.empty())
                    return;
                chunk = std::move(m_queue.front());
                m_queue.pop_front();
                m_queuedBytes -= chunk.size();
            }
            m_space.notify_one();
            m_hash.update(chunk.data(), chunk.size());
        }
    }
    void stop()
    {
        {
            std::lock_guard lock(m_mutex);
            m_done = true;
        }
        m_ready.notify_one();
        if (m_thread.joinable())
            m_thread.join();
    }
    static constexpr size_t kMaxQueued = size_t(64) << 20;
    std::mutex m_mutex;
    std::condition_variable m_ready, m_space;
    std::deque<std::string> m_queue;
    size_t m_queuedBytes = 0;
    bool m_done = false;
    store::Sha256 m_hash;
    std::thread m_thread; // last: it starts once the members it uses exist
};

// Hashes the first `bytes` bytes of a file into `hasher`.
bool hashPrefix(const fs::path &p, int64_t bytes, BackgroundSha256 &hasher)
{
    std::ifstream in(p, std::ios::binary);
    std::vector<char> buffer(1 << 20);
    while (in && bytes > 0) {
        in.read(buffer.data(), std::min<std::streamsize>(std::streamsize(buffer.size()), bytes));
        hasher.update(buffer.data(), static_cast<size_t>(in.gcount()));
        bytes -= in.gcount();
    }
    return bytes == 0;
}

// A file already in the cache is taken when it has the expected size (-1: unknown), and, when
// asked to verify and the content hash is known, that sha256.
bool intact(const fs::path &p, int64_t size, const std::string &sha256, bool verify)
{
    const int64_t have = fileSize(p);
    if (have < 0 || (size >= 0 && have != size))
        return false;
    if (!verify || sha256.empty())
        return true;
    auto digest = store::fingerprintFile(p.string());
    return digest && *digest == sha256;
}

// What an HTTP status means for this repository, in words that say what to do
// (huggingface_hub utils/_http.py: gated repositories answer 401 without a token and 403
// with one that has not been granted access).
Error statusError(long status, const HttpResponse &r, const HubSettings &s, const std::string &repo,
    const std::string &revision, const std::string &file)
{
    const std::string page = s.endpoint + "/" + repo;
    const std::string what
        = file.empty() ? repo + "@" + revision : file + " in " + repo + "@" + revision;
    const std::string message = r.header("x-error-message");
    if (status == 401)
        return Error { what
            + ": the Hub wants a login (HTTP 401): the repository is gated or private, or does not "
              "exist. "
            + (s.token.empty() ? "Accept its licence on " + page
                        + " and set HF_TOKEN (or run `huggingface-cli login`)."
                               : "The token was refused: check HF_TOKEN or the token file.") };
    if (status == 403)
        return Error { what + ": access denied (HTTP 403)"
            + (message.empty() ? std::string() : " (" + message + ")")
            + ". For a gated repository, accept its licence on " + page
            + " with the account of your token and wait for approval; or use a token with read "
              "access." };
    if (status == 404)
        return Error { what + ": not found on " + s.endpoint
            + " (HTTP 404): check the repository name"
            + (file.empty() ? std::string() : ", the file path") + " and the revision." };
    if (status == 429)
        return Error { what
            + ": the Hub is rate-limiting requests (HTTP 429); try again in a minute." };
    return Error { what + ": HTTP " + std::to_string(status)
        + (message.empty() ? std::string() : " (" + message + ")") };
}

} // namespace

bool skippedFile(const std::string &path)
{
    static const std::vector<std::string> endings
        = { ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".msgpack", ".h5", ".ot", ".onnx",
              ".onnx_data", ".gguf", ".tflite", ".mlmodel" };
    for (const auto &e : endings)
        if (path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0)
            return true;
    return path.find("/.git") != std::string::npos || path.rfind(".git", 0) == 0;
}

HubClient::HubClient(HubSettings settings)
    : m_settings(std::move(settings))
{
}

std::string HubClient::repoDir(const std::string &repo) const
{
    return (fs::path(m_settings.cacheDir) / repoFolderName(repo)).string();
}

std::vector<std::string> HubClient::authHeaders(const std::string &url) const
{
    // The token goes to the configured endpoint only, never to the CDN a file redirects to.
    if (m_settings.token.empty() || origin(url) != origin(m_settings.endpoint))
        return {};
    return { "Authorization: Bearer " + m_settings.token };
}

Result<RepoListing> HubClient::listFromCache(
    const std::string &repo, const std::string &revision, const std::string &why)
{
    const fs::path dir = repoDir(repo);
    std::string commit = revision;
    if (!isHex(revision, 40)) {
        std::ifstream ref(dir / "refs" / revision);
        if (!ref || !std::getline(ref, commit))
            return Error { repo + "@" + revision + " is not in the Hugging Face cache ("
                + m_settings.cacheDir + ") and " + why
                + ": fetch it once with the network (featurescope-cli fetch " + repo + ")" };
    }
    const fs::path snapshot = dir / "snapshots" / commit;
    std::error_code ec;
    if (!fs::is_directory(snapshot, ec))
        return Error { repo + "@" + revision + " (commit " + commit
            + ") has no snapshot in the Hugging Face cache (" + m_settings.cacheDir + ") and "
            + why };
    RepoListing out { repo, revision, commit, {}, true };
    for (auto it = fs::recursive_directory_iterator(snapshot, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (fs::is_regular_file(
                it->path(), ec)) // follows the symlink: a dangling link is not a file
            out.files.push_back({ it->path().lexically_relative(snapshot).generic_string(),
                fileSize(it->path()), {} });
    std::sort(out.files.begin(), out.files.end(),
        [](const HubFile &a, const HubFile &b) { return a.path < b.path; });
    return out;
}

Result<RepoListing> HubClient::list(const std::string &repo, const std::string &revision)
{
    if (m_settings.offline)
        return listFromCache(repo, revision, "HF_HUB_OFFLINE is set");
    HttpRequest request;
    request.url = m_settings.endpoint + "/api/models/" + repo + "/revision/"
        + encode(revision, false) + "?blobs=true";
    request.headers = authHeaders(request.url);
    auto response = httpRequest(request);
    if (!response) // no network: what the cache holds, as huggingface_hub does
        return listFromCache(
            repo, revision, "the Hub could not be reached (" + response.errorMessage() + ")");
    if (response->status != 200)
        return statusError(response->status, *response, m_settings, repo, revision, {});
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(response->body);
    } catch (const std::exception &) {
        return Error { request.url + ": the Hub's answer is not JSON" };
    }
    RepoListing out { repo, revision, j.value("sha", std::string()), {}, false };
    if (!isHex(out.commit, 40))
        return Error { request.url + ": the Hub's answer names no commit" };
    for (const auto &s : j.value("siblings", nlohmann::json::array())) {
        HubFile f;
        f.path = s.value("rfilename", std::string());
        f.size = s.value("size", int64_t { -1 });
        if (s.contains("lfs") && s["lfs"].is_object()) {
            f.sha256 = s["lfs"].value("sha256", std::string());
            f.size = s["lfs"].value("size", f.size);
        }
        if (!f.path.empty() && f.path.find("..") == std::string::npos && f.path[0] != '/')
            out.files.push_back(std::move(f));
    }
    return out;
}

Result<Snapshot> HubClient::fetch(
    const RepoRef &ref, jobs::Progress *progress, const FetchOptions &options)
{
    RepoListing listing;
    FS_TRY(listing, list(ref.repo, ref.revision));
    // What is wanted: the folder (or file) the name points at, or the whole repository.
    std::vector<HubFile> wanted;
    bool pickles = false, safetensors = false;
    for (const HubFile &f : listing.files) {
        const bool inside
            = ref.path.empty() || f.path == ref.path || f.path.rfind(ref.path + "/", 0) == 0;
        if (!inside)
            continue;
        if (skippedFile(f.path)) {
            pickles = true;
            continue;
        }
        const std::string ext = fs::path(f.path).extension().string();
        safetensors = safetensors || ext == ".safetensors";
        wanted.push_back(f);
    }
    const std::string name
        = ref.repo + "@" + ref.revision + (ref.path.empty() ? "" : ":" + ref.path);
    if (wanted.empty())
        return Error { name + ": nothing to fetch"
            + (pickles ? " (only pickle or other-framework weights, which are never loaded)" : "")
            + (ref.path.empty() ? "" : "; is the path right?") };
    if (ref.path.empty() && pickles && !safetensors)
        return Error { name
            + ": the repository has weights only as pickles (.bin/.pt), which are never loaded "
              "because unpickling "
              "can run code. Convert them to safetensors (e.g. transformers' save_pretrained(..., "
              "safe_serialization=True), or the Hub's convert space) and fetch that revision." };
    Snapshot snapshot { ref.repo, listing.commit, {}, {}, 0, 0, listing.fromCache };
    const fs::path root = fs::path(repoDir(ref.repo)) / "snapshots" / listing.commit;
    snapshot.path = (ref.path.empty() ? root : root / ref.path).string();
    if (listing.fromCache) {
        for (const HubFile &f : wanted)
            snapshot.files.push_back(f.path);
        return snapshot;
    }
    m_totalBytes = m_doneBytes = 0;
    for (const HubFile &f : wanted)
        m_totalBytes += std::max<int64_t>(0, f.size);
    if (progress)
        progress->begin(m_totalBytes, "Fetching " + name);
    for (const HubFile &f : wanted) {
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        if (auto s = fetchFile(ref.repo, listing.commit, f, snapshot, progress, options); !s)
            return s.error();
        snapshot.files.push_back(f.path);
    }
    // refs/<revision>: the commit a branch or tag named, so offline use finds the snapshot.
    if (ref.revision != listing.commit) {
        const fs::path refFile = fs::path(repoDir(ref.repo)) / "refs" / ref.revision;
        std::error_code ec;
        fs::create_directories(refFile.parent_path(), ec);
        const fs::path tmp = refFile.string() + ".tmp";
        {
            std::ofstream out(tmp, std::ios::trunc);
            out << listing.commit;
            if (!out)
                return fileError(refFile.string(), "cannot write the revision's commit");
        }
        fs::rename(tmp, refFile, ec);
        if (ec)
            return fileError(refFile.string(), ec.message());
    }
    return snapshot;
}

Status HubClient::fetchFile(const std::string &repo, const std::string &commit, const HubFile &file,
    Snapshot &snapshot, jobs::Progress *progress, const FetchOptions &options)
{
    const fs::path dir = repoDir(repo);
    const fs::path link = dir / "snapshots" / commit / file.path;
    std::error_code ec;
    // A file already in this snapshot: checked by size (and by hash when asked).
    if (fs::is_regular_file(link, ec) && intact(link, file.size, file.sha256, options.verify)) {
        snapshot.bytesReused += fileSize(link);
        m_doneBytes += std::max<int64_t>(0, file.size);
        if (progress)
            progress->setDone(m_doneBytes);
        return {};
    }
    // The file's metadata (huggingface_hub get_hf_file_metadata): no redirects followed.
    const std::string resolveUrl
        = m_settings.endpoint + "/" + repo + "/resolve/" + commit + "/" + encode(file.path, true);
    HttpRequest head;
    head.method = "HEAD";
    head.url = resolveUrl;
    head.headers = authHeaders(resolveUrl);
    HttpResponse meta;
    FS_TRY(meta, httpRequest(head));
    if (meta.status >= 400)
        return statusError(meta.status, meta, m_settings, repo, commit, file.path);
    const std::string etag = stripEtag(
        meta.header("x-linked-etag").empty() ? meta.header("etag") : meta.header("x-linked-etag"));
    if (etag.empty() || etag.find('/') != std::string::npos || etag.find("..") != std::string::npos)
        return Error { resolveUrl + ": the Hub gave no usable ETag for the file" };
    int64_t size = file.size;
    if (const std::string linked = meta.header("x-linked-size"); !linked.empty())
        size = std::stoll(linked);
    else if (meta.status < 300 && !meta.header("content-length").empty())
        size = std::stoll(meta.header("content-length"));
    std::string url = resolveUrl;
    if (meta.status >= 300 && meta.status < 400 && !meta.header("location").empty()) {
        url = meta.header("location");
        if (url.rfind("/", 0) == 0)
            url = origin(m_settings.endpoint) + url;
    }
    const std::string sha
        = !file.sha256.empty() ? file.sha256 : (isHex(etag, 64) ? etag : std::string());

    const fs::path blob = dir / "blobs" / etag;
    fs::create_directories(blob.parent_path(), ec);
    if (intact(blob, size, sha, options.verify)) {
        snapshot.bytesReused += fileSize(blob);
        m_doneBytes += std::max<int64_t>(0, size);
    } else {
        fs::remove(blob, ec); // a wrong-size or corrupted blob is fetched again
        const fs::path partial = blob.string() + ".incomplete";
        const auto started = std::chrono::steady_clock::now();
        const int64_t doneBefore = m_doneBytes;
        Status lastError = Error { url + ": download failed" };
        bool complete = false;
        // The sha256 of the partial file, kept as it grows: the bytes already on disk when an
        // attempt starts (a resumed download), then each chunk as it arrives. Only for files
        // whose content hash is known (LFS files).
        std::unique_ptr<BackgroundSha256> hasher;
        for (int attempt = 0; attempt < 6 && !complete; ++attempt) {
            int64_t from = std::max<int64_t>(0, fileSize(partial));
            if (size >= 0 && from > size)
                from = 0; // longer than the file: start again
            if (!sha.empty()) {
                hasher = std::make_unique<BackgroundSha256>();
                if (from > 0 && !hashPrefix(partial, from, *hasher))
                    return fileError(partial.string(), "cannot read the partial download");
            }
            std::FILE *out = std::fopen(partial.c_str(), from > 0 ? "ab" : "wb");
            if (!out)
                return fileError(partial.string(), "cannot write the download");
            std::setvbuf(out, nullptr, _IOFBF, 1 << 20);
            HttpRequest get;
            get.url = url;
            get.headers = authHeaders(url);
            get.sink = out;
            get.rangeFrom = from > 0 ? from : -1;
            if (hasher)
                get.onData = [h = hasher.get()](const char *data, size_t n) { h->update(data, n); };
            auto lastReport = std::chrono::steady_clock::time_point();
            get.onBytes = [&](int64_t received) {
                if (progress) {
                    // Reported ten times a second at most: the callback runs for every buffer.
                    const auto now = std::chrono::steady_clock::now();
                    if (now - lastReport < std::chrono::milliseconds(100))
                        return !progress->cancelled();
                    lastReport = now;
                    const int64_t done = doneBefore + from + received;
                    const double seconds = std::chrono::duration<double>(now - started).count();
                    const double rate
                        = seconds > 0 ? double(done - doneBefore - from) / seconds : 0;
                    std::string message = "Downloading " + file.path + ": "
                        + megabytes(double(done)) + " of " + megabytes(double(m_totalBytes));
                    if (rate > 0) {
                        message += ", " + megabytes(rate) + "/s";
                        if (m_totalBytes > done)
                            message += ", "
                                + std::to_string(int64_t(double(m_totalBytes - done) / rate))
                                + " s left";
                    }
                    progress->setDone(done);
                    progress->setMessage(message);
                    return !progress->cancelled();
                }
                return true;
            };
            auto response = httpRequest(get);
            std::fclose(out);
            if (!response) {
                if (response.errorMessage() == "cancelled")
                    return Error {
                        "cancelled (the partial download is kept and resumes next time)"
                    };
                lastError = response.error(); // dropped: resume from what arrived
                continue;
            }
            if (response->status == 416 && size >= 0 && fileSize(partial) == size) {
                complete = true;
            } else if (response->status >= 400) {
                return statusError(
                    response->status, *response, m_settings, repo, commit, file.path);
            } else if (from > 0 && response->status == 200) {
                fs::remove(partial, ec); // the server ignored the Range: start again
                lastError = Error { url + ": the server does not resume downloads" };
            } else {
                const int64_t got = fileSize(partial);
                complete = size < 0 || got == size;
                if (!complete)
                    lastError = Error { url + ": the transfer ended after " + std::to_string(got)
                        + " of " + std::to_string(size) + " bytes" };
            }
        }
        if (!complete)
            return Error { lastError.errorMessage()
                + " (the partial download is kept and resumes next time)" };
        if (hasher) {
            const std::string digest = hasher->hexDigest();
            if (digest != sha) {
                fs::remove(partial, ec);
                return Error { file.path + " in " + repo
                    + ": the download failed its sha256 check (expected " + sha + ", got " + digest
                    + "); it was deleted, fetch again" };
            }
        }
        fs::rename(partial, blob, ec);
        if (ec)
            return fileError(
                blob.string(), "cannot move the finished download into place: " + ec.message());
        snapshot.bytesDownloaded += fileSize(blob);
        m_doneBytes = doneBefore + std::max<int64_t>(0, size);
    }
    if (progress)
        progress->setDone(m_doneBytes);
    // snapshots/<commit>/<path> -> ../../blobs/<etag>, relative, one more ../ per folder.
    fs::create_directories(link.parent_path(), ec);
    std::string target = "../../blobs/" + etag;
    for (char c : file.path)
        if (c == '/')
            target = "../" + target;
    fs::remove(link, ec);
    fs::create_symlink(target, link, ec);
    if (ec) { // no symlinks here (huggingface_hub's fallback): a copy of the blob
        fs::copy_file(blob, link, fs::copy_options::overwrite_existing, ec);
        if (ec)
            return fileError(
                link.string(), "cannot place the file in the snapshot: " + ec.message());
    }
    return {};
}

} // namespace fscope::core::hub
