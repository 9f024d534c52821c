#include "core/dist/ranks.h"

#if defined(USE_C10D_GLOO) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>) \
    && __has_include(<gloo/config.h>)
#define FS_HAVE_C10D 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

namespace fscope::core::dist {

namespace {

Status parseInteger(const char *name, const std::string &text, int64_t &out)
{
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || end != text.data() + text.size())
        return Error { std::string(name) + "='" + text + "' is not a number" };
    return {};
}

std::string seconds(double s)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.0f s", s);
    return text;
}

} // namespace

Result<std::optional<RankEnvironment>> rankEnvironment(
    int64_t rank, int64_t worldSize, const GetEnv &getenvIn)
{
    const GetEnv env = getenvIn ? getenvIn : [](const char *n) { return std::getenv(n); };
    auto var = [&](const char *name) -> std::optional<std::string> {
        const char *v = env(name);
        if (!v || !*v)
            return std::nullopt;
        return std::string(v);
    };
    auto integer = [&](const char *name, int64_t &out) -> Status {
        if (auto v = var(name))
            return parseInteger(name, *v, out);
        return {};
    };
    RankEnvironment e;
    if (rank >= 0 || worldSize >= 0) {
        if (worldSize < 1 || rank < 0 || rank >= worldSize)
            return Error { "--rank R --world-size W need both, with 0 <= R < W" };
        e.rank = rank;
        e.worldSize = worldSize;
        e.localRank = rank;
        e.launcher = "--rank";
        if (auto s = integer("LOCAL_RANK", e.localRank); !s)
            return s.error();
    } else if (var("RANK") && var("WORLD_SIZE")) {
        e.launcher = "torchrun";
        for (auto [name, out] : { std::pair { "RANK", &e.rank },
                 std::pair { "WORLD_SIZE", &e.worldSize }, std::pair { "LOCAL_RANK", &e.localRank },
                 std::pair { "TORCHELASTIC_RESTART_COUNT", &e.restartCount } })
            if (auto s = integer(name, *out); !s)
                return s.error();
        e.agentStore = var("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
    } else if (var("SLURM_PROCID") && var("SLURM_NTASKS")) {
        e.launcher = "SLURM";
        for (auto [name, out] :
            { std::pair { "SLURM_PROCID", &e.rank }, std::pair { "SLURM_NTASKS", &e.worldSize },
                std::pair { "SLURM_LOCALID", &e.localRank } })
            if (auto s = integer(name, *out); !s)
                return s.error();
    } else {
        return std::optional<RankEnvironment>();
    }
    if (e.worldSize < 1 || e.rank < 0 || e.rank >= e.worldSize)
        return Error { e.launcher + ": rank " + std::to_string(e.rank) + " of world size "
            + std::to_string(e.worldSize) + " is out of range" };
    if (e.worldSize == 1)
        return std::optional<RankEnvironment>();
    if (auto addr = var("MASTER_ADDR"))
        e.masterAddr = *addr;
    else if (e.launcher == "SLURM")
        return Error {
            "SLURM: set MASTER_ADDR to the job's first host, e.g. export "
            "MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)"
        };
    int64_t port = 29500;
    if (e.launcher == "SLURM" && !var("MASTER_PORT")) {
        int64_t job = 0;
        if (auto s = integer("SLURM_JOB_ID", job); !s)
            return s.error();
        port = 20000 + job % 20000; // one port per job, so two jobs on a node do not collide
    }
    if (auto s = integer("MASTER_PORT", port); !s)
        return s.error();
    if (port < 1 || port > 65535)
        return Error { "MASTER_PORT=" + std::to_string(port) + " is not a port" };
    e.port = static_cast<int>(port);
    return std::optional<RankEnvironment>(e);
}

#ifdef FS_HAVE_C10D

bool distributedAvailable()
{
    return true;
}

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds toMs(double s)
{
    return milliseconds(static_cast<int64_t>(s * 1000));
}

std::string text(const std::vector<uint8_t> &v)
{
    return std::string(v.begin(), v.end());
}

std::vector<uint8_t> bytes(const std::string &s)
{
    return std::vector<uint8_t>(s.begin(), s.end());
}

class GlooRanks final : public Ranks {
public:
    GlooRanks(RankEnvironment env, RankOptions options, jobs::Progress *watch)
        : m_env(std::move(env))
        , m_options(options)
        , m_watch(watch)
    {
    }

    ~GlooRanks() override
    {
        stopWatching();
        // After a lost rank a Gloo worker may still be blocked on it; joining it would hang
        // until the transfer timeout, so the group is left to the process's exit.
        if (!problem().empty() && m_group)
            (void)m_group.release();
    }

    Status connect()
    {
        const bool server = m_env.rank == 0 && !m_env.agentStore;
        try {
            if (server)
                m_serverStore = tcpStore(true);
            m_store = prefixed(server ? m_serverStore : tcpStore(false));
            m_watchStore = prefixed(tcpStore(false));
        } catch (const std::exception &e) {
            return Error { std::string(server ? "cannot serve" : "cannot reach")
                + " the rendezvous store at " + where() + " (" + m_env.launcher + ", rank "
                + std::to_string(m_env.rank) + "): " + firstLine(e.what()) };
        }
        try {
            auto options = c10d::ProcessGroupGloo::Options::create(toMs(m_options.connectSeconds));
            options->devices.push_back(glooDevice());
            m_group = c10::make_intrusive<c10d::ProcessGroupGloo>(
                c10::make_intrusive<c10d::PrefixStore>("gloo", m_store),
                static_cast<int>(m_env.rank), static_cast<int>(m_env.worldSize), options);
        } catch (const std::exception &e) {
            return Error { "the " + std::to_string(m_env.worldSize) + " ranks did not all join at "
                + where() + " within " + seconds(m_options.connectSeconds) + ": "
                + firstLine(e.what()) };
        }
        m_watcher = std::thread([this] { watch(); });
        return {};
    }

    int64_t rank() const override { return m_env.rank; }
    int64_t size() const override { return m_env.worldSize; }

    Result<std::string> broadcastFromRoot(const std::string &payload) override
    {
        const std::string key = "broadcast/" + std::to_string(m_sequence++);
        return guarded([&]() -> Result<std::string> {
            if (m_env.rank == 0) {
                m_store->set(key, bytes(payload));
                return payload;
            }
            if (auto s = waitForKeys({ key }); !s)
                return s.error();
            return text(m_store->get(key));
        });
    }

    Result<std::vector<std::string>> gatherToRoot(const std::string &payload) override
    {
        const int64_t seq = m_sequence++;
        const std::string prefix = "gather/" + std::to_string(seq) + "/";
        return guarded([&]() -> Result<std::vector<std::string>> {
            m_store->set(prefix + "size/" + std::to_string(m_env.rank),
                bytes(std::to_string(payload.size())));
            // Data moves only once every rank is here, so a transfer's time is bounded by its
            // size, and waiting for a slower rank is bounded by its heartbeats instead.
            const int tag = static_cast<int>(seq);
            if (m_env.rank != 0) {
                if (auto s = waitForKeys({ prefix + "ready" }); !s)
                    return s.error();
                if (!payload.empty()) {
                    std::vector<at::Tensor> t { at::from_blob(const_cast<char *>(payload.data()),
                        { static_cast<int64_t>(payload.size()) }, at::kByte) };
                    m_group->send(t, 0, tag)->wait(toMs(m_options.connectSeconds));
                }
                return std::vector<std::string>();
            }
            std::vector<std::string> keys;
            for (int64_t r = 0; r < m_env.worldSize; ++r)
                keys.push_back(prefix + "size/" + std::to_string(r));
            if (auto s = waitForKeys(keys); !s)
                return s.error();
            m_store->set(prefix + "ready", bytes("1"));
            std::vector<std::string> out { payload };
            for (int64_t r = 1; r < m_env.worldSize; ++r) {
                int64_t n = 0;
                if (auto s = parseInteger("size", text(m_store->get(keys[r])), n); !s)
                    return s.error();
                std::vector<at::Tensor> t { at::empty({ n }, at::kByte) };
                if (n > 0)
                    m_group->recv(t, static_cast<int>(r), tag)
                        ->wait(toMs(m_options.connectSeconds));
                out.emplace_back(reinterpret_cast<const char *>(t[0].data_ptr<uint8_t>()),
                    static_cast<size_t>(n));
            }
            return out;
        });
    }

    std::string problem() const override
    {
        std::lock_guard lock(m_mutex);
        return m_problem;
    }

    void fail(const std::string &message) override { leave("failed/", message); }

    void finish() override { leave("done/", "1"); }

private:
    // Says how this rank ends. The process that serves the store stays until every other rank
    // still alive has said how it ends, so none loses the store before reading what it needs.
    void leave(const std::string &key, const std::string &value)
    {
        try {
            m_store->set(key + std::to_string(m_env.rank), bytes(value));
            if (m_serverStore) {
                const auto until = Clock::now() + toMs(m_options.lostAfterSeconds * 2);
                for (int64_t r = 1; r < m_env.worldSize; ++r) {
                    const std::string id = std::to_string(r);
                    while (!m_store->check({ "done/" + id }) && !m_store->check({ "failed/" + id })
                        && !isLost(r) && Clock::now() < until)
                        std::this_thread::sleep_for(milliseconds(20));
                }
            }
        } catch (const std::exception &) {
            // The store is gone with rank 0: nobody is left to tell.
        }
        stopWatching();
    }

    bool isLost(int64_t r) const
    {
        std::lock_guard lock(m_mutex);
        return m_lost.count(r) > 0;
    }

    std::string where() const { return m_env.masterAddr + ":" + std::to_string(m_env.port); }

    static std::string firstLine(const std::string &s) { return s.substr(0, s.find('\n')); }

    c10::intrusive_ptr<c10d::Store> tcpStore(bool server)
    {
        c10d::TCPStoreOptions o;
        o.port = static_cast<uint16_t>(m_env.port);
        o.isServer = server;
        o.waitWorkers = false;
        o.timeout = toMs(m_options.connectSeconds);
        return c10::make_intrusive<c10d::TCPStore>(m_env.masterAddr, o);
    }

    c10::intrusive_ptr<c10d::Store> prefixed(c10::intrusive_ptr<c10d::Store> store) const
    {
        // Under torchrun's agent store the workers' keys live under their attempt.
        if (m_env.agentStore)
            store = c10::make_intrusive<c10d::PrefixStore>(
                "/worker/attempt_" + std::to_string(m_env.restartCount), store);
        return c10::make_intrusive<c10d::PrefixStore>("featurescope", store);
    }

    std::shared_ptr<::gloo::transport::Device> glooDevice() const
    {
        if (const char *ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
            return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
        // One machine: loopback; several: the address this host's name resolves to.
        if (m_env.masterAddr.rfind("127.", 0) == 0 || m_env.masterAddr == "localhost")
            return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
        return c10d::ProcessGroupGloo::createDefaultDevice();
    }

    template <typename F> auto guarded(F &&body) -> decltype(body())
    {
        try {
            return body();
        } catch (const std::exception &e) {
            // A collective that fails because a rank died says so in the rank's words.
            std::this_thread::sleep_for(milliseconds(50));
            if (const std::string p = problem(); !p.empty())
                return Error { p };
            return Error { "rank " + std::to_string(m_env.rank) + ": exchange with the other "
                + "ranks failed: " + firstLine(e.what()) };
        }
    }

    Status waitForKeys(const std::vector<std::string> &keys)
    {
        while (!m_store->check(keys)) {
            if (const std::string p = problem(); !p.empty())
                return Error { p };
            std::this_thread::sleep_for(milliseconds(10));
        }
        return {};
    }

    void setProblem(std::string p)
    {
        {
            std::lock_guard lock(m_mutex);
            if (!m_problem.empty())
                return;
            m_problem = std::move(p);
        }
        if (m_watch)
            m_watch->cancel();
    }

    // Beats this rank's heartbeat and watches the others'.
    void watch()
    {
        const int64_t W = m_env.worldSize;
        const double lostAfter = m_options.lostAfterSeconds;
        const auto period = toMs(std::clamp(lostAfter / 10, 0.05, 1.0));
        std::vector<int64_t> last(static_cast<size_t>(W), -1);
        std::vector<Clock::time_point> seen(static_cast<size_t>(W), Clock::now());
        std::unique_lock lock(m_watchMutex);
        while (!m_stopWatching) {
            try {
                m_watchStore->add("beat/" + std::to_string(m_env.rank), 1);
                for (int64_t r = 0; r < W; ++r) {
                    const std::string id = std::to_string(r);
                    if (r == m_env.rank || m_watchStore->check({ "done/" + id }))
                        continue;
                    if (m_watchStore->check({ "failed/" + id })) {
                        setProblem(
                            "rank " + id + " failed: " + text(m_watchStore->get("failed/" + id)));
                        continue;
                    }
                    const int64_t beat = m_watchStore->add("beat/" + id, 0);
                    const auto now = Clock::now();
                    const auto ur = static_cast<size_t>(r);
                    if (beat != last[ur]) {
                        last[ur] = beat;
                        seen[ur] = now;
                    } else if (std::chrono::duration<double>(now - seen[ur]).count() > lostAfter) {
                        {
                            std::lock_guard guard(m_mutex);
                            m_lost.insert(r);
                        }
                        setProblem("rank " + id + " was lost: no heartbeat for "
                            + seconds(lostAfter) + " (killed, or its machine is gone)");
                    }
                }
            } catch (const std::exception &e) {
                setProblem("lost the rendezvous store at " + where()
                    + (m_env.agentStore ? " (the torchrun agent is gone)" : " (rank 0 was lost)")
                    + ": " + firstLine(e.what()));
            }
            m_wake.wait_for(lock, period, [this] { return m_stopWatching; });
        }
    }

    void stopWatching()
    {
        {
            std::lock_guard lock(m_watchMutex);
            m_stopWatching = true;
        }
        m_wake.notify_all();
        if (m_watcher.joinable())
            m_watcher.join();
    }

    RankEnvironment m_env;
    RankOptions m_options;
    jobs::Progress *m_watch = nullptr;
    c10::intrusive_ptr<c10d::Store> m_serverStore, m_store, m_watchStore;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> m_group;
    int64_t m_sequence = 0;
    mutable std::mutex m_mutex;
    std::string m_problem;
    std::set<int64_t> m_lost; // ranks whose heartbeat stopped
    std::mutex m_watchMutex;
    std::condition_variable m_wake;
    bool m_stopWatching = false;
    std::thread m_watcher;
};

} // namespace

Result<std::unique_ptr<Ranks>> connectRanks(
    const RankEnvironment &env, const RankOptions &options, jobs::Progress *watch)
{
    auto ranks = std::make_unique<GlooRanks>(env, options, watch);
    if (auto s = ranks->connect(); !s)
        return s.error();
    return std::unique_ptr<Ranks>(std::move(ranks));
}

#else

bool distributedAvailable()
{
    return false;
}

Result<std::unique_ptr<Ranks>> connectRanks(
    const RankEnvironment &, const RankOptions &, jobs::Progress *)
{
    return Error { "this build has no torch.distributed (c10d with Gloo): run the shards with "
                   "index --shard R/W --out part-R.fsdb and join them with merge" };
}

#endif

} // namespace fscope::core::dist
