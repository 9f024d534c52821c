// Corpus files: byte 0 picks the name (bit 0: .jsonl or .txt) and the split (bit 1: a document
// per file or per line); the rest is the file's text. Every accepted document lies inside the
// text, is no larger than the document limit, and yields its text (a JSONL document's field
// was checked to be a string, so reading it cannot fail).

#include "core/corpus/corpus_scan.h"
#include "tests/fuzz/fuzz_support.h"

#include <exception>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace fscope::core::corpus;
    if (size < 1)
        return 0;
    const bool jsonl = data[0] & 1;
    CorpusSpec spec;
    spec.split = (data[0] & 2) ? Split::Files : Split::Lines;
    const std::string path = jsonl ? "corpus.jsonl" : "corpus.txt";
    const std::string_view text(reinterpret_cast<const char *>(data) + 1, size - 1);
    std::vector<Document> docs;
    if (!scanCorpusText(path, 0, text, spec, docs))
        return 0;
    FUZZ_EXPECT(validUtf8Prefix(text) == text.size());
    for (const Document &d : docs) {
        FUZZ_EXPECT(d.begin <= d.end && d.end <= text.size());
        FUZZ_EXPECT(d.end - d.begin <= kMaxDocumentBytes);
        try {
            const std::string body = documentText(text, d, jsonl, spec.textField);
            if (!jsonl)
                FUZZ_EXPECT(body.size() == d.end - d.begin);
        } catch (const std::exception &) {
            FUZZ_EXPECT(!"an accepted document's text could not be read");
        }
    }
    return 0;
}
