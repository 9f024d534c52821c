// The tensor feature accumulator against its definition (tests/support/reference_accumulator):
// every summary equal on batches with ties, special tokens, negative and NaN activations, growing
// histogram ranges and full top/sample lists; the same state whatever the batching; checkpoints
// that resume exactly; foreign checkpoints refused.

#include "core/index/feature_accumulator.h"
#include "tests/support/reference_accumulator.h"

#include <QtTest/QtTest>

#include <ATen/ATen.h>

#include <cmath>

using namespace fscope;
using core::index::AccumulatorOptions;
using core::index::AccumulatorState;
using core::index::Example;
using core::index::FeatureAccumulator;
using core::index::FeatureSummary;

namespace {

struct Batches {
    at::Tensor acts; // [contexts * T, F]
    std::vector<uint8_t> counted;
    int64_t T = 0;
    int64_t contexts() const { return acts.size(0) / T; }
};

// Quantised values (many ties within and across contexts), a few huge ones late (the histogram
// range grows), negatives and NaNs (never fire), and special tokens at position 0 and at random.
Batches tiedBatches(int64_t contexts, int64_t T, int64_t F, uint64_t seed)
{
    at::manual_seed(static_cast<int64_t>(seed));
    Batches b;
    b.T = T;
    at::Tensor u = at::rand({ contexts * T, F });
    at::Tensor v = (at::randint(1, 6, { contexts * T, F }).to(at::kFloat) * 0.5f);
    b.acts = at::where(u < 0.3, v, at::zeros_like(v));
    b.acts = at::where(u > 0.97, -v, b.acts);
    b.acts.index_put_({ at::indexing::Slice(contexts * T / 2), 1 },
        at::where(u.index({ at::indexing::Slice(contexts * T / 2), 1 }) < 0.1, 700.0f, 0.25f));
    b.acts[3][2] = std::nanf("");
    b.counted.assign(static_cast<size_t>(contexts * T), 1);
    for (int64_t i = 0; i < contexts * T; ++i)
        if (i % T == 0 || (i * 7919) % 13 == 0)
            b.counted[static_cast<size_t>(i)] = 0;
    return b;
}

// Sparse exponential activations, like a trained SAE's code, with every seventh feature dense
// enough to fill its top and sample lists.
Batches sparseBatches(int64_t contexts, int64_t T, int64_t F, uint64_t seed)
{
    at::manual_seed(static_cast<int64_t>(seed));
    Batches b;
    b.T = T;
    const at::Tensor u = at::rand({ contexts * T, F });
    const at::Tensor v = -at::log(at::rand({ contexts * T, F })) * (1 + at::arange(F) % 5);
    const at::Tensor density = 0.01 + 0.6 * (at::arange(F) % 7 == 0).to(at::kFloat);
    b.acts = at::where(u < density, v, at::zeros_like(v));
    b.counted.assign(static_cast<size_t>(contexts * T), 1);
    for (int64_t i = 0; i < contexts * T; i += T)
        b.counted[static_cast<size_t>(i)] = 0;
    return b;
}

template <typename Acc>
void feed(Acc &acc, const Batches &b, int64_t per, int64_t from = 0, int64_t to = -1)
{
    const int64_t end = to < 0 ? b.contexts() : to;
    for (int64_t c = from; c < end; c += per) {
        const int64_t n = std::min(per, end - c);
        const std::vector<uint8_t> counted(
            b.counted.begin() + c * b.T, b.counted.begin() + (c + n) * b.T);
        acc.add(b.acts.narrow(0, c * b.T, n * b.T), c, counted);
    }
}

QString describe(int64_t feature, const char *what)
{
    return QStringLiteral("feature %1: %2").arg(feature).arg(what);
}

bool sameExamples(const std::vector<Example> &a, const std::vector<Example> &b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].value != b[i].value || a[i].context != b[i].context || a[i].maxPos != b[i].maxPos
            || a[i].start != b[i].start || a[i].band != b[i].band
            || a[i].activations != b[i].activations)
            return false;
    return true;
}

// Every summary field equal, means included: the fixed-point sums are exact in any order.
void compareStates(const AccumulatorState &got, const AccumulatorState &want)
{
    QCOMPARE(got.tokens, want.tokens);
    QVERIFY(got.sum == want.sum);
    for (int64_t j = 0; j < want.features; ++j) {
        const FeatureSummary g = got.summary(j), w = want.summary(j);
        QVERIFY2(g.count == w.count, qPrintable(describe(j, "count")));
        QVERIFY2(g.density == w.density, qPrintable(describe(j, "density")));
        QVERIFY2(g.max == w.max, qPrintable(describe(j, "max")));
        QVERIFY2(g.mean == w.mean, qPrintable(describe(j, "mean")));
        QVERIFY2(g.histLo == w.histLo && g.histHi == w.histHi, qPrintable(describe(j, "range")));
        QVERIFY2(g.histogram == w.histogram, qPrintable(describe(j, "histogram")));
        QVERIFY2(g.bands.size() == w.bands.size(), qPrintable(describe(j, "bands")));
        for (size_t q = 0; q < w.bands.size(); ++q)
            QVERIFY2(g.bands[q].lo == w.bands[q].lo && g.bands[q].hi == w.bands[q].hi
                    && g.bands[q].count == w.bands[q].count,
                qPrintable(describe(j, "band")));
        QVERIFY2(sameExamples(g.top, w.top), qPrintable(describe(j, "top examples")));
        QVERIFY2(sameExamples(g.quantileExamples, w.quantileExamples),
            qPrintable(describe(j, "band examples")));
    }
}

