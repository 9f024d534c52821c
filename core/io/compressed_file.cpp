#include "core/io/compressed_file.h"

#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

namespace fscope::core::io {

namespace {

std::string mib(uint64_t bytes)
{
    return std::to_string(bytes >> 20) + " MiB";
}

Result<std::string> readGzip(const std::string &path, uint64_t limit)
{
    // zlib would pass a file without the gzip magic through as it is: check it first.
    {
        std::unique_ptr<FILE, decltype(&std::fclose)> f(
            std::fopen(path.c_str(), "rb"), &std::fclose);
        unsigned char magic[2] = { 0, 0 };
        if (!f)
            return fileError(path, "cannot open");
        if (std::fread(magic, 1, 2, f.get()) != 2 || magic[0] != 0x1f || magic[1] != 0x8b)
            return fileError(path, "not a gzip file (no gzip header), though it is named .gz");
    }
    // gzread continues across concatenated members by itself.
    gzFile in = gzopen(path.c_str(), "rb");
    if (!in)
        return fileError(path, "cannot open");
    std::unique_ptr<gzFile_s, decltype(&gzclose)> guard(in, &gzclose);
    gzbuffer(in, 1 << 17);
    std::string out;
    std::vector<char> chunk(1 << 20);
    while (true) {
        const int n = gzread(in, chunk.data(), static_cast<unsigned>(chunk.size()));
        if (n < 0) {
            int code = 0;
            const char *message = gzerror(in, &code);
            return fileError(path,
                std::string("not a valid gzip file (") + (message ? message : "read error") + ")");
        }
        if (n == 0)
            break;
        out.append(chunk.data(), static_cast<size_t>(n));
        if (out.size() > limit)
            return fileError(path, "decompresses to more than " + mib(limit));
    }
    // A truncated member reads as a short end of file: zlib says so only here.
    int code = 0;
    gzerror(in, &code);
    if (code != Z_OK && code != Z_BUF_ERROR)
        return fileError(path, "not a valid gzip file (truncated or corrupt)");
    if (code == Z_BUF_ERROR)
        return fileError(path, "truncated gzip file (it ends inside a compressed block)");
    return out;
}

Result<std::string> readZstd(const std::string &path, uint64_t limit)
{
    std::unique_ptr<FILE, decltype(&std::fclose)> in(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!in)
        return fileError(path, "cannot open");
    std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> stream(
        ZSTD_createDStream(), &ZSTD_freeDStream);
    ZSTD_initDStream(stream.get());
    std::vector<char> input(ZSTD_DStreamInSize()), output(ZSTD_DStreamOutSize());
    std::string out;
    size_t last = 0; // 0 once a frame is complete
    bool any = false;
    while (true) {
        const size_t read = std::fread(input.data(), 1, input.size(), in.get());
        if (read == 0)
            break;
        any = true;
        ZSTD_inBuffer src { input.data(), read, 0 };
        while (src.pos < src.size) {
            ZSTD_outBuffer dst { output.data(), output.size(), 0 };
            last = ZSTD_decompressStream(stream.get(), &dst, &src);
            if (ZSTD_isError(last))
                return fileError(
                    path, std::string("not a valid zstd file (") + ZSTD_getErrorName(last) + ")");
            out.append(output.data(), dst.pos);
            if (out.size() > limit)
                return fileError(path, "decompresses to more than " + mib(limit));
        }
    }
    if (any && last != 0)
        return fileError(path, "truncated zstd file (it ends inside a frame)");
    return out;
}

} // namespace

Compression compressionOf(const std::string &path)
{
    const std::string ext = std::filesystem::path(path).extension().string();
    if (ext == ".gz")
        return Compression::Gzip;
    if (ext == ".zst")
        return Compression::Zstd;
    return Compression::None;
}

std::string withoutCompression(const std::string &path)
{
    if (compressionOf(path) == Compression::None)
        return path;
    return std::filesystem::path(path).replace_extension().string();
}

Result<std::string> readDecompressed(const std::string &path, uint64_t limitBytes)
{
    switch (compressionOf(path)) {
    case Compression::Gzip:
        return readGzip(path, limitBytes);
    case Compression::Zstd:
        return readZstd(path, limitBytes);
    case Compression::None:
        break;
    }
    return fileError(path, "not a compressed file (.gz or .zst)");
}

} // namespace fscope::core::io
