#include "core/sae/itda_similarity.h"

#include "core/sae/itda.h"
#include "core/util/json_file.h"

#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace fscope::core::sae {

Result<ItdaSimilarity> compareItda(const std::vector<std::string> &dirs, jobs::Progress *progress)
{
    if (dirs.size() < 2)
        return Error { "comparing ITDA dictionaries needs two or more folders" };
    ItdaSimilarity out;
    std::vector<std::set<ItdaOrigin>> sets;
    if (progress)
        progress->begin(static_cast<int64_t>(dirs.size()), "Reading ITDA dictionaries");
    for (const auto &dir : dirs) {
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        const std::string cfgFile = (fs::path(dir) / "cfg.json").string();
        nlohmann::json cfg;
        FS_TRY(cfg, readJsonFile(cfgFile));
        if (cfg.value("architecture", std::string()) != "itda")
            return fileError(cfgFile,
                "not an ITDA dictionary (architecture '" + cfg.value("architecture", std::string())
                    + "'; build one with featurescope-cli itda build)");
        std::vector<ItdaOrigin> origins;
        FS_TRY(origins, readItdaOrigins(dir));
        const std::string hook = cfg.value("hook_name", std::string());
        const std::string model = cfg.value("model_name", std::string());
        std::string label = hook.empty() ? fs::path(dir).filename().string() : hook;
        if (!model.empty())
            label += " (" + fs::path(model).filename().string() + ")";
        out.dirs.push_back(dir);
        out.labels.push_back(label);
        out.atoms.push_back(static_cast<int64_t>(origins.size()));
        out.corpora.push_back(cfg.value("corpus_fingerprint", std::string()));
        sets.emplace_back(origins.begin(), origins.end());
        if (progress)
            progress->advance();
    }
    const size_t n = sets.size();
    out.jaccard.assign(n, std::vector<double>(n, 1.0));
    for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < n; ++j) {
            out.jaccard[i][j] = out.jaccard[j][i] = originJaccard(sets[i], sets[j]);
            if (!out.corpora[i].empty() && !out.corpora[j].empty()
                && out.corpora[i] != out.corpora[j])
                out.differentCorpora.emplace_back(static_cast<int>(i), static_cast<int>(j));
        }
    return out;
}

} // namespace fscope::core::sae
