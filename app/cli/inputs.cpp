#include "app/cli/inputs.h"

#include "core/corpus/corpus.h"
#include "core/demo/demo_paths.h"

#include <filesystem>

namespace fscope::cli {

std::string workspacePath(const std::string &arg)
{
    if (arg != "demo")
        return arg;
    const std::string path = core::demo::demoWorkspacePath();
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    return path;
}

core::Result<std::unique_ptr<core::store::Database>> openExistingWorkspace(const std::string &arg)
{
    const std::string path = workspacePath(arg);
    if (!std::filesystem::exists(path))
        return core::Error{path + ": no such workspace"};
    return core::store::Database::open(path);
}

core::Result<std::unique_ptr<core::store::Database>> optionalWorkspace(const Options &o)
{
    if (!o.has("workspace"))
        return std::unique_ptr<core::store::Database>();
    return core::store::Database::open(workspacePath(o.value("workspace")));
}

core::Result<at::Tensor> textContexts(const Options &o, const std::string &modelPath, const core::tokenize::Tokenizer &tokenizer,
                                      const std::string &defaultTokens)
{
    std::string tokFp;
    FS_TRY(tokFp, core::corpus::fingerprintTokenizer(modelPath));
    core::corpus::CorpusSpec spec;
    spec.paths = {o.value("text")};
    spec.contextLength = o.integer("context", 64);
    FS_TRY(spec.tokenBudget, core::corpus::parseTokenCount(o.value("tokens", defaultTokens)));
    core::corpus::Corpus c;
    FS_TRY(c, core::corpus::buildCorpus(spec, tokenizer, tokFp));
    return at::tensor(std::vector<int64_t>(c.ids.begin(), c.ids.end()), at::kLong).reshape({c.contexts(), c.contextLength});
}

core::Result<core::analysis::IndexInfo> findIndex(core::store::Database &db, const std::string &spec)
{
    std::string sae = spec;
    if (core::demo::isDemoName(spec) && !std::filesystem::exists(spec))
        FS_TRY(sae, core::demo::resolveDemoSae(spec));
    std::vector<core::analysis::IndexInfo> all;
    FS_TRY(all, core::analysis::listIndexes(db));
    std::error_code ec;
    const std::string canonical = std::filesystem::weakly_canonical(sae, ec).string();
    for (const auto &info : all) {
        if (info.status != "done")
            continue;
        const bool byId = !sae.empty() && sae.find_first_not_of("0123456789") == std::string::npos && std::stoll(sae) == info.id;
        const bool byPath = info.saePath == sae || (!canonical.empty() && std::filesystem::weakly_canonical(info.saePath, ec).string() == canonical);
        if (byId || byPath || info.saeLabel == sae || info.hook == sae)
            return info;
    }
    std::string known;
    for (const auto &info : all)
        known += "\n  " + std::to_string(info.id) + "  " + info.saeLabel + "  " + info.hook + "  [" + info.status + "]";
    return core::fileError(db.path(), "no finished index for SAE '" + sae + "'" + (known.empty() ? " (the workspace has no index)" : "; indexes:" + known));
}

} // namespace fscope::cli
