#pragma once
// Corpora for indexing: plain text (one document per line, or one per file), JSONL with a text
// field, or a directory of such files, cut into fixed-length token contexts. Documents are
// taken in an order shuffled by the seed until the token budget is filled, so the same spec
// gives the same contexts on every machine; the fingerprint names exactly that.

#include "core/jobs/progress.h"
#include "core/tokenize/tokenizer.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace fscope::core::corpus {

enum class Split { Lines, Files };

struct CorpusSpec {
    std::vector<std::string> paths; // files or directories (searched recursively)
    Split split = Split::Lines; // plain text: a document per non-empty line, or per file
    std::string textField = "text"; // JSONL: the field holding a document's text
    int64_t contextLength = 128;
    int64_t tokenBudget = int64_t { 1 } << 20;
    uint64_t seed = 0;
};

struct Corpus {
    std::string fingerprint;
    int64_t contextLength = 0;
    std::vector<int32_t> ids; // contexts x contextLength, row-major
    int64_t documents = 0; // documents found (not only those used)
    int64_t files = 0;

    int64_t contexts() const
    {
        return contextLength ? static_cast<int64_t>(ids.size()) / contextLength : 0;
    }
    int64_t tokens() const { return static_cast<int64_t>(ids.size()); }
    const int32_t *context(int64_t i) const { return ids.data() + i * contextLength; }
};

// The files a spec reads, in their fixed order, or an error naming a missing path.
Result<std::vector<std::string>> corpusFiles(const CorpusSpec &spec);

// Reads, validates (UTF-8, JSONL fields) and tokenizes the corpus. Each context starts with
// the tokenizer's BOS when it has one; documents are separated by BOS (else EOS). Errors name
// the file and line.
Result<Corpus> buildCorpus(const CorpusSpec &spec, const tokenize::Tokenizer &tokenizer,
    const std::string &tokenizerFingerprint, jobs::Progress *progress = nullptr);

// Token ids never counted in feature statistics: BOS, EOS (and PAD when known).
std::set<int64_t> specialTokens(const tokenize::Tokenizer &tokenizer);

// "3M", "100k", "2.5m", "4096" -> a token count; an error for anything else.
Result<int64_t> parseTokenCount(const std::string &text);

// A deterministic 64-bit mix (splitmix64), the project's seeded randomness where results must
// not depend on the standard library's distributions.
uint64_t mix64(uint64_t x);

} // namespace fscope::core::corpus
