#pragma once
// Splitting a corpus file's text into documents (a line of text or JSONL, or the whole file),
// with the checks every document passes before it is tokenized: valid UTF-8, a JSON object
// with the text field on every JSONL line, and no document past kMaxDocumentBytes.

#include "core/corpus/corpus.h"
#include "core/util/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fscope::core::corpus {

// One document is tokenized whole, so a single line of gigabytes would be held several times
// over (its text, its pieces, its ids) before a context is cut from it: past this it is refused
// with the limit named, before any of that is allocated.
constexpr uint64_t kMaxDocumentBytes = uint64_t(64) << 20;

struct Document {
    uint32_t file;
    uint64_t begin, end; // byte range in the file (a JSONL document is its whole line)
    uint32_t line; // 1-based, for error messages
};

// JSONL by its name under any compression extension ("a.jsonl.zst" is JSONL).
bool isJsonl(const std::string &path);

// Length of the valid UTF-8 prefix of `s` (s.size() when it is all valid).
size_t validUtf8Prefix(std::string_view s);

// Appends the documents of one file's text to `docs`; an error names the file and line.
Status scanCorpusText(const std::string &path, uint32_t fileIndex, std::string_view text,
    const CorpusSpec &spec, std::vector<Document> &docs);

// A scanned document's text (the JSONL field's value, unescaped).
std::string documentText(
    std::string_view file, const Document &d, bool jsonl, const std::string &field);

} // namespace fscope::core::corpus
