#pragma once
// Links the built-in plugins into a program: call once before PluginManager::loadPlugins().
// (A static library's plugins are only kept when something references them.)

namespace fscope::plugins {

void linkBuiltinPlugins();

} // namespace fscope::plugins
