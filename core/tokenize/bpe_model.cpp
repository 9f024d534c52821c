#include "core/tokenize/bpe_model.h"

#include <limits>

namespace fscope::core::tokenize {

void BpeModel::addToken(const std::string &text, int64_t id)
{
    m_vocab[text] = id;
    if (id >= static_cast<int64_t>(m_names.size()))
        m_names.resize(id + 1);
    m_names[id] = text;
}

void BpeModel::addMerge(const std::string &left, const std::string &right)
{
    m_ranks.emplace(key(left, right), static_cast<int64_t>(m_ranks.size()));
}

int64_t BpeModel::find(const std::string &text) const
{
    const auto it = m_vocab.find(text);
    return it == m_vocab.end() ? -1 : it->second;
}

std::vector<Symbol> BpeModel::merge(std::vector<Symbol> symbols) const
{
    while (symbols.size() > 1) {
        int64_t bestRank = std::numeric_limits<int64_t>::max();
        size_t best = 0;
        for (size_t i = 0; i + 1 < symbols.size(); ++i) {
            const auto it = m_ranks.find(key(symbols[i].text, symbols[i + 1].text));
            if (it != m_ranks.end() && it->second < bestRank) {
                bestRank = it->second;
                best = i;
            }
        }
        if (bestRank == std::numeric_limits<int64_t>::max())
            break;
        symbols[best].text += symbols[best + 1].text;
        symbols[best].end = symbols[best + 1].end;
        symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    }
    return symbols;
}

} // namespace fscope::core::tokenize
