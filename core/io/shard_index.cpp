#include "core/io/shard_index.h"

#include "core/util/json_file.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace fscope::core::io {

Result<ShardMap> parseShardIndex(std::string_view text, const std::string &indexPath)
{
    nlohmann::json index;
    FS_TRY(index, parseJson(text, indexPath));
    const auto map = index.is_object() ? index.find("weight_map") : index.end();
    if (!index.is_object() || map == index.end() || !map->is_object())
        return fileError(indexPath, "no \"weight_map\" object (not a sharded checkpoint index)");
    ShardMap byShard;
    for (const auto &[name, shard] : map->items()) {
        if (!shard.is_string())
            return fileError(indexPath, "weight_map entry '" + name + "' is not a file name");
        const std::string shardName = shard.get<std::string>();
        if (shardName.empty() || shardName == "." || shardName == ".."
            || fs::path(shardName).filename().string() != shardName)
            return fileError(indexPath, "shard name '" + shardName + "' is not a plain file name");
        byShard[shardName].push_back(name);
    }
    if (byShard.empty())
        return fileError(indexPath, "weight_map names no tensors");
    return byShard;
}

} // namespace fscope::core::io
