#include "core/match/lap/assignment_kernels.h"

#include <algorithm>
#include <limits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FS_X86 1
#endif

namespace fscope::core::lap::kernels {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

template <typename T>
double relaxScalar(const T *row, double base, const double *w, double *key, int64_t *path,
    int64_t label, int64_t m, int64_t j0)
{
    double lowest = kInf;
    for (int64_t j = j0; j < m; ++j) {
        const double r = base + double(row[j]) - w[j];
        if (r < key[j]) {
            key[j] = r;
            path[j] = label;
        }
        lowest = std::min(lowest, key[j]);
    }
    return lowest;
}

template <typename T>
void columnMinScalar(
    const T *row, double *colMin, int64_t *colArg, int64_t label, int64_t m, int64_t j0)
{
    for (int64_t j = j0; j < m; ++j)
        if (double(row[j]) < colMin[j]) {
            colMin[j] = double(row[j]);
            colArg[j] = label;
        }
}

template <typename T>
void twoSmallestAtScalar(
    const T *row, const double *v, int64_t m, int64_t j0, int64_t at, TwoSmallest &out)
{
    for (int64_t j = j0; j < m; ++j)
        out.offer(double(row[j]) - v[j], j + at);
}

#ifdef FS_X86
bool hasAvx2()
{
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}

__attribute__((target("avx2"))) inline __m256d load4(const float *p)
{
    return _mm256_cvtps_pd(_mm_loadu_ps(p));
}
__attribute__((target("avx2"))) inline __m256d load4(const double *p)
{
    return _mm256_loadu_pd(p);
}

__attribute__((target("avx2"))) double hmin(__m256d x)
{
    alignas(32) double t[4];
    _mm256_store_pd(t, x);
    return std::min(std::min(t[0], t[1]), std::min(t[2], t[3]));
}

template <typename T>
__attribute__((target("avx2"))) double relaxAvx2(const T *row, double base, const double *w,
    double *key, int64_t *path, int64_t label, int64_t m)
{
    const __m256d vb = _mm256_set1_pd(base);
    const __m256d vl = _mm256_castsi256_pd(_mm256_set1_epi64x(label));
    __m256d low = _mm256_set1_pd(kInf);
    int64_t j = 0;
    for (; j + 4 <= m; j += 4) {
        const __m256d r = _mm256_sub_pd(_mm256_add_pd(vb, load4(row + j)), _mm256_loadu_pd(w + j));
        const __m256d k = _mm256_loadu_pd(key + j);
        const __m256d less = _mm256_cmp_pd(r, k, _CMP_LT_OQ);
        // Most columns do not improve once a search is under way: writing back only the lanes
        // that do keeps key/path cache lines clean (the pass is memory-bound).
        if (_mm256_movemask_pd(less)) {
            const __m256i mask = _mm256_castpd_si256(less);
            _mm256_maskstore_pd(key + j, mask, r);
            _mm256_maskstore_epi64(
                reinterpret_cast<long long *>(path + j), mask, _mm256_castpd_si256(vl));
            low = _mm256_min_pd(low, _mm256_blendv_pd(k, r, less));
        } else {
            low = _mm256_min_pd(low, k);
        }
    }
    return std::min(hmin(low), relaxScalar(row, base, w, key, path, label, m, j));
}

__attribute__((target("avx2"))) int64_t nextEqualAvx2(
    const double *a, int64_t from, int64_t m, double value)
{
    const __m256d vv = _mm256_set1_pd(value);
    int64_t j = from;
    for (; j + 4 <= m; j += 4) {
        const int mask = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(a + j), vv, _CMP_EQ_OQ));
        if (mask)
            return j + __builtin_ctz(unsigned(mask));
    }
    for (; j < m; ++j)
        if (a[j] == value)
            return j;
    return m;
}

template <typename T>
__attribute__((target("avx2"))) void columnMinAvx2(
    const T *row, double *colMin, int64_t *colArg, int64_t label, int64_t m)
{
    const __m256d vl = _mm256_castsi256_pd(_mm256_set1_epi64x(label));
    int64_t j = 0;
    for (; j + 4 <= m; j += 4) {
        const __m256d x = load4(row + j);
        const __m256d cm = _mm256_loadu_pd(colMin + j);
        const __m256d less = _mm256_cmp_pd(x, cm, _CMP_LT_OQ);
        if (_mm256_movemask_pd(less)) { // as in relax: write only lanes that change
            const __m256i mask = _mm256_castpd_si256(less);
            _mm256_maskstore_pd(colMin + j, mask, x);
            _mm256_maskstore_epi64(
                reinterpret_cast<long long *>(colArg + j), mask, _mm256_castpd_si256(vl));
        }
    }
    columnMinScalar(row, colMin, colArg, label, m, j);
}

