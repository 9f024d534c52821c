#pragma once
// Helpers shared by the Qt Test executables: fixture paths, scratch files.

#include <QString>

#include <string>

namespace fscope::test {

// A file under tests/fixtures (FEATURESCOPE_TEST_DATA, set by ctest).
std::string fixture(const QString &relative);

// Writes `bytes` to `path`, replacing it.
void writeFile(const std::string &path, const std::string &bytes);
std::string readFile(const std::string &path);

// Decompresses a .gz file (fixtures too large to commit uncompressed).
bool gunzip(const std::string &from, const std::string &to);

// Resident set size of this process in bytes (from /proc/self/statm).
uint64_t residentBytes();

} // namespace fscope::test
