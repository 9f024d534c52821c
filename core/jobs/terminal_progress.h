#pragma once
// The CLI's progress surface: one redrawn line on stderr with a bar, rate and ETA.

#include "core/jobs/progress.h"

#include <cstdio>

namespace fscope::core::jobs {

class TerminalProgress : public Progress {
public:
    // `unit` names what is counted ("tokens", "features").
    explicit TerminalProgress(std::string unit = "items", std::FILE *out = stderr);
    ~TerminalProgress() override;

    // Draws the final state and ends the line.
    void finish();

    // The line for a snapshot, `width` characters of bar.
    static std::string render(const ProgressSnapshot &s, const std::string &unit, int width = 30);

protected:
    void changed() override;

private:
    std::string m_unit;
    std::FILE *m_out;
    std::mutex m_drawMutex;
    std::chrono::steady_clock::time_point m_lastDraw {};
    bool m_drawn = false;
    bool m_tty = false;
};

} // namespace fscope::core::jobs
