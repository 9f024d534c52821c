#pragma once
// An .npz archive (numpy.savez / savez_compressed): one .npy member per array.

#include "core/io/npy.h"
#include "core/io/zip_archive.h"

namespace fscope::core::io {

struct NpyArray {
    NpyHeader header;
    std::vector<uint8_t> bytes; // the whole .npy image; data at header.dataOffset
};

class NpzFile {
public:
    static Result<NpzFile> open(const std::string &path);

    const std::string &path() const { return m_zip.path(); }
    // Array names in archive order ("W_enc" for member "W_enc.npy").
    std::vector<std::string> names() const;
    // Reads only the member's header (inflating a few KB at most).
    Result<NpyHeader> header(const std::string &name) const;
    Result<NpyArray> read(const std::string &name) const;

private:
    explicit NpzFile(ZipArchive zip)
        : m_zip(std::move(zip))
    {
    }
    Result<const ZipEntry *> member(const std::string &name) const;
    ZipArchive m_zip;
};

} // namespace fscope::core::io
