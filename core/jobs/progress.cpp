#include "core/jobs/progress.h"

#include <cmath>
#include <cstdio>

namespace fscope::core::jobs {

Progress::Progress()
    : m_start(std::chrono::steady_clock::now())
{
}

void Progress::begin(int64_t total, std::string message)
{
    {
        std::lock_guard lock(m_messageMutex);
        m_message = std::move(message);
        m_start = std::chrono::steady_clock::now();
    }
    m_total.store(total);
    m_done.store(0);
    changed();
}

void Progress::advance(int64_t n)
{
    m_done.fetch_add(n);
    changed();
}

void Progress::setDone(int64_t done)
{
    m_done.store(done);
    changed();
}

void Progress::setMessage(std::string message)
{
    {
        std::lock_guard lock(m_messageMutex);
        m_message = std::move(message);
    }
    changed();
}

void Progress::setDevice(std::string device)
{
    {
        std::lock_guard lock(m_messageMutex);
        m_device = std::move(device);
    }
    changed();
}

ProgressSnapshot Progress::snapshot() const
{
    ProgressSnapshot s;
    s.done = m_done.load();
    s.total = m_total.load();
    s.cancelled = m_cancelled.load();
    std::lock_guard lock(m_messageMutex);
    s.message = m_message;
    s.device = m_device;
    s.elapsedSeconds
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    return s;
}

double estimateSecondsLeft(int64_t done, int64_t total, double elapsedSeconds)
{
    if (total <= 0 || done <= 0 || elapsedSeconds <= 0 || done > total)
        return -1;
    return elapsedSeconds * static_cast<double>(total - done) / static_cast<double>(done);
}

std::string formatDuration(double seconds)
{
    if (seconds < 0 || !std::isfinite(seconds))
        return "--:--";
    const auto s = static_cast<int64_t>(std::llround(seconds));
    const int64_t h = s / 3600, m = (s / 60) % 60, sec = s % 60;
    char buf[32];
    if (h > 0)
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(h),
            static_cast<long long>(m), static_cast<long long>(sec));
    else
        std::snprintf(
            buf, sizeof buf, "%lld:%02lld", static_cast<long long>(m), static_cast<long long>(sec));
    return buf;
}

} // namespace fscope::core::jobs
