#pragma once
// Inputs several subcommands read the same way.

#include "app/cli/options.h"

#include "core/store/database.h"
#include "core/store/index_store.h"
#include "core/tokenize/tokenizer.h"

#include <ATen/ATen.h>

#include <memory>

namespace fscope::cli {

// The command line with the names researchers type replaced by real paths, the one place the
// CLI resolves them: the demo's ("--model demo", "--sae demo:2", "--corpus demo", "--text
// demo") and the Hub's ("--model org/name[@rev]" when not already in the Hugging Face cache,
// "--sae hf://org/repo/path[@rev]"), fetched into the cache with progress on stderr.
core::Result<std::vector<std::string>> resolveNames(const std::vector<std::string> &args);

// A workspace argument: "demo" is the demo workspace in the user's cache directory.
std::string workspacePath(const std::string &arg);

// The index a --sae argument names: an index id, an SAE path or label, or a hook name; the
// newest finished one when several match.
core::Result<core::store::IndexInfo> findIndex(core::store::Database &db, const std::string &spec);

// The workspace a WORKSPACE argument names (see workspacePath), which must exist already.
core::Result<std::unique_ptr<core::store::Database>> openExistingWorkspace(const std::string &arg);

// The workspace named by --workspace, or null when the option is absent.
core::Result<std::unique_ptr<core::store::Database>> optionalWorkspace(const Options &o);

// [contexts, --context] token ids from the --text corpus (--tokens, default `defaultTokens`),
// tokenized with the model's tokenizer; `fingerprint` (when given) gets the corpus' own.
core::Result<at::Tensor> textContexts(const Options &o, const std::string &modelPath,
    const core::tokenize::Tokenizer &tokenizer, const std::string &defaultTokens,
    std::string *fingerprint = nullptr);

} // namespace fscope::cli
