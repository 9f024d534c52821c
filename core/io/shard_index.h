#pragma once
// model.safetensors.index.json, the index of a sharded checkpoint: which shard file holds each
// tensor. Read here apart from the shards, so the JSON is checked (and fuzzed) on its own.

#include "core/util/result.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fscope::core::io {

// Shard file name -> the tensors the index says it holds, in name order. Every shard is a plain
// file name (no folder, so an index cannot point outside its checkpoint).
using ShardMap = std::map<std::string, std::vector<std::string>>;
Result<ShardMap> parseShardIndex(std::string_view text, const std::string &indexPath);

} // namespace fscope::core::io
