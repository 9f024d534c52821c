#include "core/tokenize/bpe_model.h"

#include <limits>
#include <queue>

namespace fscope::core::tokenize {

bool BpeModel::addToken(const std::string &text, int64_t id)
{
    if (!validTokenId(id))
        return false;
    m_vocab[text] = id;
    if (id >= static_cast<int64_t>(m_names.size()))
        m_names.resize(id + 1);
    m_names[id] = text;
    return true;
}

void BpeModel::addMerge(const std::string &left, const std::string &right)
{
    m_ranks.emplace(key(left, right), static_cast<int64_t>(m_ranks.size()));
}

void BpeModel::addMerge(const std::string &left, const std::string &right, int64_t rank)
{
    m_ranks.emplace(key(left, right), rank);
}

int64_t BpeModel::find(const std::string &text) const
{
    const auto it = m_vocab.find(text);
    return it == m_vocab.end() ? -1 : it->second;
}

std::vector<Symbol> BpeModel::merge(std::vector<Symbol> symbols) const
{
    // Lowest rank first, leftmost on ties, in O(n log n): a heap of candidate pairs over a
    // doubly linked list of symbols; stale heap entries are skipped when popped (the pair they
    // name no longer exists with that text).
    const size_t n = symbols.size();
    if (n < 2)
        return symbols;
    std::vector<size_t> prev(n), next(n);
    std::vector<bool> alive(n, true);
    for (size_t i = 0; i < n; ++i) {
        prev[i] = i - 1; // wraps to SIZE_MAX for the first
        next[i] = i + 1;
    }
    struct Candidate {
        int64_t rank;
        size_t left;
        size_t leftLength, rightLength; // text lengths when queued, to detect stale entries
        bool operator>(const Candidate &o) const
        {
            return rank != o.rank ? rank > o.rank : left > o.left;
        }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    auto consider = [&](size_t left) {
        if (left >= n || next[left] >= n)
            return;
        const size_t right = next[left];
        const auto it = m_ranks.find(key(symbols[left].text, symbols[right].text));
        if (it != m_ranks.end())
            heap.push({ it->second, left, symbols[left].text.size(), symbols[right].text.size() });
    };
    for (size_t i = 0; i + 1 < n; ++i)
        consider(i);
    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        const size_t right = next[c.left];
        if (!alive[c.left] || right >= n || symbols[c.left].text.size() != c.leftLength
            || symbols[right].text.size() != c.rightLength)
            continue;
        symbols[c.left].text += symbols[right].text;
        symbols[c.left].end = symbols[right].end;
        alive[right] = false;
        next[c.left] = next[right];
        if (next[right] < n)
            prev[next[right]] = c.left;
        consider(c.left);
        if (prev[c.left] < n)
            consider(prev[c.left]);
    }
    std::vector<Symbol> out;
    for (size_t i = 0; i < n; i = next[i])
        out.push_back(std::move(symbols[i]));
    return out;
}

} // namespace fscope::core::tokenize
