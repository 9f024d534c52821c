#include "tests/support/faulty_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <mutex>

namespace fscope::test {

namespace {

sqlite3_vfs *g_real = nullptr;
sqlite3_vfs g_vfs {};
std::atomic<int64_t> g_allowed { -1 }; // -1: disarmed
std::atomic<int64_t> g_seen { 0 };
std::atomic<int64_t> g_failures { 0 };

struct FaultyFile {
    sqlite3_file base;
    sqlite3_file *real; // allocated right after this struct
};

sqlite3_file *real(sqlite3_file *f)
{
    return reinterpret_cast<FaultyFile *>(f)->real;
}

// True when this write-side call must fail.
bool fault()
{
    ++g_seen;
    int64_t allowed = g_allowed.load();
    while (allowed >= 0) {
        if (allowed == 0) {
            ++g_failures;
            return true;
        }
        if (g_allowed.compare_exchange_weak(allowed, allowed - 1))
            return false;
    }
    return false;
}

int xClose(sqlite3_file *f)
{
    return real(f)->pMethods->xClose(real(f));
}
int xRead(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return real(f)->pMethods->xRead(real(f), p, n, off);
}
int xWrite(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    return fault() ? SQLITE_IOERR_WRITE : real(f)->pMethods->xWrite(real(f), p, n, off);
}
int xTruncate(sqlite3_file *f, sqlite3_int64 size)
{
    return fault() ? SQLITE_IOERR_TRUNCATE : real(f)->pMethods->xTruncate(real(f), size);
}
int xSync(sqlite3_file *f, int flags)
{
    return fault() ? SQLITE_IOERR_FSYNC : real(f)->pMethods->xSync(real(f), flags);
}
int xFileSize(sqlite3_file *f, sqlite3_int64 *size)
{
    return real(f)->pMethods->xFileSize(real(f), size);
}
int xLock(sqlite3_file *f, int level)
{
    return real(f)->pMethods->xLock(real(f), level);
}
int xUnlock(sqlite3_file *f, int level)
{
    return real(f)->pMethods->xUnlock(real(f), level);
}
int xCheckReservedLock(sqlite3_file *f, int *out)
{
    return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int xFileControl(sqlite3_file *f, int op, void *arg)
{
    return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int xSectorSize(sqlite3_file *f)
{
    return real(f)->pMethods->xSectorSize(real(f));
}
int xDeviceCharacteristics(sqlite3_file *f)
{
    return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int xShmMap(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
    return real(f)->pMethods->xShmMap(real(f), region, size, extend, out);
}
int xShmLock(sqlite3_file *f, int offset, int n, int flags)
{
    return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void xShmBarrier(sqlite3_file *f)
{
    real(f)->pMethods->xShmBarrier(real(f));
}
int xShmUnmap(sqlite3_file *f, int deleteFlag)
{
    return real(f)->pMethods->xShmUnmap(real(f), deleteFlag);
}
int xFetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
    return real(f)->pMethods->xFetch(real(f), off, n, out);
}
int xUnfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return real(f)->pMethods->xUnfetch(real(f), off, p);
}

const sqlite3_io_methods g_methods = { 3, xClose, xRead, xWrite, xTruncate, xSync, xFileSize, xLock,
    xUnlock, xCheckReservedLock, xFileControl, xSectorSize, xDeviceCharacteristics, xShmMap,
    xShmLock, xShmBarrier, xShmUnmap, xFetch, xUnfetch };

int xOpen(sqlite3_vfs *, sqlite3_filename name, sqlite3_file *f, int flags, int *outFlags)
{
    auto *file = reinterpret_cast<FaultyFile *>(f);
    file->real = reinterpret_cast<sqlite3_file *>(file + 1);
    const int rc = g_real->xOpen(g_real, name, file->real, flags, outFlags);
    // SQLite calls xClose only on files whose pMethods is set.
    file->base.pMethods = rc == SQLITE_OK && file->real->pMethods ? &g_methods : nullptr;
    return rc;
}

} // namespace

void FaultyVfs::install()
{
    static std::once_flag once;
    std::call_once(once, [] {
        g_real = sqlite3_vfs_find(nullptr);
        g_vfs = *g_real; // every other method goes straight to the real VFS
        g_vfs.zName = "featurescope-faulty";
        g_vfs.szOsFile = int(sizeof(FaultyFile)) + g_real->szOsFile;
        g_vfs.xOpen = xOpen;
        g_vfs.pAppData = nullptr;
        sqlite3_vfs_register(&g_vfs, 1);
    });
}

void FaultyVfs::arm(int64_t writes)
{
    g_failures = 0;
    g_allowed = writes;
}

void FaultyVfs::disarm()
{
    g_allowed = -1;
}

int64_t FaultyVfs::writesSeen()
{
    return g_seen;
}

int64_t FaultyVfs::failures()
{
    return g_failures;
}

} // namespace fscope::test
