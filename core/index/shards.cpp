#include "core/index/shards.h"

#include <charconv>

namespace fscope::core::index {

Result<ShardSpec> parseShard(const std::string &text)
{
    const size_t slash = text.find('/');
    ShardSpec spec;
    auto number = [](std::string_view s, int64_t &out) {
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc() && end == s.data() + s.size() && !s.empty();
    };
    if (slash == std::string::npos || !number(std::string_view(text).substr(0, slash), spec.rank)
        || !number(std::string_view(text).substr(slash + 1), spec.count) || spec.count < 1
        || spec.rank < 0 || spec.rank >= spec.count)
        return Error { "a shard is R/W with 0 <= R < W (e.g. 0/4), not '" + text + "'" };
    return spec;
}

std::pair<int64_t, int64_t> shardBatches(int64_t batches, const ShardSpec &spec)
{
    return { batches * spec.rank / spec.count, batches * (spec.rank + 1) / spec.count };
}

} // namespace fscope::core::index
