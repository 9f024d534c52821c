// bench match: the exact assignment on dense problems built like pairs of neighbouring-layer
// SAEs (reference/sae_match.md 5.2): an easy instance (most features have one clear partner)
// and a clustered one (shared centres, near-ties). Reports the cost build and solver times,
// the total cost, how many planted pairs were recovered, and the optimality certificate.
// With --dump DIR the solver matrices are written as .npy so scripts/bench_match.py can time
// scipy.optimize.linear_sum_assignment on the same matrices in the same run.

#include "app/cli/commands.h"
#include "app/cli/options.h"

#include "core/io/npz_tensor.h"
#include "core/match/lap/priced_assignment.h"
#include "core/match/sae_match.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace fscope::cli {

int benchMatch(const Args &args)
{
    Options o(args,
        { "features", "d", "kind", "noise", "unrelated", "seed", "dump", "device", "solver",
            "candidates", "column-candidates", "block-rows", "warm-start" },
        { "json", "no-init", "host-matrix" });
    if (!o.ok())
        return fail(o.error());
    const int64_t F = o.integer("features", 4096), d = o.integer("d", 2304);
    const std::string kindArg = o.value("kind", "both");
    std::vector<std::string> kinds;
    if (kindArg == "both")
        kinds = { "easy", "clustered" };
    else if (kindArg == "easy" || kindArg == "clustered")
        kinds = { kindArg };
    else
        return fail("--kind is easy, clustered or both");
    const std::string device = o.value("device", "cpu");
    auto solver = core::match::parseMatchSolver(o.value("solver", "dense"));
    if (!solver)
        return fail(solver.errorMessage());
    auto warmStart = core::match::parseMatchWarmStart(o.value("warm-start", "auto"));
    if (!warmStart)
        return fail(warmStart.errorMessage());
    nlohmann::json out = nlohmann::json::array();
    for (const std::string &kind : kinds) {
        auto planted = core::match::plantedMatchPair(F, d, kind == "clustered",
            o.number("noise", 0.5), o.number("unrelated", 0.3), uint64_t(o.integer("seed", 1)));
        if (device != "cpu") {
            for (auto *p : { &planted.a, &planted.b }) {
                p->decoder = p->decoder.to(at::Device(device));
                p->encoder = p->encoder.to(at::Device(device));
                p->encoderBias = p->encoderBias.to(at::Device(device));
            }
        }
        core::match::MatchOptions mo;
        mo.initialize = !o.has("no-init");
        mo.solver = *solver;
        mo.blockRows = o.integer("block-rows", mo.blockRows);
        mo.warmStart = *warmStart;
        if (o.has("host-matrix")) {
            // The priced solver on blocks of a matrix built once on the host: the passes cost
            // no matrix product, which leaves the solver's own work (what a GPU run adds on
            // the host side) to be timed.
            if (*solver != core::match::MatchSolver::Priced
                && *solver != core::match::MatchSolver::Approximate)
                return fail("--host-matrix times the priced or approximate solver");
            const std::vector<float> c
                = core::match::matchCostMatrix(planted.a, planted.b, mo.cost, mo.blockRows);
            const auto hostRows = [&c, F](int64_t r0, int64_t r1) {
                return at::from_blob(
                    const_cast<float *>(c.data()) + r0 * F, { r1 - r0, F }, at::kFloat);
            };
            core::lap::PricedOptions po;
            po.blockRows = mo.blockRows;
            po.rowCandidates = o.integer("candidates", po.rowCandidates);
            po.columnCandidates = o.integer("column-candidates", po.columnCandidates);
            using WarmStart = core::lap::PricedOptions::WarmStart;
            po.warmStart = *warmStart == core::match::MatchWarmStart::Auction ? WarmStart::Auction
                : *warmStart == core::match::MatchWarmStart::JonkerVolgenant
                ? WarmStart::JonkerVolgenant
                : WarmStart::Auto;
            if (*solver == core::match::MatchSolver::Approximate)
                po.maxRounds = 0;
            auto p = core::lap::solvePricedAssignment(F, hostRows, po);
            if (!p)
                return fail(p.errorMessage());
            std::string solves;
            for (const auto &sv : p->solves)
                solves += " " + std::to_string(sv.freeRows) + "/" + std::to_string(sv.rowsScanned)
                    + "/" + std::to_string(int(1000 * sv.seconds)) + "ms";
            const std::string warm = p->auction
                ? "auction " + std::to_string(p->auctionSeconds).substr(0, 4) + " s ("
                    + std::to_string(p->auctionPhases) + " phases, "
                    + std::to_string(p->auctionRounds) + " rounds, "
                    + std::to_string(p->seededPairs) + " pairs tight)  "
                : std::string("jv  ");
            std::printf("%-9s n=%lld host matrix, %s: candidates %.2f s  %ssparse solves %.2f s  "
                        "pricing %.2f s (%d passes)  "
                        "total %.6f  %s  gap %.3g  %lld candidate pairs\n  solves (free rows/row "
                        "scans/time):%s\n",
                kind.c_str(), (long long)F, core::match::matchSolverName(*solver).c_str(),
                p->candidateSeconds, warm.c_str(), p->solveSeconds, p->pricingSeconds, p->rounds,
                p->assignment.totalCost, p->optimal ? "optimal (certified)" : "not proven optimal",
                p->gap(), (long long)p->candidates, solves.c_str());
            continue;
        }
        auto r = core::match::matchParametersExact(planted.a, planted.b, mo);
        if (!r)
            return fail(r.errorMessage());
        int64_t recovered = 0;
        for (const auto &p : r->pairs)
            recovered += p.b == planted.truth[p.a];
        nlohmann::json row = { { "kind", kind }, { "features", F }, { "d_model", d },
            { "cost_seconds", r->costSeconds }, { "solve_seconds", r->solveSeconds },
            { "init_seconds", r->initSeconds }, { "search_seconds", r->searchSeconds },
            { "solver_total", r->solverCost }, { "free_rows_after_init", r->freeRowsAfterInit },
            { "recovered", double(recovered) / double(F) }, { "good_share", r->goodShare },
            { "solver", r->solver }, { "optimal", r->optimal }, { "solver_gap", r->solverGap },
            { "pricing_rounds", r->pricingRounds }, { "candidates", r->candidates },
            { "warm_start", r->warmStart } };
        if (o.has("dump")) {
            std::filesystem::create_directories(o.value("dump"));
            const std::vector<float> c
                = core::match::matchCostMatrix(planted.a, planted.b, mo.cost, mo.blockRows);
            const std::string path = o.value("dump") + "/" + kind + ".npy";
            const at::Tensor matrix
                = at::from_blob(const_cast<float *>(c.data()), { F, F }, at::kFloat);
            if (auto s = core::io::writeNpy(path, matrix); !s)
                return fail(s.errorMessage());
            row["matrix"] = path;
            // The same problem as -a.b (the cross-Gram form, scipy's fastest: reference 5.2).
            const at::Tensor gram = -at::matmul(planted.a.decoder, planted.b.decoder.t()).cpu();
            const std::string gramPath = o.value("dump") + "/" + kind + "_gram.npy";
            if (auto s = core::io::writeNpy(gramPath, gram); !s)
                return fail(s.errorMessage());
            row["gram_matrix"] = gramPath;
        }
        if (!o.has("json") && r->solver == "dense")
            std::printf("%-9s n=%lld d=%lld  dense: cost %.2f s  solve %.2f s (init %.2f, paths "
                        "%.2f)  total %.6f  rows left after init %lld  "
                        "planted pairs recovered %.1f%%\n",
                kind.c_str(), (long long)F, (long long)d, r->costSeconds, r->solveSeconds,
                r->initSeconds, r->searchSeconds, r->solverCost, (long long)r->freeRowsAfterInit,
                100.0 * double(recovered) / double(F));
        else if (!o.has("json"))
            std::printf("%-9s n=%lld d=%lld  %s: candidates %.2f s  sparse solves %.2f s  pricing "
                        "%.2f s (%d passes)  total %.6f  %s  "
                        "%lld candidate pairs  planted pairs recovered %.1f%%\n",
                kind.c_str(), (long long)F, (long long)d, r->solver.c_str(), r->costSeconds,
                r->searchSeconds, r->solveSeconds - r->searchSeconds, r->pricingRounds,
                r->solverCost,
                r->optimal ? "optimal (certified)"
                           : ("gap <= " + std::to_string(r->solverGap)).c_str(),
                (long long)r->candidates, 100.0 * double(recovered) / double(F));
        out.push_back(row);
    }
    if (o.has("json"))
        std::printf("%s\n", out.dump(1).c_str());
    return 0;
}

} // namespace fscope::cli
