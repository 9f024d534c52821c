#pragma once
// The BPE merge loop shared by byte-level (GPT-2, Llama 3, Qwen 2) and SentencePiece-style
// (Gemma) tokenizers: repeatedly merge the adjacent pair with the lowest merge rank, leftmost
// first (HF tokenizers bpe/word.rs, Merge::cmp).

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace fscope::core::tokenize {

struct Symbol {
    std::string text; // in the vocabulary's alphabet
    size_t begin = 0; // byte span in the original text
    size_t end = 0;
};

// Token ids above this are refused when a vocabulary is read (the largest real vocabularies
// have ~262k entries): an id is an index, and a hostile 10^12 must not size an array.
constexpr int64_t kMaxTokenId = (int64_t(1) << 24) - 1;
constexpr bool validTokenId(int64_t id)
{
    return id >= 0 && id <= kMaxTokenId;
}

class BpeModel {
public:
    // False (and nothing added) when `id` is outside [0, kMaxTokenId].
    [[nodiscard]] bool addToken(const std::string &text, int64_t id);
    // Merges rank in the order added, unless given a rank (SentencePiece: several pairs that
    // form the same piece share its rank).
    void addMerge(const std::string &left, const std::string &right);
    void addMerge(const std::string &left, const std::string &right, int64_t rank);

    // Merges in place; returns the merged symbols.
    std::vector<Symbol> merge(std::vector<Symbol> symbols) const;

    const std::unordered_map<std::string, int64_t> &vocab() const { return m_vocab; }
    const std::vector<std::string> &names() const { return m_names; }
    int64_t find(const std::string &text) const;
    size_t mergeCount() const { return m_ranks.size(); }

private:
    static std::string key(const std::string &a, const std::string &b) { return a + '\x1f' + b; }
    std::unordered_map<std::string, int64_t> m_vocab;
    std::vector<std::string> m_names; // id -> text
    std::unordered_map<std::string, int64_t> m_ranks;
};

} // namespace fscope::core::tokenize
