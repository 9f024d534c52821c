#pragma once
// The row scans the assignment solver spends its time in, with an AVX2 path chosen at run
// time (a 16k-wide SAE pair means hundreds of thousands of scans of 16k-wide rows).

#include <cstdint>
#include <limits>

namespace fscope::core::lap::kernels {

// For every column j: r = base + row[j] - w[j]; where r < key[j], key[j] = r and
// path[j] = label. Returns min_j key[j] after the update.
double relax(const float *row, double base, const double *w, double *key, int64_t *path,
    int64_t label, int64_t m);
double relax(const double *row, double base, const double *w, double *key, int64_t *path,
    int64_t label, int64_t m);

// The first j >= from with a[j] == value, or m.
int64_t nextEqual(const double *a, int64_t from, int64_t m, double value);

// Column minima gathered row by row: where row[j] < colMin[j], colMin[j] = row[j] and
// colArg[j] = label (so the lowest row wins a tie).
void columnMin(const float *row, double *colMin, int64_t *colArg, int64_t label, int64_t m);
void columnMin(const double *row, double *colMin, int64_t *colArg, int64_t label, int64_t m);

// The two smallest (value, index) pairs seen, in (value, index) order: ties go to the lower
// index, and a value occurring twice fills both places. +inf values are ignored (index -1).
struct TwoSmallest {
    double first = std::numeric_limits<double>::infinity(),
           second = std::numeric_limits<double>::infinity();
    int64_t firstAt = -1, secondAt = -1;

    void offer(double x, int64_t j)
    {
        // Most offers on a long row lose to both kept values: one comparison rejects them
        // (the sparse solver's row scans ran twice as long without it).
        if (secondAt >= 0 && !before(x, j, second, secondAt))
            return;
        if (!(x < std::numeric_limits<double>::infinity()) || j < 0)
            return;
        if (firstAt < 0 || before(x, j, first, firstAt)) {
            second = first;
            secondAt = firstAt;
            first = x;
            firstAt = j;
        } else if (secondAt < 0 || before(x, j, second, secondAt)) {
            second = x;
            secondAt = j;
        }
    }
    // Takes in another part's two: the result is the two smallest of both.
    void merge(const TwoSmallest &other)
    {
        offer(other.first, other.firstAt);
        offer(other.second, other.secondAt);
    }

private:
    static bool before(double x, int64_t i, double y, int64_t j)
    {
        return x < y || (x == y && i < j);
    }
};

// Offers row[j] - v[j] for every j in [0, m) to `out`, as index j + at (so a part of a row
// reports whole-row indices). One pass, nothing stored.
void twoSmallestAt(const float *row, const double *v, int64_t m, int64_t at, TwoSmallest &out);
void twoSmallestAt(const double *row, const double *v, int64_t m, int64_t at, TwoSmallest &out);

} // namespace fscope::core::lap::kernels
