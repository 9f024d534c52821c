#include "core/hub/sae_release.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <tuple>

namespace fscope::core::hub {
namespace {

std::string parentOf(const std::string &path)
{
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

std::string baseName(const std::string &path)
{
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The files that make their folder a dictionary the loaders open (sae_io.cpp, dictionary_io.cpp),
// besides the per-layer files of a set (params_layer_N, W_enc_N).
const std::set<std::string> kMarkers { "params.npz", "params.safetensors", "cfg.json",
    "sae_weights.safetensors", "sae.safetensors", "config.yaml", "itda.safetensors" };

bool marksDictionary(const std::string &name)
{
    static const std::regex layerSet(R"((params_layer|W_enc)_\d+\.safetensors)");
    return kMarkers.count(name) || std::regex_match(name, layerSet);
}

ReleaseEntry describe(const std::string &path, const std::set<std::string> &files)
{
    ReleaseEntry e;
    e.path = path;
    std::smatch m;
    static const std::regex layer(R"((?:^|[/_.])(?:layer|layers|blocks)[_.](\d+))");
    if (std::regex_search(path, m, layer))
        e.layer = std::stoi(m[1]);
    static const std::regex width(R"(width_(\d+[kKmM]?))");
    if (std::regex_search(path, m, width))
        e.width = m[1];
    static const std::regex averageL0(R"(average_l0_(\d+))"), namedL0(R"(l0_([A-Za-z0-9]+))");
    if (std::regex_search(path, m, averageL0) || std::regex_search(path, m, namedL0))
        e.l0 = m[1];
    if (path.find("_affine") != std::string::npos)
        e.variant = "affine";
    // The site: a leading folder that is not itself a layer (Gemma Scope 2's resid_post,
    // transcoder, clt), or what follows the layer in a hook-named folder (SAELens'
    // blocks.8.hook_resid_pre, sparsify's layers.12.mlp).
    static const std::regex hookNamed(R"((?:^|/)(?:blocks|layers)\.\d+\.([A-Za-z0-9_.]+)$)");
    const std::string first = path.substr(0, path.find('/'));
    if (std::regex_search(path, m, hookNamed))
        e.site = m[1];
    else if (path.find('/') != std::string::npos && !std::regex_search(first, layer))
        e.site = first;
    // A folder of per-layer files (a CLT, or circuit-tracer's transcoder set) is one entry;
    // its layers are chosen where it is used (DIR#layer=L).
    const std::string prefix = path.empty() ? std::string() : path + "/";
    if (files.count(prefix + "config.yaml") || files.count(prefix + "params_layer_0.safetensors")
        || files.count(prefix + "W_enc_0.safetensors"))
        e.layer = -1;
    return e;
}

// Widths and L0 labels in their natural order: 16k < 65k < 1m, 22 < 82, small < medium < big.
double magnitude(const std::string &s)
{
    static const std::map<std::string, double> named { { "small", 1 }, { "medium", 2 },
        { "big", 3 } };
    if (auto it = named.find(s); it != named.end())
        return it->second;
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])))
        return 0;
    double v = std::stod(s);
    const char unit = s.back();
    if (unit == 'k' || unit == 'K')
        v *= 1e3;
    else if (unit == 'm' || unit == 'M')
        v *= 1e6;
    return v;
}

} // namespace

SaeRelease releaseFromListing(const RepoListing &listing)
{
    SaeRelease out { listing.repo, listing.revision, listing.commit, {}, listing.fromCache };
    std::set<std::string> files, folders;
    for (const auto &f : listing.files)
        files.insert(f.path);
    for (const auto &f : listing.files)
        if (marksDictionary(baseName(f.path)) && !skippedFile(f.path))
            folders.insert(parentOf(f.path));
    // A model repository's own root (config.json + weights) is not listed: only folders with a
    // dictionary marker are, and a root cfg.json is a single-SAE repository.
    for (const auto &folder : folders) {
        // A folder inside a per-layer set (rare) belongs to the set.
        bool nested = false;
        for (auto p = parentOf(folder); !folder.empty() && !nested; p = parentOf(p)) {
            if (folders.count(p) && files.count((p.empty() ? "" : p + "/") + "config.yaml"))
                nested = true;
            if (p.empty())
                break;
        }
        if (!nested)
            out.entries.push_back(describe(folder, files));
    }
    std::sort(
        out.entries.begin(), out.entries.end(), [](const ReleaseEntry &a, const ReleaseEntry &b) {
            return std::make_tuple(a.site, a.layer, magnitude(a.width), a.width, magnitude(a.l0),
                       a.l0, a.variant, a.path)
                < std::make_tuple(b.site, b.layer, magnitude(b.width), b.width, magnitude(b.l0),
                    b.l0, b.variant, b.path);
        });
    return out;
}

Result<SaeRelease> listRelease(const std::string &repoAndRevision, const HubSettings &settings)
{
    std::string text = repoAndRevision;
    if (text.rfind("hf://", 0) == 0)
        text = text.substr(5);
    RepoRef ref;
    FS_TRY(ref, parseRepoRef(text));
    if (!ref.path.empty())
        return Error { repoAndRevision
            + ": a release is a whole repository (org/name[@revision]), not a folder in one" };
    RepoListing listing;
    FS_TRY(listing, HubClient(settings).list(ref.repo, ref.revision));
    SaeRelease release = releaseFromListing(listing);
    if (release.entries.empty()) {
        std::string sought, seen;
        for (const auto &m : kMarkers)
            sought += m + ", ";
        for (size_t i = 0; i < listing.files.size() && i < 8; ++i)
            seen += (i ? ", " : "") + listing.files[i].path;
        return Error { ref.repo + "@" + ref.revision + " holds no SAE folder (looked for " + sought
            + "params_layer_N.safetensors, W_enc_N.safetensors; found "
            + (seen.empty() ? std::string("no files") : seen)
            + (listing.files.size() > 8 ? ", ..." : "") + ")" };
    }
    return release;
}

std::string releaseEntryName(const SaeRelease &release, const ReleaseEntry &entry)
{
    std::string name = "hf://" + release.repo;
    if (!entry.path.empty())
        name += "/" + entry.path;
    if (!release.revision.empty() && release.revision != "main")
        name += "@" + release.revision;
    return name;
}

std::vector<ReleaseEntry> filterRelease(const SaeRelease &release, const std::string &site,
    int layer, const std::string &width, const std::string &l0)
{
    std::vector<ReleaseEntry> out;
    for (const auto &e : release.entries)
        if ((site.empty() || e.site == site) && (layer < 0 || e.layer == layer)
            && (width.empty() || e.width == width) && (l0.empty() || e.l0 == l0))
            out.push_back(e);
    return out;
}

} // namespace fscope::core::hub
