#include "core/hub/hub_settings.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace fscope::core::hub {
namespace {

std::string env(const char *name)
{
    const char *v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

bool truthy(const std::string &v)
{
    std::string u = v;
    std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return std::toupper(c); });
    return u == "1" || u == "ON" || u == "YES" || u == "TRUE";
}

std::string trimmed(std::string s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
        ++i;
    return s.substr(i);
}

bool validPart(const std::string &p)
{
    if (p.empty() || p == "." || p == "..")
        return false;
    return std::all_of(p.begin(), p.end(),
        [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

} // namespace

HubSettings settingsFromEnvironment()
{
    HubSettings s;
    if (std::string e = env("HF_ENDPOINT"); !e.empty()) {
        while (!e.empty() && e.back() == '/')
            e.pop_back();
        s.endpoint = e;
    }
    std::string home = env("HF_HOME");
    if (home.empty()) {
        const std::string xdg = env("XDG_CACHE_HOME");
        home = (xdg.empty() ? env("HOME") + "/.cache" : xdg) + "/huggingface";
    }
    s.cacheDir = env("HF_HUB_CACHE");
    if (s.cacheDir.empty())
        s.cacheDir = env("HUGGINGFACE_HUB_CACHE");
    if (s.cacheDir.empty())
        s.cacheDir = home + "/hub";
    // Token order (huggingface_hub _auth): HF_TOKEN, the legacy name, then the token file.
    s.token = trimmed(env("HF_TOKEN"));
    if (s.token.empty())
        s.token = trimmed(env("HUGGING_FACE_HUB_TOKEN"));
    if (s.token.empty()) {
        std::string path = env("HF_TOKEN_PATH");
        if (path.empty())
            path = home + "/token";
        std::ifstream in(path);
        if (in) {
            std::string line;
            std::getline(in, line);
            s.token = trimmed(line);
        }
    }
    s.offline = truthy(env("HF_HUB_OFFLINE")) || truthy(env("TRANSFORMERS_OFFLINE"));
    return s;
}

bool looksLikeRepoName(const std::string &text)
{
    if (text.rfind("hf://", 0) == 0)
        return true;
    std::error_code ec;
    if (text.empty() || text[0] == '/' || text[0] == '.' || text[0] == '~' || fs::exists(text, ec))
        return false;
    const std::string name = text.substr(0, text.find('@'));
    return std::count(name.begin(), name.end(), '/') == 1
        && validPart(name.substr(0, name.find('/'))) && validPart(name.substr(name.find('/') + 1));
}

Result<RepoRef> parseRepoRef(const std::string &text)
{
    const Error bad { "'" + text
        + "' is not a repository name (org/name[@revision] or hf://org/repo/path[@revision])" };
    RepoRef r;
    std::string rest = text;
    const bool url = rest.rfind("hf://", 0) == 0;
    if (url)
        rest = rest.substr(5);
    if (const size_t at = rest.rfind('@'); at != std::string::npos) {
        r.revision = rest.substr(at + 1);
        rest = rest.substr(0, at);
        if (r.revision.empty())
            return bad;
    }
    const size_t slash = rest.find('/');
    if (slash == std::string::npos)
        return bad;
    const size_t second = rest.find('/', slash + 1);
    r.repo = rest.substr(0, second);
    if (second != std::string::npos) {
        if (!url)
            return bad;
        r.path = rest.substr(second + 1);
        while (!r.path.empty() && r.path.back() == '/')
            r.path.pop_back();
        if (r.path.find("..") != std::string::npos)
            return bad;
    }
    if (!validPart(r.repo.substr(0, slash)) || !validPart(r.repo.substr(slash + 1)))
        return bad;
    return r;
}

std::string repoFolderName(const std::string &repo)
{
    std::string out = "models--";
    for (char c : repo)
        out += c == '/' ? std::string("--") : std::string(1, c);
    return out;
}

} // namespace fscope::core::hub
