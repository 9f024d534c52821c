#pragma once
// Choosing a backend, the same way from the CLI's flags and the workbench's Preferences:
// "openai" (any OpenAI-compatible server) or "local" (an instruct model run in-process on our
// own runtime and device).

#include "core/interp/local_backend.h"
#include "core/interp/openai_backend.h"

namespace fscope::core::interp {

struct BackendSettings {
    std::string kind = "openai"; // openai | local
    OpenAiSettings openai;
    LocalSettings local;
};

Result<std::unique_ptr<ChatBackend>> makeBackend(const BackendSettings &settings);

} // namespace fscope::core::interp
