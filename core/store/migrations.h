#pragma once
// The schema, as an ordered list of forward migrations: migration i takes user_version i to
// i + 1. Never edit a released migration; append a new one.

#include <string>
#include <vector>

namespace fscope::core::store {

const std::vector<std::string> &schemaMigrations();

} // namespace fscope::core::store
