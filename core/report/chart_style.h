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

inline constexpr Rgb kActivationColor { 232, 125, 22 }; // activations (warm)
inline constexpr Rgb kPositiveColor { 46, 139, 87 }; // positive effects
inline constexpr Rgb kNegativeColor { 200, 60, 60 }; // negative effects
inline constexpr Rgb kHighlightColor { 255, 140, 0 }; // token highlight at full activation

// How much of kHighlightColor covers the background for a token at t = activation / max in
// [0, 1]: never fully transparent once active, so weak activations still show.
inline double highlightOpacity(double t)
{
    return t > 0 ? 0.15 + 0.85 * (t < 1 ? t : 1.0) : 0.0;
}

} // namespace fscope::core::report
