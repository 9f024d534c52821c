#include "core/analysis/assignment_kernels.h"

#include <algorithm>
#include <limits>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FS_X86 1
#endif

namespace fscope::core::analysis::kernels {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

template <typename T>
double relaxScalar(const T *row, double base, const double *w, double *key, int64_t *path, int64_t label, int64_t m, int64_t j0) {
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
double reduceScalar(const T *row, const double *v, double *h, int64_t m, int64_t j0) {
    double lowest = kInf;
    for (int64_t j = j0; j < m; ++j) {
        h[j] = double(row[j]) - v[j];
        lowest = std::min(lowest, h[j]);
    }
    return lowest;
}

template <typename T>
void columnMinScalar(const T *row, double *colMin, int64_t *colArg, int64_t label, int64_t m, int64_t j0) {
    for (int64_t j = j0; j < m; ++j)
        if (double(row[j]) < colMin[j]) {
            colMin[j] = double(row[j]);
            colArg[j] = label;
        }
}

template <typename T>
void twoSmallestScalar(const T *row, const double *v, int64_t m, int64_t j0, double &first, double &second) {
    for (int64_t j = j0; j < m; ++j) {
        const double x = double(row[j]) - v[j];
        second = std::min(second, std::max(first, x));
        first = std::min(first, x);
    }
}

template <typename T>
int64_t nextEqualDiffScalar(const T *row, const double *v, int64_t from, int64_t m, double value) {
    for (int64_t j = from; j < m; ++j)
        if (double(row[j]) - v[j] == value) return j;
    return m;
}

#ifdef FS_X86
bool hasAvx2() {
    static const bool yes = __builtin_cpu_supports("avx2");
    return yes;
}

__attribute__((target("avx2"))) inline __m256d load4(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
__attribute__((target("avx2"))) inline __m256d load4(const double *p) { return _mm256_loadu_pd(p); }

__attribute__((target("avx2"))) double hmin(__m256d x) {
    alignas(32) double t[4];
    _mm256_store_pd(t, x);
    return std::min(std::min(t[0], t[1]), std::min(t[2], t[3]));
}

template <typename T>
__attribute__((target("avx2"))) double relaxAvx2(const T *row, double base, const double *w, double *key, int64_t *path,
                                                  int64_t label, int64_t m) {
    const __m256d vb = _mm256_set1_pd(base);
    const __m256d vl = _mm256_castsi256_pd(_mm256_set1_epi64x(label));
    __m256d low = _mm256_set1_pd(kInf);
    int64_t j = 0;
    for (; j + 4 <= m; j += 4) {
        const __m256d r = _mm256_sub_pd(_mm256_add_pd(vb, load4(row + j)), _mm256_loadu_pd(w + j));
        const __m256d k = _mm256_loadu_pd(key + j);
        const __m256d less = _mm256_cmp_pd(r, k, _CMP_LT_OQ);
        const __m256d nk = _mm256_blendv_pd(k, r, less);
        _mm256_storeu_pd(key + j, nk);
        const __m256d p = _mm256_loadu_pd(reinterpret_cast<const double *>(path + j));
        _mm256_storeu_pd(reinterpret_cast<double *>(path + j), _mm256_blendv_pd(p, vl, less));
        low = _mm256_min_pd(low, nk);
    }
    return std::min(hmin(low), relaxScalar(row, base, w, key, path, label, m, j));
}

template <typename T>
__attribute__((target("avx2"))) double reduceAvx2(const T *row, const double *v, double *h, int64_t m) {
    __m256d low = _mm256_set1_pd(kInf);
    int64_t j = 0;
    for (; j + 4 <= m; j += 4) {
        const __m256d x = _mm256_sub_pd(load4(row + j), _mm256_loadu_pd(v + j));
        _mm256_storeu_pd(h + j, x);
        low = _mm256_min_pd(low, x);
    }
    return std::min(hmin(low), reduceScalar(row, v, h, m, j));
}

__attribute__((target("avx2"))) int64_t nextEqualAvx2(const double *a, int64_t from, int64_t m, double value) {
    const __m256d vv = _mm256_set1_pd(value);
    int64_t j = from;
    for (; j + 4 <= m; j += 4) {
        const int mask = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(a + j), vv, _CMP_EQ_OQ));
        if (mask) return j + __builtin_ctz(unsigned(mask));
    }
    for (; j < m; ++j)
        if (a[j] == value) return j;
    return m;
}

template <typename T>
__attribute__((target("avx2"))) void columnMinAvx2(const T *row, double *colMin, int64_t *colArg, int64_t label, int64_t m) {
    const __m256d vl = _mm256_castsi256_pd(_mm256_set1_epi64x(label));
    int64_t j = 0;
    for (; j + 4 <= m; j += 4) {
        const __m256d x = load4(row + j);
        const __m256d cm = _mm256_loadu_pd(colMin + j);
        const __m256d less = _mm256_cmp_pd(x, cm, _CMP_LT_OQ);
        _mm256_storeu_pd(colMin + j, _mm256_blendv_pd(cm, x, less));
        const __m256d a = _mm256_loadu_pd(reinterpret_cast<const double *>(colArg + j));
        _mm256_storeu_pd(reinterpret_cast<double *>(colArg + j), _mm256_blendv_pd(a, vl, less));
    }
    columnMinScalar(row, colMin, colArg, label, m, j);
}

template <typename T>
__attribute__((target("avx2"))) void twoSmallestAvx2(const T *row, const double *v, int64_t m, double &first, double &second) {
    __m256d f = _mm256_set1_pd(kInf), g = _mm256_set1_pd(kInf);
    int64_t j = 0;
    for (; j + 4 <= m; j += 4) {
        const __m256d x = _mm256_sub_pd(load4(row + j), _mm256_loadu_pd(v + j));
        g = _mm256_min_pd(g, _mm256_max_pd(f, x));
        f = _mm256_min_pd(f, x);
    }
    alignas(32) double fl[4], gl[4];
    _mm256_store_pd(fl, f);
    _mm256_store_pd(gl, g);
    first = kInf;
    second = kInf;
    for (int k = 0; k < 4; ++k) { // merge the lanes' pairs
        for (double x : {fl[k], gl[k]}) {
            second = std::min(second, std::max(first, x));
            first = std::min(first, x);
        }
    }
    twoSmallestScalar(row, v, m, j, first, second);
}

template <typename T>
__attribute__((target("avx2"))) int64_t nextEqualDiffAvx2(const T *row, const double *v, int64_t from, int64_t m, double value) {
    const __m256d vv = _mm256_set1_pd(value);
    int64_t j = from;
    for (; j + 4 <= m; j += 4) {
        const __m256d x = _mm256_sub_pd(load4(row + j), _mm256_loadu_pd(v + j));
        const int mask = _mm256_movemask_pd(_mm256_cmp_pd(x, vv, _CMP_EQ_OQ));
        if (mask) return j + __builtin_ctz(unsigned(mask));
    }
    return nextEqualDiffScalar(row, v, j, m, value);
}

__attribute__((target("avx2"))) double minimumAvx2(const double *a, int64_t m) {
    __m256d low = _mm256_set1_pd(kInf);
    int64_t j = 0;
    for (; j + 4 <= m; j += 4) low = _mm256_min_pd(low, _mm256_loadu_pd(a + j));
    double out = hmin(low);
    for (; j < m; ++j) out = std::min(out, a[j]);
    return out;
}
#endif

} // namespace

