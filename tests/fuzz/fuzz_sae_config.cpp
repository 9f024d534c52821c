// The dictionary configs: SAELens cfg.json (byte 0 = 0), sparsify cfg.json in a folder named by
// the text before the first NUL (1), Gemma Scope 2 config.json (2), and the hooks Gemma Scope
// release paths and Hugging Face module paths name (3). An accepted config has the sizes and
// hooks its loader allocates and wires from.

#include "core/sae/sae_config_json.h"
#include "core/util/json_file.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

bool isBlockHook(const std::string &hook)
{
    return hook.rfind("blocks.", 0) == 0 || hook == "hook_embed";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace fscope::core;
    using namespace fscope::core::sae;
    if (size < 1)
        return 0;
    const int format = data[0] % 4;
    std::string_view rest(reinterpret_cast<const char *>(data) + 1, size - 1);
    std::string folder;
    if (format == 1 || format == 3) {
        const size_t nul = rest.find('\0');
        folder = std::string(rest.substr(0, std::min(nul, rest.size())));
        rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
    }
    if (format == 3) {
        const std::string hook = gemmaScopeHook(folder);
        FUZZ_EXPECT(hook.empty() || isBlockHook(hook));
        const std::string module = hookFromModulePath(std::string(rest));
        FUZZ_EXPECT(module.empty() || isBlockHook(module));
        return 0;
    }
    auto cfg = parseJson(rest, "cfg.json");
    if (!cfg)
        return 0;
    if (format == 0) {
        auto parsed = parseSaeLensConfig(*cfg, "cfg.json");
        if (!parsed)
            return 0;
        const SaeConfig &c = parsed->config;
        FUZZ_EXPECT(c.dIn > 0 && c.dSae > 0 && c.decoderWidth() > 0);
        if (c.architecture == Architecture::TopK || c.architecture == Architecture::AbsTopK)
            FUZZ_EXPECT(c.k >= 1 && c.k <= c.dSae);
        if (c.kind != DictionaryKind::Sae) {
            FUZZ_EXPECT(c.hooksOut.size() == 1 && !c.hooksOut[0].empty());
            FUZZ_EXPECT(!c.applyBDecToInput);
        }
    } else if (format == 1) {
        auto parsed = parseSparsifyConfig(*cfg, "cfg.json", folder);
        if (!parsed)
            return 0;
        const SaeConfig &c = parsed->config;
        FUZZ_EXPECT(c.architecture == Architecture::TopK && c.k > 0);
        FUZZ_EXPECT(c.hookName.empty() || isBlockHook(c.hookName));
        FUZZ_EXPECT(c.hooksOut.empty() || !c.hookName.empty());
        FUZZ_EXPECT(!parsed->skipConnection || c.kind == DictionaryKind::SkipTranscoder);
    } else {
        auto parsed = parseGemmaScope2Config(*cfg, "config.json");
        if (!parsed)
            return 0;
        FUZZ_EXPECT(parsed->hookIn.empty() || isBlockHook(parsed->hookIn));
        FUZZ_EXPECT(parsed->hookOut.empty() || isBlockHook(parsed->hookOut));
    }
    return 0;
}
