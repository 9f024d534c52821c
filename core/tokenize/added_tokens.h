#pragma once
// Added and special tokens ("<|endoftext|>", "<bos>", "<start_of_turn>"): matched literally in
// the text before any pre-tokenization, as HF tokenizers' AddedVocabulary does.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fscope::core::tokenize {

struct AddedToken {
    std::string content;
    int64_t id;
};

struct TextSegment {
    size_t begin, end;
    int64_t addedId; // -1 for plain text
};

// Splits text at literal occurrences of added/special tokens, longest match first, indexed by
// first byte (Gemma has thousands of added tokens).
class AddedTokenMatcher {
public:
    explicit AddedTokenMatcher(std::vector<AddedToken> added);
    std::vector<TextSegment> split(std::string_view text) const;
    std::optional<int64_t> find(const std::string &content) const;
    const std::string *content(int64_t id) const;
    int64_t maxId() const { return static_cast<int64_t>(m_byId.size()); }

private:
    std::vector<std::vector<AddedToken>> m_byFirstByte; // 256 buckets, longest first
    std::vector<std::string> m_byId;
};

} // namespace fscope::core::tokenize