AccumulatorOptions smallLists()
{
    AccumulatorOptions o;
    o.topExamples = 3;
    o.reservoir = 4;
    o.quantileBands = 3;
    o.perBand = 2;
    o.windowRadius = 2;
    o.histogramBins = 5;
    o.seed = 11;
    return o;
}

} // namespace

class TestAccumulator : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void matchesDefinitionInAnyBatching_data();
    void matchesDefinitionInAnyBatching();
    void magnitudeForSignedCodes();
    void batchingIsInvisible();
    void hostLoopsEqualTensorOps();
    void shardsMergeExactly_data();
    void shardsMergeExactly();
    void checkpointResumesExactly();
    void foreignCheckpointsRefused();
    void cudaMatchesDefinition();
};

void TestAccumulator::matchesDefinitionInAnyBatching_data()
{
    QTest::addColumn<int>("per");
    QTest::addColumn<bool>("sparse");
    QTest::addColumn<bool>("host");
    for (bool host : { true, false })
        for (int per : { 1, 3, 8, 40 }) {
            const char *kernels = host ? "host loops" : "tensor ops";
            QTest::addRow("tied, %d contexts per add, %s", per, kernels) << per << false << host;
            QTest::addRow("sparse, %d contexts per add, %s", per, kernels) << per << true << host;
        }
}

void TestAccumulator::matchesDefinitionInAnyBatching()
{
    QFETCH(int, per);
    QFETCH(bool, sparse);
    QFETCH(bool, host);
    const int64_t T = 9, contexts = 40, F = sparse ? 300 : 7;
    const Batches b = sparse ? sparseBatches(contexts, T, F, 5) : tiedBatches(contexts, T, F, 3);
    const AccumulatorOptions o = sparse ? AccumulatorOptions {} : smallLists();
    test::ReferenceAccumulator reference(F, T, o);
    feed(reference, b, 5);
    FeatureAccumulator acc(F, T, o);
    acc.setHostKernels(host);
    feed(acc, b, per);
    const AccumulatorState got = acc.download();
    compareStates(got, reference.state());
    // The lists are full somewhere, and something was dropped from them (so the merge mattered).
    int64_t fullTop = 0;
    for (int64_t j = 0; j < F; ++j)
        fullTop += int64_t(got.summary(j).top.size()) == o.topExamples ? 1 : 0;
    QVERIFY(fullTop > 0);
    QVERIFY(got.summary(0).count > o.reservoir);
}

void TestAccumulator::magnitudeForSignedCodes()
{
    const int64_t T = 6, F = 5;
    Batches b = tiedBatches(30, T, F, 9);
    b.acts = b.acts * at::where(at::rand(b.acts.sizes()) < 0.5, -1.0f, 1.0f);
    AccumulatorOptions o = smallLists();
    o.useMagnitude = true;
    test::ReferenceAccumulator reference(F, T, o);
    feed(reference, b, 30);
    FeatureAccumulator acc(F, T, o);
    feed(acc, b, 4);
    compareStates(acc.download(), reference.state());
    QVERIFY(acc.download().summary(0).count > 0);
}

void TestAccumulator::batchingIsInvisible()
{
    const int64_t T = 9, F = 300;
    const Batches b = sparseBatches(32, T, F, 21);
    FeatureAccumulator one(F, T, {}), many(F, T, {});
    feed(one, b, 32);
    feed(many, b, 3);
    // Every summary, and the sums bit for bit: on a CPU the entries are added in the same order.
    // (Which physical slot holds an example depends on the batching; nothing shown does.)
    const AccumulatorState a = one.download(), b2 = many.download();
    compareStates(b2, a);
    QVERIFY(a.sum == b2.sum && a.fine == b2.fine && a.count == b2.count);
}

void TestAccumulator::hostLoopsEqualTensorOps()
{
    // The CPU's loops and the tensor form a GPU runs leave the same state, slot for slot.
    const int64_t T = 9, F = 300;
    const Batches b = sparseBatches(32, T, F, 23);
    FeatureAccumulator loops(F, T, {}), tensors(F, T, {});
    tensors.setHostKernels(false);
    feed(loops, b, 4);
    feed(tensors, b, 4);
    QVERIFY(loops.serialize() == tensors.serialize());
    QVERIFY(loops.download().summary(0).count > 100);
}

