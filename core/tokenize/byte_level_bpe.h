#pragma once
// Byte-level BPE (GPT-2, Llama 3, Qwen 2): split by the pre-tokenizer regex, map each UTF-8
// byte to its printable stand-in (bytes_to_unicode), merge, look up ids. Added/special tokens
// are matched literally first.

#include "core/tokenize/bpe_tokenizer.h"
#include "core/tokenize/regex_splitter.h"
#include "core/tokenize/tokenizer.h"

namespace fscope::core::tokenize {

class ByteLevelBpeTokenizer : public BpeTokenizer {
public:
    ByteLevelBpeTokenizer(BpeModel model, std::unique_ptr<RegexSplitter> splitter,
        std::vector<AddedToken> added, bool ignoreMerges);

    Encoding encode(std::string_view text) const override;
    std::string decode(const std::vector<int64_t> &ids) const override;
    std::string tokenBytes(int64_t id) const override;

private:
    void encodePiece(std::string_view text, size_t offset, Encoding &out) const;
    std::unique_ptr<RegexSplitter> m_splitter;
    bool m_ignoreMerges;
};

// bytes_to_unicode() of GPT-2: the UTF-8 text of the stand-in for each byte value.
const std::vector<std::string> &byteToUnicode();

} // namespace fscope::core::tokenize
