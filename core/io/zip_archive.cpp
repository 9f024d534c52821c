#include "core/io/zip_archive.h"

#include "core/io/atomic_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace fscope::core::io {

namespace {

// Field layouts: PKWARE APPNOTE 4.3.7 (local header), 4.3.12 (central directory),
// 4.3.14-16 (ZIP64 end records), 4.5.3 (ZIP64 extra field).
constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;

uint64_t le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

struct Cursor {
    const uint8_t *base;
    uint64_t size;
    bool has(uint64_t offset, uint64_t n) const { return offset <= size && n <= size - offset; }
};

} // namespace

const ZipEntry *ZipArchive::find(const std::string &name) const
{
    for (const auto &e : m_entries)
        if (e.name == name)
            return &e;
    return nullptr;
}

Result<ZipArchive> ZipArchive::open(const std::string &path)
{
    auto mapped = MappedFile::open(path);
    if (!mapped)
        return mapped.error();
    const Cursor c { (*mapped)->data(), (*mapped)->size() };
    auto bad = [&](const std::string &why) { return fileError(path, "bad zip archive: " + why); };

    // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
    if (c.size < 22)
        return bad("too small for an end-of-central-directory record");
    uint64_t end = UINT64_MAX;
    const uint64_t lowest = c.size > 22 + 65535 ? c.size - 22 - 65535 : 0;
    for (uint64_t pos = c.size - 22 + 1; pos-- > lowest;) {
        if (le(c.base + pos, 4) == kEndSig) {
            end = pos;
            break;
        }
    }
    if (end == UINT64_MAX)
        return bad("no end-of-central-directory record (not a zip, or truncated)");
    uint64_t count = le(c.base + end + 10, 2);
    uint64_t dirSize = le(c.base + end + 12, 4);
    uint64_t dirOffset = le(c.base + end + 16, 4);
    if (count == 0xFFFF || dirSize == 0xFFFFFFFF || dirOffset == 0xFFFFFFFF) {
        if (end < 20 || le(c.base + end - 20, 4) != kZip64LocatorSig)
            return bad("ZIP64 end locator missing");
        const uint64_t rec = le(c.base + end - 20 + 8, 8);
        if (!c.has(rec, 56) || le(c.base + rec, 4) != kZip64EndSig)
            return bad("ZIP64 end record missing or out of bounds");
        count = le(c.base + rec + 32, 8);
        dirSize = le(c.base + rec + 40, 8);
        dirOffset = le(c.base + rec + 48, 8);
    }
    if (!c.has(dirOffset, dirSize))
        return bad("central directory lies outside the file");

    ZipArchive archive;
    uint64_t pos = dirOffset;
    for (uint64_t i = 0; i < count; ++i) {
        if (!c.has(pos, 46) || le(c.base + pos, 4) != kCentralSig)
            return bad("central directory entry " + std::to_string(i) + " is damaged");
        const uint8_t *h = c.base + pos;
        ZipEntry e;
        e.method = static_cast<uint16_t>(le(h + 10, 2));
        e.crc32 = static_cast<uint32_t>(le(h + 16, 4));
        e.compressedSize = le(h + 20, 4);
        e.uncompressedSize = le(h + 24, 4);
        const uint64_t nameLen = le(h + 28, 2), extraLen = le(h + 30, 2),
                       commentLen = le(h + 32, 2);
        e.localHeaderOffset = le(h + 42, 4);
        if (!c.has(pos + 46, nameLen + extraLen + commentLen))
            return bad("central directory entry " + std::to_string(i) + " is truncated");
        e.name.assign(reinterpret_cast<const char *>(h + 46), nameLen);
        // ZIP64 extra: 64-bit values for exactly the fields that are saturated, in this order.
        const uint8_t *x = h + 46 + nameLen;
        for (uint64_t off = 0; off + 4 <= extraLen;) {
            const uint64_t id = le(x + off, 2), len = le(x + off + 2, 2);
            if (off + 4 + len > extraLen)
                return bad("extra field of '" + e.name + "' is truncated");
            if (id == 0x0001) {
                uint64_t f = off + 4;
                auto take = [&](uint64_t &field) {
                    if (field == 0xFFFFFFFF && f + 8 <= off + 4 + len) {
                        field = le(x + f, 8);
                        f += 8;
                    }
                };
                take(e.uncompressedSize);
                take(e.compressedSize);
                take(e.localHeaderOffset);
            }
            off += 4 + len;
        }
        if (!c.has(e.localHeaderOffset, 30) || le(c.base + e.localHeaderOffset, 4) != kLocalSig)
            return bad("local header of '" + e.name + "' is missing");
        const uint8_t *l = c.base + e.localHeaderOffset;
        e.dataOffset = e.localHeaderOffset + 30 + le(l + 26, 2) + le(l + 28, 2);
        if (!c.has(e.dataOffset, e.compressedSize))
            return fileError(path,
                "member '" + e.name + "' is truncated (needs " + std::to_string(e.compressedSize)
                    + " bytes)");
        if (e.method != 0 && e.method != 8)
            return fileError(path,
                "member '" + e.name + "' uses compression method " + std::to_string(e.method)
                    + " (only stored and deflate)");
        archive.m_entries.push_back(std::move(e));
        pos += 46 + nameLen + extraLen + commentLen;
    }
    archive.m_file = std::move(mapped).value();
    return archive;
}

