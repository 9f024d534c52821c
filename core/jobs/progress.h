#pragma once
// The progress + cancellation contract of every long operation (DESIGN section 2). Compute code
// reports done/total and a message and polls cancelled(); it knows nothing of threads or Qt.
// All members are safe to call from the worker while another thread reads snapshot().

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace fscope::core::jobs {

struct ProgressSnapshot {
    int64_t done = 0;
    int64_t total = 0; // 0 = unknown
    std::string message;
    double elapsedSeconds = 0;
    bool cancelled = false;
    // Where the job computes ("cuda:0 bf16", "cpu f32"); empty until the job says.
    std::string device;
};

class Progress {
public:
    Progress();
    virtual ~Progress() = default;

    // Starts a phase: resets done, sets the total (0 if unknown) and the message.
    void begin(int64_t total, std::string message);
    void advance(int64_t n = 1);
    void setDone(int64_t done);
    void setMessage(std::string message);
    // The device (and dtype) the job's model and SAEs run on, once resolved from "auto": the
    // jobs panel shows it and the job's result records it.
    void setDevice(std::string device);

    void cancel() { m_cancelled.store(true); }
    bool cancelled() const { return m_cancelled.load(); }

    ProgressSnapshot snapshot() const;

protected:
    // Called on the worker thread after every change; a view may redraw (throttled).
    virtual void changed() { }

private:
    std::atomic<int64_t> m_done { 0 };
    std::atomic<int64_t> m_total { 0 };
    std::atomic<bool> m_cancelled { false };
    mutable std::mutex m_messageMutex;
    std::string m_message;
    std::string m_device;
    std::chrono::steady_clock::time_point m_start;
};

// Estimated seconds left from the average rate so far; negative when unknown.
double estimateSecondsLeft(int64_t done, int64_t total, double elapsedSeconds);
// "1:02:03", "4:05", "0:07"; "--:--" when negative.
std::string formatDuration(double seconds);

} // namespace fscope::core::jobs
