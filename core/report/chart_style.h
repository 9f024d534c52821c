#pragma once
// The plot family's colours, shared by the app's interactive plots (ui/plotstyle) and the
// charts written into reports, so a report's figures look like the dashboard's.

#include <cstdio>
#include <string>

namespace fscope::core::report {

struct Rgb {
    int r, g, b;
    std::string hex() const
    {
        char buf[8];
        std::snprintf(buf, sizeof buf, "#%02x%02x%02x", r, g, b);
        return buf;
    }
};

inline constexpr Rgb kActivationColor{232, 125, 22}; // activations (warm)
inline constexpr Rgb kPositiveColor{46, 139, 87};    // positive effects
inline constexpr Rgb kNegativeColor{200, 60, 60};    // negative effects
inline constexpr Rgb kHighlightColor{255, 140, 0};   // token highlight at full activation

} // namespace fscope::core::report
