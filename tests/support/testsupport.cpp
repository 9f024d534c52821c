#include "tests/support/testsupport.h"

#include <QtGlobal>

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

uint64_t residentBytes()
{
    std::ifstream statm("/proc/self/statm");
    uint64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

} // namespace fscope::test