void TestAccumulator::shardsMergeExactly_data()
{
    QTest::addColumn<bool>("sparse");
    QTest::addRow("tied") << false;
    QTest::addRow("sparse") << true;
}

void TestAccumulator::shardsMergeExactly()
{
    // Three shards of one corpus (the middle one alone holds the huge values, so the histogram
    // ranges differ), merged in either order: the summaries of one pass over everything.
    QFETCH(bool, sparse);
    const int64_t T = 9, F = sparse ? 300 : 7;
    const Batches b = sparse ? sparseBatches(40, T, F, 31) : tiedBatches(40, T, F, 29);
    const AccumulatorOptions o = sparse ? AccumulatorOptions {} : smallLists();
    FeatureAccumulator whole(F, T, o);
    feed(whole, b, 4);
    std::vector<AccumulatorState> parts;
    for (auto [from, to] : { std::pair<int64_t, int64_t> { 0, 12 }, { 12, 27 }, { 27, 40 } }) {
        FeatureAccumulator shard(F, T, o);
        feed(shard, b, 4, from, to);
        parts.push_back(shard.download());
    }
    // A part travels as its serialized state (a shard's workspace, a rank's transfer): read back
    // without knowing its shape beforehand, it is the same state; a cut blob is refused.
    for (auto &part : parts) {
        const std::string blob = part.serialize();
        auto back = AccumulatorState::deserialize(blob, o);
        QVERIFY2(back.ok(), back.ok() ? "" : back.errorMessage().c_str());
        QCOMPARE(back->serialize(), blob);
        QVERIFY(!AccumulatorState::deserialize(blob.substr(0, blob.size() - 1), o).ok());
        part = std::move(back).value();
    }
    AccumulatorState forward = parts[0], backward = parts[2];
    QVERIFY(forward.merge(parts[1]).ok() && forward.merge(parts[2]).ok());
    QVERIFY(backward.merge(parts[1]).ok() && backward.merge(parts[0]).ok());
    compareStates(forward, whole.download());
    compareStates(backward, whole.download());
    QVERIFY(parts[0].summary(1).max != whole.download().summary(1).max || sparse);

    FeatureAccumulator other(F, T, [&] {
        AccumulatorOptions x = o;
        x.seed = o.seed + 1;
        return x;
    }());
    auto refused = forward.merge(other.download());
    QVERIFY(!refused.ok());
    QVERIFY(QString::fromStdString(refused.errorMessage()).contains("different configurations"));
}

void TestAccumulator::checkpointResumesExactly()
{
    const int64_t T = 9, F = 7;
    const Batches b = tiedBatches(40, T, F, 17);
    const AccumulatorOptions o = smallLists();
    FeatureAccumulator whole(F, T, o), before(F, T, o), after(F, T, o);
    feed(whole, b, 4);
    feed(before, b, 4, 0, 16);
    const std::string blob = before.serialize();
    QVERIFY(after.restore(blob).ok());
    QCOMPARE(after.tokens(), before.tokens());
    feed(after, b, 4, 16);
    QVERIFY(after.serialize() == whole.serialize());
    QVERIFY(before.serialize() != whole.serialize());
}

void TestAccumulator::foreignCheckpointsRefused()
{
    const int64_t T = 9;
    FeatureAccumulator a(7, T, smallLists()), b(8, T, smallLists()), c(7, T, {});
    const std::string blob = a.serialize();
    auto wrongWidth = b.restore(blob);
    QVERIFY(!wrongWidth.ok());
    QVERIFY(QString::fromStdString(wrongWidth.errorMessage()).contains("different index"));
    QVERIFY(!c.restore(blob).ok());
    auto old = a.restore("FSACC1" + blob.substr(6));
    QVERIFY(!old.ok());
    QVERIFY(QString::fromStdString(old.errorMessage()).contains("unknown state format"));
    auto cut = a.restore(blob.substr(0, blob.size() - 3));
    QVERIFY(!cut.ok());
    QVERIFY(QString::fromStdString(cut.errorMessage()).contains("wrong size"));
    QVERIFY(a.restore(blob).ok());
}

void TestAccumulator::cudaMatchesDefinition()
{
    if (!at::hasCUDA())
        QSKIP("no CUDA device: the tensor path is checked on the CPU above");
    const int64_t T = 9, F = 300;
    const Batches b = sparseBatches(40, T, F, 5);
    test::ReferenceAccumulator reference(F, T, {});
    feed(reference, b, 5);
    FeatureAccumulator acc(F, T, {}, at::Device(at::kCUDA));
    Batches onDevice = b;
    onDevice.acts = b.acts.to(at::kCUDA);
    feed(acc, onDevice, 8);
    compareStates(acc.download(), reference.state());
}

QTEST_APPLESS_MAIN(TestAccumulator)
#include "tst_accumulator.moc"
