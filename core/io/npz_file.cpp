#include "core/io/npz_file.h"

namespace fscope::core::io {

namespace {

std::string arrayName(const std::string &member)
{
    const std::string suffix = ".npy";
    if (member.size() > suffix.size() && member.ends_with(suffix))
        return member.substr(0, member.size() - suffix.size());
    return member;
}

} // namespace

Result<NpzFile> NpzFile::open(const std::string &path)
{
    auto zip = ZipArchive::open(path);
    if (!zip)
        return zip.error();
    return NpzFile(std::move(zip).value());
}

std::vector<std::string> NpzFile::names() const
{
    std::vector<std::string> out;
    for (const auto &e : m_zip.entries())
        out.push_back(arrayName(e.name));
    return out;
}

Result<const ZipEntry *> NpzFile::member(const std::string &name) const
{
    for (const auto &e : m_zip.entries())
        if (arrayName(e.name) == name)
            return &e;
    return fileError(path(), "no array named '" + name + "'");
}

Result<NpyHeader> NpzFile::header(const std::string &name) const
{
    auto entry = member(name);
    if (!entry)
        return entry.error();
    // 64 KiB covers any v1 header and every v2 header numpy writes in practice.
    auto prefix = m_zip.readPrefix(**entry, 65536 + 12);
    if (!prefix)
        return prefix.error();
    return parseNpyHeader(prefix->data(), (*entry)->uncompressedSize,
        path() + " [" + (*entry)->name + "]", prefix->size());
}

Result<NpyArray> NpzFile::read(const std::string &name) const
{
    auto entry = member(name);
    if (!entry)
        return entry.error();
    auto bytes = m_zip.read(**entry);
    if (!bytes)
        return bytes.error();
    auto h = parseNpyHeader(bytes->data(), bytes->size(), path() + " [" + (*entry)->name + "]");
    if (!h)
        return h.error();
    return NpyArray { std::move(h).value(), std::move(bytes).value() };
}

} // namespace fscope::core::io
