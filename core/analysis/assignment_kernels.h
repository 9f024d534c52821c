#pragma once
// The row scans the assignment solver spends its time in, with an AVX2 path chosen at run
// time (a 16k-wide SAE pair means hundreds of thousands of scans of 16k-wide rows).

#include <cstdint>

namespace fscope::core::analysis::kernels {

// For every column j: r = base + row[j] - w[j]; where r < key[j], key[j] = r and
// path[j] = label. Returns min_j key[j] after the update.
double relax(const float *row, double base, const double *w, double *key, int64_t *path, int64_t label, int64_t m);
double relax(const double *row, double base, const double *w, double *key, int64_t *path, int64_t label, int64_t m);

// h[j] = row[j] - v[j]; returns min_j h[j].
double reduce(const float *row, const double *v, double *h, int64_t m);
double reduce(const double *row, const double *v, double *h, int64_t m);

// The first j >= from with a[j] == value, or m.
int64_t nextEqual(const double *a, int64_t from, int64_t m, double value);

// Column minima gathered row by row: where row[j] < colMin[j], colMin[j] = row[j] and
// colArg[j] = label (so the lowest row wins a tie).
void columnMin(const float *row, double *colMin, int64_t *colArg, int64_t label, int64_t m);
void columnMin(const double *row, double *colMin, int64_t *colArg, int64_t label, int64_t m);

// The two smallest values of row[j] - v[j] (the second may equal the first when it occurs
// twice), in one pass without storing the differences.
void twoSmallest(const float *row, const double *v, int64_t m, double &first, double &second);
void twoSmallest(const double *row, const double *v, int64_t m, double &first, double &second);
// The same with where they occur: firstAt is the lowest j attaining `first`, secondAt the
// lowest j != firstAt attaining `second` (-1 when a value is +inf). One pass.
void twoSmallestAt(const float *row, const double *v, int64_t m, double &first, int64_t &firstAt, double &second,
                   int64_t &secondAt);
void twoSmallestAt(const double *row, const double *v, int64_t m, double &first, int64_t &firstAt, double &second,
                   int64_t &secondAt);
// The first j >= from with row[j] - v[j] == value, or m.
int64_t nextEqualDiff(const float *row, const double *v, int64_t from, int64_t m, double value);
int64_t nextEqualDiff(const double *row, const double *v, int64_t from, int64_t m, double value);

// min_j a[j] over all j.
double minimum(const double *a, int64_t m);

} // namespace fscope::core::analysis::kernels
