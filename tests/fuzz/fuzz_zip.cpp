// Zip archives as .npz files are: the end record (and ZIP64), the central directory, local
// headers, stored and deflated members with their CRCs. Every entry of an accepted archive is
// read, as the npz loader does.

#include "core/io/zip_archive.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace fscope::core::io;
    const std::string path = fscope::fuzz::writeFile(
        "fuzz.npz", std::string_view(reinterpret_cast<const char *>(data), size));
    auto zip = ZipArchive::open(path);
    if (!zip)
        return 0;
    for (const ZipEntry &entry : zip->entries()) {
        auto prefix = zip->readPrefix(entry, 128);
        if (prefix)
            FUZZ_EXPECT(prefix->size() <= 128);
        // The whole member: what it claims is bounded by what deflate can produce from the
        // bytes there, so this never allocates more than ~1000x the input.
        auto bytes = zip->read(entry);
        if (bytes)
            FUZZ_EXPECT(bytes->size() == entry.uncompressedSize);
    }
    return 0;
}
