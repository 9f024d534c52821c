#pragma once
// The in-process backend: a local instruct model in Hugging Face format (Gemma 2/3 IT, Llama 3
// Instruct, Qwen 2 Instruct) on our own runtime and device, with its chat format built in
// (chat_format.h). Requests from the job's threads are gathered into batches and generated
// together with the KV cache, so a judge's many small prompts share each forward pass.

#include "core/interp/chat_backend.h"

#include <memory>

namespace fscope::core::interp {

struct LocalSettings {
    std::string modelDir;
    std::string device = "auto", dtype = "auto";
    int batch = 8; // prompts generated together
    uint64_t seed = 0; // for temperature > 0
};

Result<std::unique_ptr<ChatBackend>> makeLocalBackend(const LocalSettings &settings);

} // namespace fscope::core::interp
