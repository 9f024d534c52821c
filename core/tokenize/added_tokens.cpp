#include "core/tokenize/added_tokens.h"

#include <algorithm>

namespace fscope::core::tokenize {

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> added)
    : m_byFirstByte(256)
{
    for (auto &a : added) {
        if (a.content.empty())
            continue;
        if (a.id >= static_cast<int64_t>(m_byId.size()))
            m_byId.resize(a.id + 1);
        m_byId[a.id] = a.content;
        m_byFirstByte[static_cast<unsigned char>(a.content[0])].push_back(std::move(a));
    }
    for (auto &bucket : m_byFirstByte)
        std::sort(bucket.begin(), bucket.end(), [](const AddedToken &a, const AddedToken &b) {
            return a.content.size() > b.content.size();
        });
}

std::optional<int64_t> AddedTokenMatcher::find(const std::string &content) const
{
    if (content.empty())
        return std::nullopt;
    for (const auto &a : m_byFirstByte[static_cast<unsigned char>(content[0])])
        if (a.content == content)
            return a.id;
    return std::nullopt;
}

const std::string *AddedTokenMatcher::content(int64_t id) const
{
    return id >= 0 && id < maxId() && !m_byId[id].empty() ? &m_byId[id] : nullptr;
}

std::vector<TextSegment> AddedTokenMatcher::split(std::string_view text) const
{
    std::vector<TextSegment> segments;
    size_t pos = 0, plainStart = 0;
    while (pos < text.size()) {
        const AddedToken *hit = nullptr;
        for (const auto &a : m_byFirstByte[static_cast<unsigned char>(text[pos])])
            if (text.substr(pos, a.content.size()) == a.content) {
                hit = &a;
                break;
            }
        if (!hit) {
            ++pos;
            continue;
        }
        if (pos > plainStart)
            segments.push_back({ plainStart, pos, -1 });
        segments.push_back({ pos, pos + hit->content.size(), hit->id });
        pos += hit->content.size();
        plainStart = pos;
    }
    if (plainStart < text.size())
        segments.push_back({ plainStart, text.size(), -1 });
    return segments;
}

} // namespace fscope::core::tokenize
