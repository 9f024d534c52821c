#include "core/io/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fscope::core::io {

MappedFile::MappedFile(std::string path, uint8_t *data, uint64_t size)
    : m_path(std::move(path))
    , m_data(data)
    , m_size(size)
{
}

MappedFile::~MappedFile()
{
    if (m_data)
        munmap(m_data, m_size);
}

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::string &path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fileError(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st { };
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fileError(path, "not a regular file");
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    uint8_t *data = nullptr;
    if (size > 0) {
        // MAP_PRIVATE + PROT_WRITE = copy-on-write; MAP_NORESERVE so a multi-GB checkpoint
        // does not count against the commit limit until a page is actually written.
        void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
        if (p == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            return fileError(path, std::string("cannot map into memory: ") + std::strerror(err));
        }
        data = static_cast<uint8_t *>(p);
    }
    ::close(fd);
    return std::shared_ptr<MappedFile>(new MappedFile(path, data, size));
}

} // namespace fscope::core::io
