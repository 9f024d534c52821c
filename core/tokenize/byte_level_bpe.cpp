#include "core/tokenize/byte_level_bpe.h"

#include <algorithm>
#include <unordered_map>

namespace fscope::core::tokenize {

namespace {

std::string utf8(uint32_t cp)
{
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}

// Inverse of byteToUnicode, keyed by the stand-in's UTF-8 text.
const std::unordered_map<std::string, uint8_t> &unicodeToByte()
{
    static const auto table = [] {
        std::unordered_map<std::string, uint8_t> t;
        const auto &forward = byteToUnicode();
        for (int b = 0; b < 256; ++b)
            t[forward[b]] = static_cast<uint8_t>(b);
        return t;
    }();
    return table;
}

} // namespace

const std::vector<std::string> &byteToUnicode()
{
    // Printable Latin-1 bytes stand for themselves; the rest map to U+0100 + n in byte order.
    static const std::vector<std::string> table = [] {
        std::vector<std::string> t(256);
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable
                = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            t[b] = utf8(printable ? static_cast<uint32_t>(b) : 256u + n++);
        }
        return t;
    }();
    return table;
}

ByteLevelBpeTokenizer::ByteLevelBpeTokenizer(BpeModel model,
    std::unique_ptr<RegexSplitter> splitter, std::vector<AddedToken> added, bool ignoreMerges)
    : BpeTokenizer(std::move(model), std::move(added))
    , m_splitter(std::move(splitter))
    , m_ignoreMerges(ignoreMerges)
{
}

std::string ByteLevelBpeTokenizer::tokenBytes(int64_t id) const
{
    if (const std::string *added = m_added.content(id))
        return *added;
    const std::string name = tokenName(id);
    std::string bytes;
    const auto &inverse = unicodeToByte();
    for (size_t i = 0; i < name.size();) {
        const unsigned char c = static_cast<unsigned char>(name[i]);
        const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        const auto it = inverse.find(name.substr(i, len));
        if (it != inverse.end())
            bytes += static_cast<char>(it->second);
        else
            bytes += name.substr(i, len); // not a stand-in: keep as written
        i += len;
    }
    return bytes;
}

std::string ByteLevelBpeTokenizer::decode(const std::vector<int64_t> &ids) const
{
    return sanitizeUtf8(joinedBytes(ids));
}

void ByteLevelBpeTokenizer::encodePiece(std::string_view text, size_t offset, Encoding &out) const
{
    const auto &table = byteToUnicode();
    std::string mapped;
    std::vector<Symbol> symbols;
    for (size_t i = 0; i < text.size(); ++i) {
        const std::string &s = table[static_cast<unsigned char>(text[i])];
        mapped += s;
        symbols.push_back({ s, offset + i, offset + i + 1 });
    }
    if (m_ignoreMerges) { // Llama 3: a whole piece found in the vocabulary is one token
        if (const int64_t id = m_model.find(mapped); id >= 0) {
            out.ids.push_back(id);
            out.spans.emplace_back(offset, offset + text.size());
            return;
        }
    }
    for (const Symbol &s : m_model.merge(std::move(symbols))) {
        const int64_t id = m_model.find(s.text);
        if (id < 0)
            continue; // cannot happen with a complete byte alphabet
        out.ids.push_back(id);
        out.spans.emplace_back(s.begin, s.end);
    }
}

Encoding ByteLevelBpeTokenizer::encode(std::string_view text) const
{
    Encoding out;
    for (const TextSegment &seg : m_added.split(text)) {
        if (seg.addedId >= 0) {
            out.ids.push_back(seg.addedId);
            out.spans.emplace_back(seg.begin, seg.end);
            continue;
        }
        const std::string_view plain = text.substr(seg.begin, seg.end - seg.begin);
        for (const auto &[b, e] : m_splitter->split(plain))
            encodePiece(plain.substr(b, e - b), seg.begin + b, out);
    }
    return out;
}

} // namespace fscope::core::tokenize
