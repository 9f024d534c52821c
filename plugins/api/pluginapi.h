#pragma once
// The plugin API's version. A plugin's plugin.json names the API version it was built for
// ("compatVersion"); the host loads plugins with 1 <= compatVersion <= kPluginApiVersion and
// refuses newer ones with a message. Each interface's IID carries its own version too, so an
// interface can change without renumbering the others.

namespace fscope::plugins {

inline constexpr int kPluginApiVersion = 1;

} // namespace fscope::plugins
