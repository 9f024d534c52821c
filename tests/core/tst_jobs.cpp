// The progress + cancellation contract and the terminal progress line.

#include "core/jobs/terminal_progress.h"

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

QTEST_GUILESS_MAIN(TestJobs)
#include "tst_jobs.moc"
