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

} // namespace fscope::cli
