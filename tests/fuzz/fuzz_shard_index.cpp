// model.safetensors.index.json: an accepted index names at least one tensor, each in exactly
// one shard, and every shard is a plain file name inside the checkpoint's folder.

#include "core/io/shard_index.h"
#include "tests/fuzz/fuzz_support.h"

#include <set>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace fscope::core::io;
    auto shards = parseShardIndex(std::string_view(reinterpret_cast<const char *>(data), size),
        "model.safetensors.index.json");
    if (!shards)
        return 0;
    FUZZ_EXPECT(!shards->empty());
    std::set<std::string> tensors;
    for (const auto &[shard, names] : *shards) {
        FUZZ_EXPECT(!shard.empty() && shard != "." && shard != "..");
        FUZZ_EXPECT(shard.find('/') == std::string::npos);
        for (const auto &name : names)
            FUZZ_EXPECT(tensors.insert(name).second);
    }
    return 0;
}
