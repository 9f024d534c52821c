#pragma once
// Reads a JSON file into nlohmann::json; errors name the file.

#include "core/util/result.h"

#include <nlohmann/json.hpp>

#include <string>

namespace fscope::core {

Result<nlohmann::json> readJsonFile(const std::string &path);

} // namespace fscope::core
