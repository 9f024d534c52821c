#pragma once
// SentencePiece-style BPE as Hugging Face converts it to tokenizer.json (Gemma, Llama 2):
// spaces become "▁" (normalizer Replace, optionally Prepend "▁"), the whole text is one word,
// merges by rank, and characters outside the vocabulary fall back to <0xNN> byte tokens
// (byte_fallback) or <unk>. Spans map back to the original text's bytes.

#include "core/tokenize/bpe_tokenizer.h"

namespace fscope::core::tokenize {

class SentencePieceBpeTokenizer : public BpeTokenizer {
public:
    SentencePieceBpeTokenizer(BpeModel model, std::vector<AddedToken> added, bool prependSpace,
        bool byteFallback, std::optional<int64_t> unk);

    Encoding encode(std::string_view text) const override;
    std::string decode(const std::vector<int64_t> &ids) const override;
    std::string tokenBytes(int64_t id) const override;

private:
    void encodePlain(std::string_view text, size_t offset, bool first, Encoding &out) const;
    bool m_prependSpace;
    bool m_byteFallback;
    std::optional<int64_t> m_unk;
    std::vector<int64_t> m_byteTokens; // <0xNN> ids, -1 when absent
};

} // namespace fscope::core::tokenize