// Per lane the best two (value, index) pairs; indices rise within a lane, so strict
// comparisons keep the lower index on ties. The lanes' eight candidates are merged at the end.
template <typename T>
__attribute__((target("avx2"))) void twoSmallestAtAvx2(
    const T *row, const double *v, int64_t m, int64_t at, TwoSmallest &out)
{
    __m256d f = _mm256_set1_pd(kInf), g = _mm256_set1_pd(kInf);
    __m256d fi = _mm256_castsi256_pd(_mm256_set1_epi64x(-1)), gi = fi;
    __m256i idx = _mm256_setr_epi64x(0, 1, 2, 3);
    const __m256i four = _mm256_set1_epi64x(4);
    int64_t j = 0;
    for (; j + 4 <= m; j += 4) {
        const __m256d x = _mm256_sub_pd(load4(row + j), _mm256_loadu_pd(v + j));
        const __m256d ltf = _mm256_cmp_pd(x, f, _CMP_LT_OQ);
        const __m256d ltg = _mm256_cmp_pd(x, g, _CMP_LT_OQ);
        if (!_mm256_movemask_pd(ltg)) { // x < f implies x < g: nothing changes in any lane
            idx = _mm256_add_epi64(idx, four);
            continue;
        }
        const __m256d xi = _mm256_castsi256_pd(idx);
        g = _mm256_blendv_pd(_mm256_blendv_pd(g, x, ltg), f, ltf);
        gi = _mm256_blendv_pd(_mm256_blendv_pd(gi, xi, ltg), fi, ltf);
        f = _mm256_blendv_pd(f, x, ltf);
        fi = _mm256_blendv_pd(fi, xi, ltf);
        idx = _mm256_add_epi64(idx, four);
    }
    alignas(32) double fv[4], gv[4];
    alignas(32) int64_t fj[4], gj[4];
    _mm256_store_pd(fv, f);
    _mm256_store_pd(gv, g);
    _mm256_store_si256(reinterpret_cast<__m256i *>(fj), _mm256_castpd_si256(fi));
    _mm256_store_si256(reinterpret_cast<__m256i *>(gj), _mm256_castpd_si256(gi));
    for (int k = 0; k < 4; ++k) { // lanes never reached keep index -1
        if (fj[k] >= 0)
            out.offer(fv[k], fj[k] + at);
        if (gj[k] >= 0)
            out.offer(gv[k], gj[k] + at);
    }
    twoSmallestAtScalar(row, v, m, j, at, out);
}

#endif

} // namespace

double relax(const float *row, double base, const double *w, double *key, int64_t *path,
    int64_t label, int64_t m)
{
#ifdef FS_X86
    if (hasAvx2())
        return relaxAvx2(row, base, w, key, path, label, m);
#endif
    return relaxScalar(row, base, w, key, path, label, m, 0);
}

double relax(const double *row, double base, const double *w, double *key, int64_t *path,
    int64_t label, int64_t m)
{
#ifdef FS_X86
    if (hasAvx2())
        return relaxAvx2(row, base, w, key, path, label, m);
#endif
    return relaxScalar(row, base, w, key, path, label, m, 0);
}

int64_t nextEqual(const double *a, int64_t from, int64_t m, double value)
{
#ifdef FS_X86
    if (hasAvx2())
        return nextEqualAvx2(a, from, m, value);
#endif
    for (int64_t j = from; j < m; ++j)
        if (a[j] == value)
            return j;
    return m;
}

#ifdef FS_X86
#define FS_DISPATCH(avx2call, scalarcall)                                                          \
    if (hasAvx2())                                                                                 \
        return avx2call;                                                                           \
    return scalarcall
#else
#define FS_DISPATCH(avx2call, scalarcall) return scalarcall
#endif

void columnMin(const float *row, double *colMin, int64_t *colArg, int64_t label, int64_t m)
{
    FS_DISPATCH(columnMinAvx2(row, colMin, colArg, label, m),
        columnMinScalar(row, colMin, colArg, label, m, 0));
}
void columnMin(const double *row, double *colMin, int64_t *colArg, int64_t label, int64_t m)
{
    FS_DISPATCH(columnMinAvx2(row, colMin, colArg, label, m),
        columnMinScalar(row, colMin, colArg, label, m, 0));
}
template <typename T>
void twoSmallestAtAny(const T *row, const double *v, int64_t m, int64_t at, TwoSmallest &out)
{
#ifdef FS_X86
    if (hasAvx2()) {
        twoSmallestAtAvx2(row, v, m, at, out);
        return;
    }
#endif
    twoSmallestAtScalar(row, v, m, 0, at, out);
}

void twoSmallestAt(const float *row, const double *v, int64_t m, int64_t at, TwoSmallest &out)
{
    twoSmallestAtAny(row, v, m, at, out);
}
void twoSmallestAt(const double *row, const double *v, int64_t m, int64_t at, TwoSmallest &out)
{
    twoSmallestAtAny(row, v, m, at, out);
}

} // namespace fscope::core::lap::kernels
