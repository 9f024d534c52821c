#pragma once
// Text <-> token ids, with every token's byte span in the input so views can highlight tokens
// in the original text (a multi-byte character split across tokens gives adjacent spans that
// each cover part of it).

#include "core/util/result.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fscope::core::tokenize {

struct Encoding {
    std::vector<int64_t> ids;
    std::vector<std::pair<size_t, size_t>> spans; // [begin, end) bytes of the input; BOS: (0, 0)
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Encodes without BOS; special tokens written in the text are recognised.
    virtual Encoding encode(std::string_view text) const = 0;
    // The text of `ids` (invalid UTF-8 replaced by U+FFFD, as HF decodes with errors="replace").
    virtual std::string decode(const std::vector<int64_t> &ids) const = 0;
    // The raw bytes one token stands for (may be part of a UTF-8 character).
    virtual std::string tokenBytes(int64_t id) const = 0;
    // The vocabulary entry as written in the tokenizer files ("Ġthe", "▁the", "<0x0A>").
    virtual std::string tokenName(int64_t id) const = 0;
    virtual int64_t vocabSize() const = 0;
    virtual std::optional<int64_t> tokenId(const std::string &name) const = 0;

    // BOS policy: Gemma and Llama add theirs; GPT-2 adds none, but SAE work prepends
    // <|endoftext|>, so callers choose per call.
    std::optional<int64_t> bosId() const { return m_bos; }
    std::optional<int64_t> eosId() const { return m_eos; }
    bool addsBosByDefault() const { return m_addBos; }
    void setSpecialTokens(std::optional<int64_t> bos, std::optional<int64_t> eos, bool addBos)
    {
        m_bos = bos;
        m_eos = eos;
        m_addBos = addBos;
    }

    // encode() with BOS first when `bos` says so (nullopt: the tokenizer's default).
    Encoding encodeForModel(std::string_view text, std::optional<bool> bos = std::nullopt) const;

private:
    std::optional<int64_t> m_bos, m_eos;
    bool m_addBos = false;
};

// The text `generated` adds after `prompt`, spacing included: SentencePiece tokenizers drop
// the leading space of the first piece when a continuation is decoded alone ("is" + "a").
std::string continuationText(const Tokenizer &tokenizer, const std::vector<int64_t> &prompt,
    const std::vector<int64_t> &generated);

// Replaces invalid UTF-8 sequences by U+FFFD.
std::string sanitizeUtf8(std::string_view bytes);

// Loads the tokenizer of a model directory: tokenizer.json, else vocab.json + merges.txt, else
// tokenizer.model (SentencePiece). BOS/EOS from tokenizer_config.json and config.json.
Result<std::unique_ptr<Tokenizer>> loadTokenizer(const std::string &modelDir);

} // namespace fscope::core::tokenize
