// The progress + cancellation contract and the terminal progress line.

#include "core/jobs/terminal_progress.h"
#include "core/util/device_memory.h"
#include "core/util/fault_points.h"
#include "core/util/out_of_memory.h"

#include <QTest>

#include <thread>

using namespace fscope::core::jobs;

class TestJobs : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void progressCounts();
    void cancellationCrossesThreads();
    void eta_data();
    void eta();
    void duration_data();
    void duration();
    void terminalLine();
    void deviceIsReported();
    void outOfMemoryBecomesAnError();
};

void TestJobs::progressCounts()
{
    Progress p;
    p.begin(10, "indexing");
    p.advance(3);
    p.advance();
    auto s = p.snapshot();
    QCOMPARE(s.done, int64_t { 4 });
    QCOMPARE(s.total, int64_t { 10 });
    QCOMPARE(s.message, std::string("indexing"));
    p.setDone(9);
    p.setMessage("layer 2");
    s = p.snapshot();
    QCOMPARE(s.done, int64_t { 9 });
    QCOMPARE(s.message, std::string("layer 2"));
    p.begin(5, "next phase");
    QCOMPARE(p.snapshot().done, int64_t { 0 });
    QVERIFY(!p.cancelled());
}

void TestJobs::cancellationCrossesThreads()
{
    Progress p;
    p.begin(0, "until cancelled");
    std::atomic<int64_t> steps { 0 };
    std::thread worker([&] {
        while (!p.cancelled()) {
            p.advance();
            ++steps;
            std::this_thread::yield();
        }
    });
    QTRY_VERIFY(p.snapshot().done > 100);
    p.cancel();
    worker.join();
    QVERIFY(p.snapshot().cancelled);
    QCOMPARE(p.snapshot().done, steps.load());
}

void TestJobs::eta_data()
{
    QTest::addColumn<qint64>("done");
    QTest::addColumn<qint64>("total");
    QTest::addColumn<double>("elapsed");
    QTest::addColumn<double>("expected");
    QTest::newRow("quarter done") << qint64(25) << qint64(100) << 10.0 << 30.0;
    QTest::newRow("half done") << qint64(50) << qint64(100) << 8.0 << 8.0;
    QTest::newRow("all done") << qint64(100) << qint64(100) << 8.0 << 0.0;
    QTest::newRow("nothing yet") << qint64(0) << qint64(100) << 8.0 << -1.0;
    QTest::newRow("unknown total") << qint64(5) << qint64(0) << 8.0 << -1.0;
}

void TestJobs::eta()
{
    QFETCH(qint64, done);
    QFETCH(qint64, total);
    QFETCH(double, elapsed);
    QFETCH(double, expected);
    QCOMPARE(estimateSecondsLeft(done, total, elapsed), expected);
}

void TestJobs::duration_data()
{
    QTest::addColumn<double>("seconds");
    QTest::addColumn<QString>("text");
    QTest::newRow("seconds") << 7.2 << "0:07";
    QTest::newRow("minutes") << 245.0 << "4:05";
    QTest::newRow("hours") << 3723.0 << "1:02:03";
    QTest::newRow("unknown") << -1.0 << "--:--";
}

void TestJobs::duration()
{
    QFETCH(double, seconds);
    QFETCH(QString, text);
    QCOMPARE(QString::fromStdString(formatDuration(seconds)), text);
}

void TestJobs::terminalLine()
{
    ProgressSnapshot s;
    s.done = 250'000;
    s.total = 1'000'000;
    s.message = "Indexing";
    s.elapsedSeconds = 10;
    const QString line = QString::fromStdString(TerminalProgress::render(s, "tokens", 20));
    QVERIFY2(
        line.startsWith(QLatin1String("Indexing [#####...............]  25%")), qPrintable(line));
    QVERIFY2(line.contains(QLatin1String("250.0k/1.00M tokens")), qPrintable(line));
    QVERIFY2(line.contains(QLatin1String("25.0k tokens/s")), qPrintable(line));
    QVERIFY2(line.contains(QLatin1String("ETA 0:30")), qPrintable(line));
    s.total = 0;
    s.cancelled = true;
    const QString open = QString::fromStdString(TerminalProgress::render(s, "tokens"));
    QVERIFY(!open.contains(QLatin1String("ETA")));
    QVERIFY(open.contains(QLatin1String("(cancelling)")));
}

void TestJobs::deviceIsReported()
{
    fscope::core::jobs::Progress p;
    QCOMPARE(QString::fromStdString(p.snapshot().device), QString());
    p.setDevice(fscope::core::util::deviceLabel(c10::Device(c10::kCPU), c10::kBFloat16));
    QCOMPARE(QString::fromStdString(p.snapshot().device), QStringLiteral("cpu bf16"));
    QCOMPARE(QString::fromStdString(
                 fscope::core::util::deviceLabel(c10::Device(c10::kCUDA, 1), c10::kHalf)),
        QStringLiteral("cuda:1 f16"));
}

void TestJobs::outOfMemoryBecomesAnError()
{
    using namespace fscope::core;
    const auto work = [](int *runs) {
        return util::catchOutOfMemory("encoding 4096 contexts", c10::Device(c10::kCPU),
            "Try a smaller batch.", [runs]() -> Result<int> {
                ++*runs;
                util::faultPoint("jobs-test");
                return 42;
            });
    };
    int runs = 0;
    // Unarmed: the work's own result.
    auto ok = work(&runs);
    QVERIFY(ok.ok() && *ok == 42);
    // Armed twice: two failures with the message, then the point is spent.
    util::armFault("jobs-test", 2);
    for (int i = 0; i < 2; ++i) {
        auto failed = work(&runs);
        QVERIFY(!failed.ok());
        QCOMPARE(QString::fromStdString(failed.errorMessage()),
            QStringLiteral("Out of memory on the CPU while encoding 4096 contexts. Try a smaller "
                           "batch."));
    }
    QVERIFY(work(&runs).ok());
    QCOMPARE(runs, 4);
    // Another point's arming does not touch this one; disarm clears all.
    util::armFault("elsewhere", 5);
    QVERIFY(work(&runs).ok());
    util::disarmFaults();
    // std::bad_alloc (a host allocation) is an answer too.
    auto host = util::catchOutOfMemory("reading a corpus", c10::Device(c10::kCPU), "",
        []() -> Result<int> { throw std::bad_alloc(); });
    QVERIFY(!host.ok());
    QCOMPARE(QString::fromStdString(host.errorMessage()),
        QStringLiteral("Out of memory on the CPU while reading a corpus."));
}

QTEST_GUILESS_MAIN(TestJobs)
#include "tst_jobs.moc"
