#include "core/tokenize/sentencepiece_model.h"

#include "core/io/mapped_file.h"
#include "core/tokenize/sentencepiece_bpe.h"

#include <algorithm>
#include <cstring>

namespace fscope::core::tokenize {

namespace {

// Protobuf wire format (proto2): just enough to walk ModelProto.
class Wire {
public:
    Wire(const uint8_t *p, size_t n)
        : m_p(p)
        , m_end(p + n)
    {
    }
    bool done() const { return m_p >= m_end; }
    bool ok() const { return m_ok; }

    uint64_t varint()
    {
        uint64_t v = 0;
        for (int shift = 0; shift < 64 && m_p < m_end; shift += 7) {
            const uint8_t b = *m_p++;
            v |= uint64_t(b & 0x7F) << shift;
            if (!(b & 0x80))
                return v;
        }
        m_ok = false;
        return 0;
    }
    // Reads a field key; false at the end or on damage.
    bool next(uint32_t &field, uint32_t &wireType)
    {
        if (done() || !m_ok)
            return false;
        const uint64_t key = varint();
        field = static_cast<uint32_t>(key >> 3);
        wireType = static_cast<uint32_t>(key & 7);
        return m_ok;
    }
    Wire bytes()
    {
        const uint64_t n = varint();
        if (!m_ok || n > uint64_t(m_end - m_p)) {
            m_ok = false;
            return Wire(m_p, 0);
        }
        Wire w(m_p, n);
        m_p += n;
        return w;
    }
    std::string string()
    {
        Wire w = bytes();
        return std::string(reinterpret_cast<const char *>(w.m_p), w.m_end - w.m_p);
    }
    float fixed32()
    {
        if (m_end - m_p < 4) {
            m_ok = false;
            return 0;
        }
        float f;
        std::memcpy(&f, m_p, 4);
        m_p += 4;
        return f;
    }
    void skip(uint32_t wireType)
    {
        switch (wireType) {
        case 0:
            varint();
            break;
        case 1:
            m_p += 8;
            break;
        case 2:
            bytes();
            break;
        case 5:
            m_p += 4;
            break;
        default:
            m_ok = false;
        }
        if (m_p > m_end)
            m_ok = false;
    }

private:
    const uint8_t *m_p;
    const uint8_t *m_end;
    bool m_ok = true;
};

enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct Piece {
    std::string text;
    float score = 0;
    int type = Normal;
};

} // namespace

Result<std::unique_ptr<Tokenizer>> loadSentencePieceModel(const std::string &path)
{
    auto file = io::MappedFile::open(path);
    if (!file)
        return file.error();
    std::vector<Piece> pieces;
    int modelType = 1; // UNIGRAM unless the trainer spec says otherwise
    bool byteFallback = false, addDummyPrefix = true, removeExtraWhitespaces = true;
    std::string normalizer = "nmt_nfkc";
    int64_t unkId = 0, bosId = 1, eosId = 2;

    Wire model((*file)->data(), (*file)->size());
    uint32_t field = 0, type = 0;
    while (model.next(field, type)) {
        if (field == 1 && type == 2) {
            Wire w = model.bytes();
            Piece p;
            while (w.next(field, type)) {
                if (field == 1 && type == 2)
                    p.text = w.string();
                else if (field == 2 && type == 5)
                    p.score = w.fixed32();
                else if (field == 3 && type == 0)
                    p.type = static_cast<int>(w.varint());
                else
                    w.skip(type);
            }
            pieces.push_back(std::move(p));
        } else if (field == 2 && type == 2) { // TrainerSpec
            Wire w = model.bytes();
            while (w.next(field, type)) {
                if (type != 0) {
                    w.skip(type);
                    continue;
                }
                const auto v = static_cast<int64_t>(w.varint());
                switch (field) {
                case 3:
                    modelType = static_cast<int>(v);
                    break;
                case 35:
                    byteFallback = v != 0;
                    break;
                case 40:
                    unkId = static_cast<int32_t>(v);
                    break;
                case 41:
                    bosId = static_cast<int32_t>(v);
                    break;
                case 42:
                    eosId = static_cast<int32_t>(v);
                    break;
                default:
                    break;
                }
            }
        } else if (field == 3 && type == 2) { // NormalizerSpec
            Wire w = model.bytes();
            while (w.next(field, type)) {
                if (field == 1 && type == 2)
                    normalizer = w.string();
                else if (field == 3 && type == 0)
                    addDummyPrefix = w.varint() != 0;
                else if (field == 4 && type == 0)
                    removeExtraWhitespaces = w.varint() != 0;
                else
                    w.skip(type);
            }
        } else {
            model.skip(type);
        }
    }
    if (!model.ok() || pieces.empty())
        return fileError(path, "not a SentencePiece model (damaged or empty ModelProto)");
    if (modelType != 2)
        return fileError(path,
            "only BPE SentencePiece models are supported (this one is "
                + std::string(modelType == 1 ? "unigram" : "word/char")
                + "); use its tokenizer.json");
    if (normalizer != "identity" || removeExtraWhitespaces)
        return fileError(path,
            "normaliser '" + normalizer + "'"
                + (removeExtraWhitespaces ? " with whitespace folding" : "")
                + " is not supported (identity only); use the model's tokenizer.json");

    BpeModel bpe;
    std::vector<AddedToken> added;
    for (size_t id = 0; id < pieces.size(); ++id) {
        const Piece &p = pieces[id];
        if (!bpe.addToken(p.text, static_cast<int64_t>(id)))
            return fileError(path, "has more than " + std::to_string(kMaxTokenId + 1) + " pieces");
        if (p.type == Control || p.type == UserDefined)
            added.push_back({ p.text, static_cast<int64_t>(id) });
    }
    // Merges: every split of a normal piece into two pieces, ranked by the merged piece's
    // score (higher first; SentencePiece's bpe_model.cc merges the best-scoring piece).
    std::vector<size_t> order;
    for (size_t id = 0; id < pieces.size(); ++id)
        if (pieces[id].type == Normal)
            order.push_back(id);
    std::stable_sort(order.begin(), order.end(),
        [&](size_t a, size_t b) { return pieces[a].score > pieces[b].score; });
    int64_t rank = 0;
    for (size_t id : order) {
        const std::string &text = pieces[id].text;
        for (size_t cut = 1; cut < text.size(); ++cut) {
            if ((static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
                continue; // inside a UTF-8 character
            const std::string left = text.substr(0, cut), right = text.substr(cut);
            const int64_t l = bpe.find(left), r = bpe.find(right);
            if (l >= 0 && r >= 0 && pieces[l].type == Normal && pieces[r].type == Normal)
                bpe.addMerge(left, right, rank);
        }
        ++rank;
    }
    auto tokenizer = std::make_unique<SentencePieceBpeTokenizer>(std::move(bpe), std::move(added),
        addDummyPrefix, byteFallback, unkId >= 0 ? std::optional<int64_t>(unkId) : std::nullopt);
    const auto id = [&](int64_t v) {
        return v >= 0 && v < static_cast<int64_t>(pieces.size()) ? std::optional<int64_t>(v)
                                                                 : std::nullopt;
    };
    tokenizer->setSpecialTokens(id(bosId), id(eosId), id(bosId).has_value());
    return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

} // namespace fscope::core::tokenize
