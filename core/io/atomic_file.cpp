#include "core/io/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace fscope::core::io {

AtomicFile::AtomicFile(std::string path)
    : m_path(std::move(path))
    , m_tempPath(m_path + ".part-" + std::to_string(::getpid()))
{
    m_file = std::fopen(m_tempPath.c_str(), "wb");
    if (!m_file)
        m_error = std::string("cannot create: ") + std::strerror(errno);
}

AtomicFile::~AtomicFile()
{
    if (m_file)
        std::fclose(m_file);
    if (!m_committed)
        std::remove(m_tempPath.c_str());
}

void AtomicFile::write(const void *data, size_t size)
{
    if (!m_file || !m_error.empty() || size == 0)
        return;
    if (std::fwrite(data, 1, size, m_file) != size)
        m_error = std::string("write failed: ") + std::strerror(errno);
    m_written += size;
}

Status AtomicFile::commit()
{
    if (m_file && std::fclose(m_file) != 0 && m_error.empty())
        m_error = std::string("write failed: ") + std::strerror(errno);
    m_file = nullptr;
    if (!m_error.empty())
        return fileError(m_path, m_error);
    if (std::rename(m_tempPath.c_str(), m_path.c_str()) != 0)
        return fileError(m_path, std::string("cannot replace: ") + std::strerror(errno));
    m_committed = true;
    return {};
}

} // namespace fscope::core::io
