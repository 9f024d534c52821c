#pragma once
// What byte-level and SentencePiece-style BPE tokenizers share: the vocabulary and merges, the
// added tokens, and the id <-> name lookups over both.

#include "core/tokenize/added_tokens.h"
#include "core/tokenize/bpe_model.h"
#include "core/tokenize/tokenizer.h"

namespace fscope::core::tokenize {

class BpeTokenizer : public Tokenizer {
public:
    std::string tokenName(int64_t id) const override;
    int64_t vocabSize() const override;
    std::optional<int64_t> tokenId(const std::string &name) const override;

protected:
    BpeTokenizer(BpeModel model, std::vector<AddedToken> added)
        : m_model(std::move(model))
        , m_added(std::move(added))
    {
    }
    // tokenBytes() of every id, concatenated.
    std::string joinedBytes(const std::vector<int64_t> &ids) const;

    BpeModel m_model;
    AddedTokenMatcher m_added;
};

} // namespace fscope::core::tokenize
