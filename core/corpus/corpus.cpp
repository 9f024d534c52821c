#include "core/corpus/corpus.h"

#include "core/corpus/corpus_scan.h"

#include "core/io/compressed_file.h"
#include "core/io/mapped_file.h"
#include "core/store/fingerprint.h"
#include "core/store/sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string_view>

namespace fs = std::filesystem;

namespace fscope::core::corpus {

namespace {

bool isCorpusFile(const fs::path &p)
{
    const std::string ext = fs::path(io::withoutCompression(p.string())).extension().string();
    return ext == ".txt" || ext == ".text" || ext == ".md" || ext == ".jsonl" || ext == ".ndjson";
}

// A corpus file's text: mapped as it is, or decompressed into memory.
struct FileText {
    std::shared_ptr<io::MappedFile> mapped;
    std::string decompressed;
    std::string_view view() const
    {
        if (mapped)
            return { reinterpret_cast<const char *>(mapped->data()), mapped->size() };
        return decompressed;
    }
};

// A compressed corpus is held decompressed in memory; past this it is refused (with the
// advice to split it), rather than the machine swapping.
constexpr uint64_t kDecompressedLimit = uint64_t(64) << 30;

Result<std::shared_ptr<FileText>> openText(const std::string &path)
{
    auto text = std::make_shared<FileText>();
    if (io::compressionOf(path) == io::Compression::None) {
        FS_TRY(text->mapped, io::MappedFile::open(path));
        return text;
    }
    auto bytes = io::readDecompressed(path, kDecompressedLimit);
    if (!bytes)
        return Error { bytes.errorMessage()
            + (bytes.errorMessage().find("more than") != std::string::npos
                    ? ": split it into shards (a directory of .zst/.gz files is read as one corpus)"
                    : "") };
    text->decompressed = std::move(bytes).value();
    return text;
}

} // namespace

uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

Result<std::vector<std::string>> corpusFiles(const CorpusSpec &spec)
{
    if (spec.paths.empty())
        return Error { "no corpus given" };
    std::vector<std::string> files;
    for (const auto &name : spec.paths) {
        const std::string &p = name;
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<std::string> found;
            for (const auto &entry : fs::recursive_directory_iterator(p, ec))
                if (entry.is_regular_file() && isCorpusFile(entry.path()))
                    found.push_back(entry.path().string());
            std::sort(found.begin(), found.end());
            if (found.empty())
                return fileError(p,
                    "no corpus files (.txt, .text, .md, .jsonl, .ndjson, each also as .gz or "
                    ".zst) in this directory");
            files.insert(files.end(), found.begin(), found.end());
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        } else {
            return fileError(p, "no such corpus file or directory");
        }
    }
    return files;
}

std::set<int64_t> specialTokens(const tokenize::Tokenizer &tokenizer)
{
    std::set<int64_t> special;
    for (auto id : { tokenizer.bosId(), tokenizer.eosId() })
        if (id)
            special.insert(*id);
    for (const char *name : { "<pad>", "[PAD]", "<|pad|>" })
        if (auto id = tokenizer.tokenId(name))
            special.insert(*id);
    return special;
}

