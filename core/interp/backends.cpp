#include "core/interp/backends.h"

namespace fscope::core::interp {

Result<std::unique_ptr<ChatBackend>> makeBackend(const BackendSettings &settings)
{
    if (settings.kind == "openai")
        return makeOpenAiBackend(settings.openai);
    if (settings.kind == "local")
        return makeLocalBackend(settings.local);
    return Error { "unknown backend '" + settings.kind + "' (openai or local)" };
}

} // namespace fscope::core::interp