double relax(const float *row, double base, const double *w, double *key, int64_t *path, int64_t label, int64_t m) {
#ifdef FS_X86
    if (hasAvx2()) return relaxAvx2(row, base, w, key, path, label, m);
#endif
    return relaxScalar(row, base, w, key, path, label, m, 0);
}

double relax(const double *row, double base, const double *w, double *key, int64_t *path, int64_t label, int64_t m) {
#ifdef FS_X86
    if (hasAvx2()) return relaxAvx2(row, base, w, key, path, label, m);
#endif
    return relaxScalar(row, base, w, key, path, label, m, 0);
}

double reduce(const float *row, const double *v, double *h, int64_t m) {
#ifdef FS_X86
    if (hasAvx2()) return reduceAvx2(row, v, h, m);
#endif
    return reduceScalar(row, v, h, m, 0);
}

double reduce(const double *row, const double *v, double *h, int64_t m) {
#ifdef FS_X86
    if (hasAvx2()) return reduceAvx2(row, v, h, m);
#endif
    return reduceScalar(row, v, h, m, 0);
}

int64_t nextEqual(const double *a, int64_t from, int64_t m, double value) {
#ifdef FS_X86
    if (hasAvx2()) return nextEqualAvx2(a, from, m, value);
#endif
    for (int64_t j = from; j < m; ++j)
        if (a[j] == value) return j;
    return m;
}

#ifdef FS_X86
#define FS_DISPATCH(avx2call, scalarcall) \
    if (hasAvx2()) return avx2call;     \
    return scalarcall
#else
#define FS_DISPATCH(avx2call, scalarcall) return scalarcall
#endif

void columnMin(const float *row, double *colMin, int64_t *colArg, int64_t label, int64_t m) {
    FS_DISPATCH(columnMinAvx2(row, colMin, colArg, label, m), columnMinScalar(row, colMin, colArg, label, m, 0));
}
void columnMin(const double *row, double *colMin, int64_t *colArg, int64_t label, int64_t m) {
    FS_DISPATCH(columnMinAvx2(row, colMin, colArg, label, m), columnMinScalar(row, colMin, colArg, label, m, 0));
}
void twoSmallest(const float *row, const double *v, int64_t m, double &first, double &second) {
    first = second = kInf;
    FS_DISPATCH(twoSmallestAvx2(row, v, m, first, second), twoSmallestScalar(row, v, m, 0, first, second));
}
void twoSmallest(const double *row, const double *v, int64_t m, double &first, double &second) {
    first = second = kInf;
    FS_DISPATCH(twoSmallestAvx2(row, v, m, first, second), twoSmallestScalar(row, v, m, 0, first, second));
}
int64_t nextEqualDiff(const float *row, const double *v, int64_t from, int64_t m, double value) {
    FS_DISPATCH(nextEqualDiffAvx2(row, v, from, m, value), nextEqualDiffScalar(row, v, from, m, value));
}
int64_t nextEqualDiff(const double *row, const double *v, int64_t from, int64_t m, double value) {
    FS_DISPATCH(nextEqualDiffAvx2(row, v, from, m, value), nextEqualDiffScalar(row, v, from, m, value));
}

double minimum(const double *a, int64_t m) {
#ifdef FS_X86
    if (hasAvx2()) return minimumAvx2(a, m);
#endif
    double out = kInf;
    for (int64_t j = 0; j < m; ++j) out = std::min(out, a[j]);
    return out;
}

} // namespace fscope::core::analysis::kernels
