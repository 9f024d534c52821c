#pragma once
// The demo corpus: English text from Debian packages, one document per line.
//  - fortunes (BSD fortune's data files, /usr/share/games/fortunes): one fortune per document;
//  - the Jargon File (jargon-text, public domain): one paragraph per document.
// Documents are shuffled by the seed (splitmix64 Fisher-Yates) and split into training,
// held-out and indexing parts, so the same inputs always give the same three files.

#include "core/util/result.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fscope::demo {

using core::fileError;
using core::Result;
using core::Status;

// Fortunes of every file in `dir` except the ones named in `skip` (e.g. ASCII art).
Result<std::vector<std::string>> readFortunes(
    const std::string &dir, const std::vector<std::string> &skip);
// Blank-line separated paragraphs of a plain-text file with at least `minWords` words.
Result<std::vector<std::string>> readParagraphs(const std::string &file, int minWords);

struct TextSplit {
    std::vector<std::string> train, heldout, index;
};
TextSplit splitDocuments(
    std::vector<std::string> documents, uint64_t seed, double heldoutShare, double indexShare);

Status writeLines(const std::string &path, const std::vector<std::string> &lines);
Result<std::vector<std::string>> readLines(const std::string &path);

} // namespace fscope::demo
