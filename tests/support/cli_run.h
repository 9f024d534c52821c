#pragma once
// Runs featurescope-cli as a user would, for tests registered with NEEDS_CLI (which defines
// FEATURESCOPE_CLI as its path): the exit code and both streams.

#include <QByteArray>
#include <QProcess>
#include <QStringList>

namespace fscope::test {

struct CliRun {
    int code = -1;
    QByteArray out, err;
};

inline CliRun cli(const QStringList &args)
{
    QProcess p;
    p.start(QStringLiteral(FEATURESCOPE_CLI), args);
    p.waitForFinished(120000);
    return { p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError() };
}

} // namespace fscope::test
