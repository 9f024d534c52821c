#include "core/io/npy.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

namespace fscope::core::io {

namespace {

// A reader for the tiny subset of Python literals numpy writes in headers:
// {'key': 'str' | True | False | (int, ...), ...}
class LiteralReader {
public:
    explicit LiteralReader(std::string_view text)
        : m_text(text)
    {
    }

    void skipSpace()
    {
        while (m_pos < m_text.size() && std::isspace(static_cast<unsigned char>(m_text[m_pos])))
            ++m_pos;
    }
    bool consume(char c)
    {
        skipSpace();
        if (m_pos < m_text.size() && m_text[m_pos] == c) {
            ++m_pos;
            return true;
        }
        return false;
    }
    char peek()
    {
        skipSpace();
        return m_pos < m_text.size() ? m_text[m_pos] : '\0';
    }
    std::optional<std::string> string()
    {
        skipSpace();
        if (m_pos >= m_text.size() || (m_text[m_pos] != '\'' && m_text[m_pos] != '"'))
            return std::nullopt;
        const char quote = m_text[m_pos++];
        const size_t end = m_text.find(quote, m_pos);
        if (end == std::string_view::npos)
            return std::nullopt;
        std::string s(m_text.substr(m_pos, end - m_pos));
        m_pos = end + 1;
        return s;
    }
    std::optional<std::string> word()
    {
        skipSpace();
        const size_t start = m_pos;
        while (m_pos < m_text.size() && std::isalnum(static_cast<unsigned char>(m_text[m_pos])))
            ++m_pos;
        if (m_pos == start)
            return std::nullopt;
        return std::string(m_text.substr(start, m_pos - start));
    }

private:
    std::string_view m_text;
    size_t m_pos = 0;
};

struct DescrInfo {
    DType dtype;
    const char *code; // kind + itemsize
};

constexpr DescrInfo kDescrs[] = {
    { DType::Bool, "b1" },
    { DType::U8, "u1" },
    { DType::I8, "i1" },
    { DType::I16, "i2" },
    { DType::U16, "u2" },
    { DType::I32, "i4" },
    { DType::U32, "u4" },
    { DType::I64, "i8" },
    { DType::U64, "u8" },
    { DType::F16, "f2" },
    { DType::F32, "f4" },
    { DType::F64, "f8" },
    { DType::C64, "c8" },
};

Result<NpyHeader> parseDict(std::string_view text, NpyHeader h, const std::string &name)
{
    LiteralReader r(text);
    auto bad = [&](const std::string &why) { return fileError(name, "bad .npy header: " + why); };
    if (!r.consume('{'))
        return bad("not a dict");
    bool haveDescr = false, haveOrder = false, haveShape = false;
    while (!r.consume('}')) {
        auto key = r.string();
        if (!key || !r.consume(':'))
            return bad("expected 'key':");
        if (*key == "descr") {
            if (r.peek() == '[')
                return fileError(name, "structured (record) arrays are not supported");
            auto descr = r.string();
            if (!descr)
                return bad("descr is not a string");
            h.descr = *descr;
            haveDescr = true;
        } else if (*key == "fortran_order") {
            auto w = r.word();
            if (!w || (*w != "True" && *w != "False"))
                return bad("fortran_order is not True/False");
            h.fortranOrder = *w == "True";
            haveOrder = true;
        } else if (*key == "shape") {
            if (!r.consume('('))
                return bad("shape is not a tuple");
            while (!r.consume(')')) {
                auto n = r.word();
                if (!n || n->find_first_not_of("0123456789") != std::string::npos || n->size() > 18)
                    return bad("shape holds a non-integer");
                h.shape.push_back(std::stoll(*n));
                r.consume(',');
            }
            haveShape = true;
        } else {
            return bad("unexpected key '" + *key + "'");
        }
        r.consume(',');
    }
    if (!haveDescr || !haveOrder || !haveShape)
        return bad("descr, fortran_order and shape are all required");
    return h;
}

} // namespace

Result<NpyHeader> parseNpyHeader(
    const uint8_t *bytes, uint64_t size, const std::string &name, uint64_t available)
{
    available = std::min(available, size);
    if (available < 10 || std::memcmp(bytes, "\x93NUMPY", 6) != 0)
        return fileError(name, "not an .npy array (magic \\x93NUMPY missing)");
    const int major = bytes[6];
    uint64_t headerLen = 0, prefix = 0;
    if (major == 1) {
        headerLen = bytes[8] | (bytes[9] << 8);
        prefix = 10;
    } else if (major == 2 || major == 3) {
        if (available < 12)
            return fileError(name, "truncated .npy header");
        headerLen = static_cast<uint64_t>(bytes[8]) | (bytes[9] << 8) | (bytes[10] << 16)
            | (static_cast<uint64_t>(bytes[11]) << 24);
        prefix = 12;
    } else {
        return fileError(name, "unsupported .npy version " + std::to_string(major));
    }
    if (prefix + headerLen > available)
        return fileError(name, "truncated .npy header");
    NpyHeader h;
    h.dataOffset = prefix + headerLen;
    auto parsed = parseDict(
        std::string_view(reinterpret_cast<const char *>(bytes + prefix), headerLen), h, name);
    if (!parsed)
        return parsed;
    h = std::move(parsed).value();

    if (h.descr.find('O') != std::string::npos)
        return fileError(name,
            "object array: it holds pickled Python objects, which are "
            "never loaded");
    if (h.descr.size() < 3
        || (h.descr[0] != '<' && h.descr[0] != '>' && h.descr[0] != '|' && h.descr[0] != '='))
        return fileError(name, "unsupported dtype '" + h.descr + "'");
    h.bigEndian = h.descr[0] == '>';
    const std::string code = h.descr.substr(1);
    bool known = false;
    for (const auto &d : kDescrs) {
        if (code == d.code) {
            h.dtype = d.dtype;
            known = true;
        }
    }
    if (!known)
        return fileError(name, "unsupported dtype '" + h.descr + "'");

    const auto numel = elementCount(h.shape);
    const auto bytesNeeded = numel ? byteSize(h.dtype, *numel) : std::nullopt;
    if (!bytesNeeded)
        return fileError(name, "shape " + formatShape(h.shape) + " overflows");
    h.dataBytes = *bytesNeeded;
    if (h.dataOffset + h.dataBytes > size)
        return fileError(name,
            "truncated: " + h.descr + " " + formatShape(h.shape) + " needs "
                + std::to_string(h.dataBytes) + " data bytes, "
                + std::to_string(size - h.dataOffset) + " present");
    return h;
}

std::string npyDescr(DType dtype)
{
    for (const auto &d : kDescrs)
        if (d.dtype == dtype)
            return std::string(dtypeBits(dtype) == 8 ? "|" : "<") + d.code;
    return {};
}

std::string makeNpyHeader(DType dtype, const std::vector<int64_t> &shape)
{
    // Python tuple syntax: "()", "(3,)", "(2, 3)".
    std::string shapeText = "(";
    for (size_t i = 0; i < shape.size(); ++i)
        shapeText += (i ? ", " : "") + std::to_string(shape[i]);
    shapeText += shape.size() == 1 ? ",)" : ")";
    std::string dict = "{'descr': '" + npyDescr(dtype)
        + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
    const bool v2 = dict.size() + 11 > 65535;
    const size_t prefix = v2 ? 12 : 10;
    const size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64; // numpy's ARRAY_ALIGN
    dict.append(total - prefix - dict.size() - 1, ' ');
    dict += '\n';
    std::string out("\x93NUMPY", 6);
    out += static_cast<char>(v2 ? 2 : 1);
    out += '\0';
    const uint32_t len = static_cast<uint32_t>(dict.size());
    for (size_t i = 0; i < prefix - 8; ++i)
        out += static_cast<char>((len >> (8 * i)) & 0xff);
    return out + dict;
}

} // namespace fscope::core::io
