#include "core/tokenize/sentencepiece_bpe.h"

#include <cstdio>

namespace fscope::core::tokenize {

namespace {

const std::string kSpace = "\xe2\x96\x81"; // U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's space

size_t utf8Length(unsigned char c)
{
    return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
}

// "<0x0A>" -> 10, or -1.
int byteTokenValue(const std::string &name)
{
    unsigned value = 0;
    char tail = 0;
    if (name.size() == 6 && std::sscanf(name.c_str(), "<0x%2X%c", &value, &tail) == 2
        && tail == '>')
        return static_cast<int>(value);
    return -1;
}

} // namespace

SentencePieceBpeTokenizer::SentencePieceBpeTokenizer(BpeModel model, std::vector<AddedToken> added,
    bool prependSpace, bool byteFallback, std::optional<int64_t> unk)
    : BpeTokenizer(std::move(model), std::move(added))
    , m_prependSpace(prependSpace)
    , m_byteFallback(byteFallback)
    , m_unk(unk)
    , m_byteTokens(256, -1)
{
    char name[8];
    for (int b = 0; b < 256; ++b) {
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        m_byteTokens[b] = m_model.find(name);
    }
}

std::string SentencePieceBpeTokenizer::tokenBytes(int64_t id) const
{
    // Added tokens go through the same decoder (Gemma's whitespace runs "▁▁" are added tokens).
    const std::string name = tokenName(id);
    if (const int b = byteTokenValue(name); b >= 0)
        return std::string(1, static_cast<char>(b));
    std::string bytes;
    for (size_t i = 0; i < name.size();) { // decoder: Replace("▁" -> " ")
        if (name.compare(i, kSpace.size(), kSpace) == 0) {
            bytes += ' ';
            i += kSpace.size();
        } else {
            bytes += name[i++];
        }
    }
    return bytes;
}

std::string SentencePieceBpeTokenizer::decode(const std::vector<int64_t> &ids) const
{
    std::string bytes = joinedBytes(ids);
    if (m_prependSpace && !bytes.empty() && bytes[0] == ' ') // decoder Strip(start=1)
        bytes.erase(0, 1);
    return sanitizeUtf8(bytes);
}

void SentencePieceBpeTokenizer::encodePlain(
    std::string_view text, size_t offset, bool first, Encoding &out) const
{
    // One symbol per character, spaces as "▁", each remembering its original byte span.
    std::vector<Symbol> symbols;
    if (m_prependSpace && first)
        symbols.push_back({ kSpace, offset, offset });
    for (size_t i = 0; i < text.size();) {
        const size_t len
            = std::min(utf8Length(static_cast<unsigned char>(text[i])), text.size() - i);
        const std::string ch(text.substr(i, len));
        symbols.push_back({ ch == " " ? kSpace : ch, offset + i, offset + i + len });
        i += len;
    }
    for (const Symbol &s : m_model.merge(std::move(symbols))) {
        if (const int64_t id = m_model.find(s.text); id >= 0) {
            out.ids.push_back(id);
            out.spans.emplace_back(s.begin, s.end);
            continue;
        }
        // Byte fallback: every UTF-8 byte of the piece as <0xNN>, if all exist.
        bool allBytes = m_byteFallback;
        for (unsigned char c : s.text)
            allBytes = allBytes && m_byteTokens[c] >= 0;
        if (allBytes && s.end - s.begin == s.text.size()) {
            for (size_t k = 0; k < s.text.size(); ++k) {
                out.ids.push_back(m_byteTokens[static_cast<unsigned char>(s.text[k])]);
                out.spans.emplace_back(s.begin + k, s.begin + k + 1);
            }
        } else if (m_unk) {
            // fuse_unk: consecutive unknowns become one <unk>.
            if (!out.ids.empty() && out.ids.back() == *m_unk && out.spans.back().second == s.begin)
                out.spans.back().second = s.end;
            else {
                out.ids.push_back(*m_unk);
                out.spans.emplace_back(s.begin, s.end);
            }
        }
    }
}

Encoding SentencePieceBpeTokenizer::encode(std::string_view text) const
{
    Encoding out;
    bool first = true;
    for (const TextSegment &seg : m_added.split(text)) {
        if (seg.addedId >= 0) {
            out.ids.push_back(seg.addedId);
            out.spans.emplace_back(seg.begin, seg.end);
        } else {
            encodePlain(text.substr(seg.begin, seg.end - seg.begin), seg.begin, first, out);
        }
        first = false;
    }
    return out;
}

} // namespace fscope::core::tokenize
