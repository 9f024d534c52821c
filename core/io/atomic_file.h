#pragma once
// Writes a file under a temporary name and renames it into place on commit(), so a failed
// or interrupted write never replaces a good file with a broken one.

#include "core/util/result.h"

#include <cstdio>
#include <string>

namespace fscope::core::io {

class AtomicFile {
public:
    explicit AtomicFile(std::string path);
    ~AtomicFile(); // removes the temporary file unless committed
    AtomicFile(const AtomicFile &) = delete;
    AtomicFile &operator=(const AtomicFile &) = delete;

    void write(const void *data, size_t size);
    uint64_t position() const { return m_written; }
    Status commit();

private:
    std::string m_path;
    std::string m_tempPath;
    std::FILE *m_file = nullptr;
    std::string m_error;
    uint64_t m_written = 0;
    bool m_committed = false;
};

} // namespace fscope::core::io
