#pragma once
// A read-only ZIP reader for .npz files, driven by the central directory (so data-descriptor
// members work), with ZIP64 records, stored and deflated members, and CRC-32 checks.

#include "core/io/mapped_file.h"

#include <memory>
#include <vector>

namespace fscope::core::io {

struct ZipEntry {
    std::string name;
    uint16_t method = 0; // 0 stored, 8 deflated
    uint32_t crc32 = 0;
    uint64_t compressedSize = 0;
    uint64_t uncompressedSize = 0;
    uint64_t localHeaderOffset = 0;
    uint64_t dataOffset = 0; // resolved from the local header
};

class ZipArchive {
public:
    static Result<ZipArchive> open(const std::string &path);

    const std::string &path() const { return m_file->path(); }
    const std::vector<ZipEntry> &entries() const { return m_entries; }
    const ZipEntry *find(const std::string &name) const;

    // The whole member, decompressed and CRC-checked.
    Result<std::vector<uint8_t>> read(const ZipEntry &entry) const;
    // The first `count` bytes (or fewer), without decompressing the rest.
    Result<std::vector<uint8_t>> readPrefix(const ZipEntry &entry, uint64_t count) const;

private:
    Result<std::vector<uint8_t>> extract(const ZipEntry &entry, uint64_t limit) const;
    std::shared_ptr<MappedFile> m_file;
    std::vector<ZipEntry> m_entries;
};

// Writes a ZIP file member by member (stored or deflated). Members over 4 GiB are refused.
class ZipWriter {
public:
    explicit ZipWriter(std::string path);
    ~ZipWriter();
    Status add(const std::string &name, const std::string &bytes, bool compress);
    Status finish();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace fscope::core::io
