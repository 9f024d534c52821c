// config.json of every model family (GPT-2, Llama, Mistral, Gemma 2/3, Qwen 2/3): an accepted
// config has the positive sizes the decoder allocates from.

#include "core/model/model_config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace fscope::core::model;
    auto config
        = parseModelConfig(std::string(reinterpret_cast<const char *>(data), size), "config.json");
    if (!config)
        return 0;
    FUZZ_EXPECT(config->hidden > 0 && config->layers > 0 && config->vocabSize > 0);
    FUZZ_EXPECT(config->heads > 0);
    return 0;
}
