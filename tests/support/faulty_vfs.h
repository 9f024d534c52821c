#pragma once
// A SQLite VFS for tests that fails writes on cue: it wraps the default VFS (so every workspace
// opened afterwards goes through it) and, once armed, lets `writes` more write-side calls
// (xWrite, xTruncate, xSync) through and fails every later one with SQLITE_IOERR, as a disk
// that starts returning EIO does, until it is disarmed.

#include <cstdint>

namespace fscope::test {

class FaultyVfs {
public:
    static void install(); // once; later calls do nothing
    static void arm(int64_t writes);
    static void disarm();
    // Write-side calls seen since install (to place faults within an operation's writes).
    static int64_t writesSeen();
    // Calls failed since the last arm.
    static int64_t failures();
};

} // namespace fscope::test
