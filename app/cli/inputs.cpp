#include "app/cli/inputs.h"

#include "core/corpus/corpus.h"
#include "core/demo/demo_paths.h"
#include "core/hub/hub_names.h"
#include "core/jobs/terminal_progress.h"

#include <filesystem>
#include <map>

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
        return core::Error { path + ": no such workspace" };
    return core::store::Database::open(path);
}

core::Result<std::unique_ptr<core::store::Database>> optionalWorkspace(const Options &o)
{
    if (!o.has("workspace"))
        return std::unique_ptr<core::store::Database>();
    return core::store::Database::open(workspacePath(o.value("workspace")));
}

core::Result<at::Tensor> textContexts(const Options &o, const std::string &modelPath,
    const core::tokenize::Tokenizer &tokenizer, const std::string &defaultTokens,
    std::string *fingerprint)
{
    std::string tokFp;
    FS_TRY(tokFp, core::store::fingerprintTokenizer(modelPath));
    core::corpus::CorpusSpec spec;
    spec.paths = { o.value("text") };
    spec.contextLength = o.integer("context", 64);
    FS_TRY(spec.tokenBudget, core::corpus::parseTokenCount(o.value("tokens", defaultTokens)));
    core::corpus::Corpus c;
    FS_TRY(c, core::corpus::buildCorpus(spec, tokenizer, tokFp));
    if (fingerprint)
        *fingerprint = c.fingerprint;
    return at::tensor(std::vector<int64_t>(c.ids.begin(), c.ids.end()), at::kLong)
        .reshape({ c.contexts(), c.contextLength });
}

core::Result<std::vector<std::string>> resolveNames(const std::vector<std::string> &args)
{
    using core::demo::NameKind;
    const std::map<std::string, NameKind> kinds
        = { { "--model", NameKind::Model }, { "--sae", NameKind::Sae },
              { "--corpus", NameKind::Corpus }, { "--text", NameKind::Corpus } };
    std::vector<std::string> out = args;
    for (size_t i = 0; i + 1 < out.size(); ++i)
        if (auto k = kinds.find(out[i]); k != kinds.end()) {
            FS_TRY(out[i + 1], core::demo::resolveDemoName(k->second, out[i + 1]));
            if (k->second == NameKind::Corpus)
                continue;
            core::jobs::TerminalProgress progress("bytes");
            FS_TRY(out[i + 1],
                k->second == NameKind::Model ? core::hub::resolveModelName(out[i + 1], &progress)
                                             : core::hub::resolveSaeName(out[i + 1], &progress));
            if (!progress.snapshot().message.empty()) // a download ran
                progress.finish();
        }
    return out;
}

core::Result<core::store::IndexInfo> findIndex(core::store::Database &db, const std::string &spec)
{
    std::string sae = spec;
    if (core::demo::isDemoName(spec) && !std::filesystem::exists(spec))
        FS_TRY(sae, core::demo::resolveDemoSae(spec));
    std::vector<core::store::IndexInfo> all;
    FS_TRY(all, core::store::listIndexes(db));
    std::error_code ec;
    const std::string canonical = std::filesystem::weakly_canonical(sae, ec).string();
    for (const auto &info : all) {
        if (info.status != "done")
            continue;
        const bool byId = !sae.empty() && sae.find_first_not_of("0123456789") == std::string::npos
            && std::stoll(sae) == info.id;
        const bool byPath = info.saePath == sae
            || (!canonical.empty()
                && std::filesystem::weakly_canonical(info.saePath, ec).string() == canonical);
        if (byId || byPath || info.saeLabel == sae || info.hook == sae)
            return info;
    }
    std::string known;
    for (const auto &info : all)
        known += "\n  " + std::to_string(info.id) + "  " + info.saeLabel + "  " + info.hook + "  ["
            + info.status + "]";
    return core::fileError(db.path(),
        "no finished index for SAE '" + sae + "'"
            + (known.empty() ? " (the workspace has no index)" : "; indexes:" + known));
}

} // namespace fscope::cli
