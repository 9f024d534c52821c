#include "core/corpus/corpus_scan.h"

#include "core/io/compressed_file.h"
#include "core/util/json_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace fscope::core::corpus {

bool isJsonl(const std::string &path)
{
    const std::string ext = fs::path(io::withoutCompression(path)).extension().string();
    return ext == ".jsonl" || ext == ".ndjson";
}

size_t validUtf8Prefix(std::string_view s)
{
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        int len = 0;
        uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else
            return i;
        if (i + static_cast<size_t>(len) > n)
            return i;
        for (int k = 1; k < len; ++k) {
            const auto d = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            if ((d & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (d & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF are invalid too.
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
            || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return i;
        i += static_cast<size_t>(len);
    }
    return n;
}

namespace {

std::string where(const std::string &file, uint32_t line)
{
    return file + ":" + std::to_string(line);
}

Status checkSize(const std::string &path, uint32_t line, uint64_t bytes, const char *what)
{
    if (bytes <= kMaxDocumentBytes)
        return {};
    return fileError(where(path, line),
        std::string(what) + " is " + formatBytes(bytes) + ", past the "
            + formatBytes(kMaxDocumentBytes)
            + " a document may be; split it into smaller documents");
}

} // namespace

Status scanCorpusText(const std::string &path, uint32_t fileIndex, std::string_view text,
    const CorpusSpec &spec, std::vector<Document> &docs)
{
    if (const size_t valid = validUtf8Prefix(text); valid != text.size()) {
        const auto line
            = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(valid), '\n');
        return fileError(where(path, static_cast<uint32_t>(line)),
            "not valid UTF-8 (byte offset " + std::to_string(valid) + ")");
    }
    const bool jsonl = isJsonl(path);
    if (!jsonl && spec.split == Split::Files) {
        if (auto s = checkSize(path, 1, text.size(), "the file"); !s)
            return s;
        if (text.find_first_not_of(" \t\r\n") != std::string_view::npos)
            docs.push_back({ fileIndex, 0, text.size(), 1 });
        return {};
    }
    uint32_t line = 0;
    for (size_t begin = 0; begin < text.size();) {
        size_t end = text.find('\n', begin);
        if (end == std::string_view::npos)
            end = text.size();
        ++line;
        const std::string_view row = text.substr(begin, end - begin);
        if (row.find_first_not_of(" \t\r") != std::string_view::npos) {
            if (auto s = checkSize(path, line, row.size(), "the line"); !s)
                return s;
            if (jsonl) {
                if (auto deep = checkJsonDepth(row, where(path, line)); !deep)
                    return deep;
                nlohmann::json j = nlohmann::json::parse(row, nullptr, false);
                if (j.is_discarded())
                    return fileError(where(path, line), "not a JSON object");
                if (!j.is_object() || !j.contains(spec.textField))
                    return fileError(where(path, line), "no \"" + spec.textField + "\" field");
                if (!j[spec.textField].is_string())
                    return fileError(
                        where(path, line), "field \"" + spec.textField + "\" is not a string");
            }
            docs.push_back({ fileIndex, begin, end, line });
        }
        begin = end + 1;
    }
    return {};
}

std::string documentText(
    std::string_view file, const Document &d, bool jsonl, const std::string &field)
{
    const std::string_view row = file.substr(d.begin, d.end - d.begin);
    if (!jsonl)
        return std::string(row);
    return nlohmann::json::parse(row)[field].get<std::string>();
}

} // namespace fscope::core::corpus
