#pragma once
// The ranks of a distributed run (torchrun, SLURM, or started by hand), connected with PyTorch's
// own runtime: c10d's TCPStore for the rendezvous, the heartbeats and small messages, and a Gloo
// process group for the indexer's states (hundreds of MiB per SAE), sent point to point to rank
// 0. A rank that dies or fails is noticed by the others within RankOptions::lostAfterSeconds;
// they stop with a message naming it instead of waiting for it. No c10d header leaks from here.

#include "core/index/shards.h"
#include "core/jobs/progress.h"
#include "core/util/result.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace fscope::core::dist {

struct RankEnvironment {
    int64_t rank = 0, worldSize = 1, localRank = 0;
    std::string masterAddr = "127.0.0.1";
    int port = 29500;
    // torchrun's agent serves the store (TORCHELASTIC_USE_AGENT_STORE); every rank is a client
    // and the keys live under /worker/attempt_<restart>.
    bool agentStore = false;
    int64_t restartCount = 0;
    std::string launcher; // "torchrun", "SLURM" or "--rank"
};

using GetEnv = std::function<const char *(const char *)>;

// The ranks of this run, from torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT), else SLURM's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; the job script sets
// MASTER_ADDR, and MASTER_PORT or a port derived from SLURM_JOB_ID). `rank` / `worldSize` >= 0
// (the CLI's --rank / --world-size) take precedence. nullopt: one process (world size 1).
Result<std::optional<RankEnvironment>> rankEnvironment(
    int64_t rank = -1, int64_t worldSize = -1, const GetEnv &getenv = nullptr);

struct RankOptions {
    double connectSeconds = 300; // every rank must join within this, and a transfer finish
    double lostAfterSeconds = 60; // a rank with no heartbeat for this long is lost
};

// Whether this build has torch.distributed's c10d with Gloo.
bool distributedAvailable();

class Ranks : public index::ShardExchange {
public:
    // Why the run cannot go on (a rank lost, or one that failed and said why); empty while every
    // rank is well.
    virtual std::string problem() const = 0;
    // Tells the other ranks this one failed, so they stop with `message` instead of waiting.
    virtual void fail(const std::string &message) = 0;
    // This rank is done: the others stop watching it. Rank 0, whose process serves the store,
    // waits (a bounded time) until every other rank is done too.
    virtual void finish() = 0;
};

// Joins the other ranks. `watch` (may be null) is cancelled when a rank is lost or fails, so a
// running job stops at its next checkpoint.
Result<std::unique_ptr<Ranks>> connectRanks(
    const RankEnvironment &env, const RankOptions &options, jobs::Progress *watch = nullptr);

} // namespace fscope::core::dist
