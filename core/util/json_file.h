#pragma once
// Reads a JSON file into nlohmann::json; errors name the file.

#include "core/util/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace fscope::core {

Result<nlohmann::json> readJsonFile(const std::string &path);

// A JSON value as int64, strictly: an integer, or a float with an integral value inside int64's
// range. Anything else throws nlohmann::json::type_error (callers turn it into an error naming
// the file), where a plain get<int64_t>() would convert 3e35 with undefined behaviour.
int64_t jsonInt64(const nlohmann::json &value);

} // namespace fscope::core
