#include "core/io/atomic_file.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace fscope::core::io {

namespace {

// Removes what a killed writer of `path` left (`path.part-PID` of a process that no longer
// exists), so a killed export leaves nothing half-written behind once the file is written
// again. A temporary of a live process, this one's or another's, is left alone.
void removeStaleParts(const std::string &path)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path target(path);
    const std::string prefix = target.filename().string() + ".part-";
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
            continue;
        const std::string pid = name.substr(prefix.size());
        if (pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos)
            continue;
        const pid_t owner = static_cast<pid_t>(std::stol(pid));
        if (owner != ::getpid() && ::kill(owner, 0) != 0 && errno == ESRCH)
            fs::remove(it->path(), ec);
    }
}

} // namespace

AtomicFile::AtomicFile(std::string path)
    : m_path(std::move(path))
    , m_tempPath(m_path + ".part-" + std::to_string(::getpid()))
{
    removeStaleParts(m_path);
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
    // On disk before the rename makes it visible: after a crash or power loss the name holds
    // the old file or the whole new one.
    if (m_file && m_error.empty() && (std::fflush(m_file) != 0 || ::fsync(::fileno(m_file)) != 0))
        m_error = std::string("write failed: ") + std::strerror(errno);
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
