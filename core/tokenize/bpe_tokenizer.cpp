#include "core/tokenize/bpe_tokenizer.h"

#include <algorithm>

namespace fscope::core::tokenize {

int64_t BpeTokenizer::vocabSize() const
{
    return std::max<int64_t>(static_cast<int64_t>(m_model.names().size()), m_added.maxId());
}

std::optional<int64_t> BpeTokenizer::tokenId(const std::string &name) const
{
    if (auto added = m_added.find(name))
        return added;
    const int64_t id = m_model.find(name);
    return id < 0 ? std::nullopt : std::optional<int64_t>(id);
}

std::string BpeTokenizer::tokenName(int64_t id) const
{
    if (const std::string *added = m_added.content(id))
        return *added;
    if (id >= 0 && id < static_cast<int64_t>(m_model.names().size()))
        return m_model.names()[id];
    return {};
}

std::string BpeTokenizer::joinedBytes(const std::vector<int64_t> &ids) const
{
    std::string bytes;
    for (int64_t id : ids)
        bytes += tokenBytes(id);
    return bytes;
}

} // namespace fscope::core::tokenize
