#pragma once
// Reads JSON from outside (files, workspace rows, lines of a JSONL file) into nlohmann::json;
// errors name the file. Before anything is built from the text its size and nesting depth are
// checked against the limits below, so a hostile file is refused with the limit named instead
// of exhausting memory or the stack (nlohmann's dump and the callers' recursive walks recurse
// once per level).

#include "core/util/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace fscope::core {

// No JSON document this reads nests deeper: real configs, tokenizers and records stay below 10.
constexpr int kMaxJsonDepth = 128;
// Larger than any tokenizer.json or config published (a 262k-vocabulary tokenizer.json is
// about 35 MB); past it a file is refused before it is read.
constexpr uint64_t kMaxJsonFileBytes = uint64_t(1) << 30;

// An error naming `where` when `text` nests arrays or objects deeper than kMaxJsonDepth
// (strings are skipped, so brackets inside them do not count).
Status checkJsonDepth(std::string_view text, const std::string &where);

// Parses `text` after the depth check; `where` names the file (and line) in errors.
Result<nlohmann::json> parseJson(std::string_view text, const std::string &where);

Result<nlohmann::json> readJsonFile(const std::string &path);

// The whole file as bytes, refused past `limit` bytes (named in the message) before reading.
Result<std::string> readTextFile(const std::string &path, uint64_t limit);

// A JSON value as int64, strictly: an integer, or a float with an integral value inside int64's
// range. Anything else throws nlohmann::json::type_error (callers turn it into an error naming
// the file), where a plain get<int64_t>() would convert 3e35 with undefined behaviour.
int64_t jsonInt64(const nlohmann::json &value);

// "1.5 GiB", "64 MiB", "512 bytes": a limit as a message states it.
std::string formatBytes(uint64_t bytes);

} // namespace fscope::core
