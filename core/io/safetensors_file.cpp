#include "core/io/safetensors_file.h"

namespace fscope::core::io {

Result<SafetensorsFile> SafetensorsFile::open(const std::string &path)
{
    auto mapped = MappedFile::open(path);
    if (!mapped)
        return mapped.error();
    auto header = parseSafetensorsHeader((*mapped)->data(), (*mapped)->size(), path);
    if (!header)
        return header.error();
    SafetensorsFile f;
    f.m_file = std::move(mapped).value();
    f.m_header = std::move(header).value();
    return f;
}

uint8_t *SafetensorsFile::bytes(const TensorEntry &entry) const
{
    return m_file->data() + m_header.dataStart + entry.begin;
}

} // namespace fscope::core::io
