#include "tests/support/testsupport.h"

#include <QtGlobal>

#include <zlib.h>

#include <fstream>
#include <iterator>
#include <unistd.h>

namespace fscope::test {

std::string fixture(const QString &relative)
{
    const QByteArray root = qgetenv("FEATURESCOPE_TEST_DATA");
    const QString base = root.isEmpty() ? QStringLiteral(FEATURESCOPE_SOURCE_DIR "/tests/fixtures")
                                        : QString::fromLocal8Bit(root);
    return (base + QLatin1Char('/') + relative).toStdString();
}

void writeFile(const std::string &path, const std::string &bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

bool gunzip(const std::string &from, const std::string &to)
{
    gzFile in = gzopen(from.c_str(), "rb");
    if (!in)
        return false;
    std::ofstream out(to, std::ios::binary | std::ios::trunc);
    char buffer[1 << 16];
    int n = 0;
    while ((n = gzread(in, buffer, sizeof buffer)) > 0)
        out.write(buffer, n);
    gzclose(in);
    return n == 0 && out.good();
}

uint64_t residentBytes()
{
    std::ifstream statm("/proc/self/statm");
    uint64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

} // namespace fscope::test