Result<Corpus> buildCorpus(const CorpusSpec &spec, const tokenize::Tokenizer &tokenizer,
    const std::string &tokenizerFingerprint, jobs::Progress *progress)
{
    if (spec.contextLength < 2)
        return Error { "context length must be at least 2 tokens" };
    if (spec.tokenBudget < spec.contextLength)
        return Error { "token budget " + std::to_string(spec.tokenBudget)
            + " is smaller than one context (" + std::to_string(spec.contextLength) + " tokens)" };
    std::vector<std::string> files;
    FS_TRY(files, corpusFiles(spec));

    Corpus corpus;
    corpus.contextLength = spec.contextLength;
    corpus.files = static_cast<int64_t>(files.size());
    FS_TRY(corpus.fingerprint, store::corpusFingerprint(spec, tokenizerFingerprint));

    std::vector<std::shared_ptr<FileText>> mapped;
    std::vector<Document> docs;
    if (progress)
        progress->begin(static_cast<int64_t>(files.size()), "reading the corpus");
    for (size_t i = 0; i < files.size(); ++i) {
        std::shared_ptr<FileText> file;
        FS_TRY(file, openText(files[i]));
        if (auto s = scanCorpusText(files[i], static_cast<uint32_t>(i), file->view(), spec, docs);
            !s)
            return s.error();
        mapped.push_back(std::move(file));
        if (progress)
            progress->advance();
    }
    if (docs.empty())
        return fileError(
            files.size() == 1 ? files[0] : spec.paths[0], "the corpus is empty (no documents)");
    corpus.documents = static_cast<int64_t>(docs.size());

    // Fisher-Yates with our own generator: the order must not depend on the C++ library.
    uint64_t state = mix64(spec.seed ^ 0x636F72707573ULL);
    for (size_t i = docs.size(); i > 1; --i) {
        state = mix64(state);
        std::swap(docs[i - 1], docs[state % i]);
    }

    const auto bos = tokenizer.bosId();
    const auto separator = bos ? bos : tokenizer.eosId();
    const int64_t T = spec.contextLength, body = T - (bos ? 1 : 0);
    const int64_t wanted = std::max<int64_t>(1, spec.tokenBudget / T);
    corpus.ids.reserve(static_cast<size_t>(wanted * T));
    std::vector<int32_t> pending; // stream tokens not yet in a context
    size_t pendingStart = 0;
    if (progress)
        progress->begin(wanted, "tokenizing the corpus");
    for (size_t d = 0; d < docs.size() && corpus.contexts() < wanted; ++d) {
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        const Document &doc = docs[d];
        const auto enc = tokenizer.encode(
            documentText(mapped[doc.file]->view(), doc, isJsonl(files[doc.file]), spec.textField));
        if (d > 0 && separator)
            pending.push_back(static_cast<int32_t>(*separator));
        for (int64_t id : enc.ids)
            pending.push_back(static_cast<int32_t>(id));
        while (static_cast<int64_t>(pending.size() - pendingStart) >= body
            && corpus.contexts() < wanted) {
            if (bos)
                corpus.ids.push_back(static_cast<int32_t>(*bos));
            corpus.ids.insert(corpus.ids.end(),
                pending.begin() + static_cast<std::ptrdiff_t>(pendingStart),
                pending.begin()
                    + static_cast<std::ptrdiff_t>(pendingStart + static_cast<size_t>(body)));
            pendingStart += static_cast<size_t>(body);
            if (progress)
                progress->advance();
        }
        if (pendingStart > (1u << 20)) { // drop the consumed prefix now and then
            pending.erase(
                pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pendingStart));
            pendingStart = 0;
        }
    }
    if (corpus.contexts() == 0)
        return fileError(files.size() == 1 ? files[0] : spec.paths[0],
            "too short for one context of " + std::to_string(T) + " tokens");
    return corpus;
}

Result<int64_t> parseTokenCount(const std::string &text)
{
    if (text.empty())
        return Error { "empty token count" };
    size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (...) {
        return Error { "not a token count: '" + text + "' (use e.g. 4096, 100k, 3M)" };
    }
    const std::string suffix = text.substr(used);
    double scale = 1;
    if (suffix == "k" || suffix == "K")
        scale = 1e3;
    else if (suffix == "m" || suffix == "M")
        scale = 1e6;
    else if (suffix == "g" || suffix == "G" || suffix == "b" || suffix == "B")
        scale = 1e9;
    else if (!suffix.empty())
        return Error { "not a token count: '" + text + "' (use e.g. 4096, 100k, 3M)" };
    if (!(value > 0) || !std::isfinite(value))
        return Error { "token count must be positive: '" + text + "'" };
    return static_cast<int64_t>(std::llround(value * scale));
}

} // namespace fscope::core::corpus
