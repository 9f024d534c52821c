#pragma once
// Corpora as they are shipped: gzip (.gz) and Zstandard (.zst) files, read through zlib and
// libzstd in chunks into memory (never unpacked to disk). Several gzip members or zstd frames in
// one file (what split and parallel compressors write) are read one after another.

#include "core/util/result.h"

#include <string>

namespace fscope::core::io {

enum class Compression { None, Gzip, Zstd };

// By the file's last extension (.gz, .zst).
Compression compressionOf(const std::string &path);
// The name without its compression extension ("a.jsonl.gz" -> "a.jsonl").
std::string withoutCompression(const std::string &path);

// The whole decompressed content; refuses a corrupt or truncated file, naming it, and content
// larger than `limitBytes` (named too) before it is all in memory.
Result<std::string> readDecompressed(const std::string &path, uint64_t limitBytes);

} // namespace fscope::core::io
