#include "core/jobs/terminal_progress.h"

#include <algorithm>
#include <unistd.h>

namespace fscope::core::jobs {

namespace {

std::string formatCount(double v)
{
    char buf[32];
    if (v >= 1e9)
        std::snprintf(buf, sizeof buf, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

} // namespace

TerminalProgress::TerminalProgress(std::string unit, std::FILE *out)
    : m_unit(std::move(unit))
    , m_out(out)
    , m_tty(::isatty(::fileno(out)) != 0)
{
}

TerminalProgress::~TerminalProgress()
{
    if (m_drawn)
        std::fputc('\n', m_out);
}

std::string TerminalProgress::render(const ProgressSnapshot &s, const std::string &unit, int width)
{
    std::string line = s.message.empty() ? std::string() : s.message + " ";
    const double rate = s.elapsedSeconds > 0 ? s.done / s.elapsedSeconds : 0;
    if (s.total > 0) {
        const double f = std::min(1.0, static_cast<double>(s.done) / s.total);
        const int filled = static_cast<int>(f * width);
        line += "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
        char pct[16];
        std::snprintf(pct, sizeof pct, "%3.0f%% ", f * 100);
        line += pct + formatCount(s.done) + "/" + formatCount(s.total) + " " + unit;
    } else {
        line += formatCount(s.done) + " " + unit;
    }
    line += " " + formatCount(rate) + " " + unit + "/s";
    line += " elapsed " + formatDuration(s.elapsedSeconds);
    if (s.total > 0)
        line += " ETA " + formatDuration(estimateSecondsLeft(s.done, s.total, s.elapsedSeconds));
    if (s.cancelled)
        line += " (cancelling)";
    return line;
}

void TerminalProgress::changed()
{
    std::lock_guard lock(m_drawMutex);
    const auto now = std::chrono::steady_clock::now();
    // Redraw at most 10 times a second; without a terminal, once every 5 seconds.
    const auto interval = m_tty ? std::chrono::milliseconds(100) : std::chrono::seconds(5);
    if (m_drawn && now - m_lastDraw < interval)
        return;
    m_lastDraw = now;
    m_drawn = true;
    std::fprintf(m_out, m_tty ? "\r\033[K%s" : "%s\n", render(snapshot(), m_unit).c_str());
    std::fflush(m_out);
}

void TerminalProgress::finish()
{
    std::lock_guard lock(m_drawMutex);
    std::fprintf(m_out, m_tty ? "\r\033[K%s\n" : "%s\n", render(snapshot(), m_unit).c_str());
    std::fflush(m_out);
    m_drawn = false;
}

} // namespace fscope::core::jobs