Result<std::vector<uint8_t>> ZipArchive::read(const ZipEntry &entry) const
{
    return extract(entry, UINT64_MAX);
}

Result<std::vector<uint8_t>> ZipArchive::readPrefix(const ZipEntry &entry, uint64_t count) const
{
    return extract(entry, count);
}

Result<std::vector<uint8_t>> ZipArchive::extract(const ZipEntry &entry, uint64_t limit) const
{
    const uint8_t *src = m_file->data() + entry.dataOffset;
    const uint64_t want = std::min(limit, entry.uncompressedSize);
    const bool whole = want == entry.uncompressedSize;
    std::vector<uint8_t> out;
    if (entry.method == 0) {
        if (entry.compressedSize != entry.uncompressedSize)
            return fileError(path(), "stored member '" + entry.name + "' has inconsistent sizes");
        out.assign(src, src + want);
    } else {
        // Deflate expands at most 1032:1 (RFC 1951's longest match from a 2-bit code), so a
        // size claimed beyond that is a lie: refuse it before allocating what it claims.
        constexpr uint64_t kMaxDeflateRatio = 1032;
        if (want / kMaxDeflateRatio > entry.compressedSize + 64)
            return fileError(path(),
                "member '" + entry.name + "' claims " + std::to_string(entry.uncompressedSize)
                    + " bytes from " + std::to_string(entry.compressedSize)
                    + " compressed bytes, more than deflate can produce (1032:1)");
        out.resize(want);
        z_stream z {};
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) // raw deflate, as ZIP stores it
            return fileError(path(), "zlib initialisation failed");
        uint64_t inLeft = entry.compressedSize, outDone = 0;
        const uint8_t *in = src;
        int rc = Z_OK;
        while (outDone < want && rc == Z_OK) {
            const uInt inChunk = static_cast<uInt>(std::min<uint64_t>(inLeft, 1u << 30));
            const uInt outChunk = static_cast<uInt>(std::min<uint64_t>(want - outDone, 1u << 30));
            z.next_in = const_cast<Bytef *>(in);
            z.avail_in = inChunk;
            z.next_out = out.data() + outDone;
            z.avail_out = outChunk;
            rc = inflate(&z, Z_NO_FLUSH);
            in += inChunk - z.avail_in;
            inLeft -= inChunk - z.avail_in;
            outDone += outChunk - z.avail_out;
            if (rc == Z_BUF_ERROR && z.avail_in == 0 && inLeft == 0)
                break;
            if (rc == Z_BUF_ERROR)
                rc = Z_OK; // output chunk full; go on
        }
        inflateEnd(&z);
        if (outDone != want || (rc != Z_OK && rc != Z_STREAM_END))
            return fileError(path(),
                "member '" + entry.name + "' is corrupt (deflate stream "
                    + (rc == Z_DATA_ERROR ? "damaged" : "ends early") + ")");
    }
    if (whole) {
        uLong crc = crc32(0L, Z_NULL, 0);
        for (uint64_t off = 0; off < out.size(); off += 1u << 30)
            crc = crc32(crc, out.data() + off,
                static_cast<uInt>(std::min<uint64_t>(out.size() - off, 1u << 30)));
        if (crc != entry.crc32)
            return fileError(path(), "member '" + entry.name + "' fails its CRC-32 check");
    }
    return out;
}

struct ZipWriter::Impl {
    AtomicFile file;
    std::string directory;
    uint64_t count = 0;
    Status error;
    explicit Impl(std::string p)
        : file(std::move(p))
    {
    }
};

namespace {

void put(std::string &s, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        s += static_cast<char>((v >> (8 * i)) & 0xff);
}

} // namespace

ZipWriter::ZipWriter(std::string path)
    : d(std::make_unique<Impl>(std::move(path)))
{
}
ZipWriter::~ZipWriter() = default;

Status ZipWriter::add(const std::string &name, const std::string &bytes, bool compress)
{
    std::string data = bytes;
    if (compress) {
        z_stream z {};
        deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        data.resize(deflateBound(&z, bytes.size()));
        z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(bytes.data()));
        z.avail_in = static_cast<uInt>(bytes.size());
        z.next_out = reinterpret_cast<Bytef *>(data.data());
        z.avail_out = static_cast<uInt>(data.size());
        deflate(&z, Z_FINISH);
        data.resize(z.total_out);
        deflateEnd(&z);
    }
    if (bytes.size() >= 0xFFFFFFFFull || data.size() >= 0xFFFFFFFFull
        || d->file.position() >= 0xFFFFFFFFull)
        return Error { "zip member '" + name + "' is too large (over 4 GiB)" };
    const uint32_t crc = static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0),
        reinterpret_cast<const Bytef *>(bytes.data()), static_cast<uInt>(bytes.size())));
    const uint16_t method = compress ? 8 : 0;
    const uint64_t offset = d->file.position();

    std::string local;
    put(local, kLocalSig, 4);
    put(local, 20, 2); // version needed
    put(local, 0, 2); // flags
    put(local, method, 2);
    put(local, 0, 4); // time, date
    put(local, crc, 4);
    put(local, data.size(), 4);
    put(local, bytes.size(), 4);
    put(local, name.size(), 2);
    put(local, 0, 2);
    local += name;
    d->file.write(local.data(), local.size());
    d->file.write(data.data(), data.size());

    std::string &c = d->directory;
    put(c, kCentralSig, 4);
    put(c, 20, 2); // made by
    put(c, 20, 2);
    put(c, 0, 2);
    put(c, method, 2);
    put(c, 0, 4);
    put(c, crc, 4);
    put(c, data.size(), 4);
    put(c, bytes.size(), 4);
    put(c, name.size(), 2);
    put(c, 0, 2); // extra
    put(c, 0, 2); // comment
    put(c, 0, 2); // disk
    put(c, 0, 2); // internal attributes
    put(c, 0, 4); // external attributes
    put(c, offset, 4);
    c += name;
    ++d->count;
    return {};
}

Status ZipWriter::finish()
{
    const uint64_t dirOffset = d->file.position();
    std::string end;
    put(end, kEndSig, 4);
    put(end, 0, 4); // disk numbers
    put(end, d->count, 2);
    put(end, d->count, 2);
    put(end, d->directory.size(), 4);
    put(end, dirOffset, 4);
    put(end, 0, 2);
    d->file.write(d->directory.data(), d->directory.size());
    d->file.write(end.data(), end.size());
    return d->file.commit();
}

} // namespace fscope::core::io
