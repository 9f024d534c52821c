// Crosscoders: one dictionary over several hooks. The SAELens form (PR #475's CrosscoderSAE)
// is read from a fixture whose codes and reconstructions numpy computed from that class's
// formulas (tests/generators/make_dictionary_fixtures.py); per-hook dataset factors fold into
// the weights; what a model does with one (validation per hook, the prompt inspector, adding
// a feature's per-hook decoder rows, evaluation spliced at the deepest hook, indexing from the
// CLI with a per-hook "writes to" view); and clear refusals for what cannot be done exactly.

#include "core/analysis/logit_effects.h"
#include "core/analysis/prompt_analysis.h"
#include "core/demo/demo_paths.h"
#include "core/io/torch_tensor.h"
#include "core/model/decoder.h"
#include "core/sae/crosscoder_io.h"
#include "core/sae/sae_io.h"
#include "core/sae/sae_metrics.h"
#include "core/sae/tensor_set.h"
#include "core/steer/steering.h"
#include "core/store/database.h"
#include "core/store/index_store.h"
#include "tests/support/cli_run.h"
#include "tests/support/dictionary_fixtures.h"
#include "tests/support/testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using namespace fscope::core;
using namespace fscope::core::sae;
using fscope::test::cli;
using fscope::test::CliRun;
using fscope::test::dict;
using fscope::test::fixture;
using fscope::test::maxDiff;
using fscope::test::npy;
namespace fs = std::filesystem;

namespace {

const char *kFixture = "dictionaries/saelens_crosscoder";

Result<Sae> open(const std::string &path)
{
    return loadSae(path, { {}, "cpu", false });
}

void rewriteCfg(const std::string &dir, const std::function<void(nlohmann::json &)> &edit)
{
    nlohmann::json cfg;
    {
        std::ifstream in(dir + "/cfg.json");
        in >> cfg;
    }
    edit(cfg);
    std::ofstream(dir + "/cfg.json") << cfg.dump(1);
}

// A crosscoder over `hooks` of a model `d` wide, with random weights.
std::shared_ptr<const Sae> randomCrosscoder(
    const std::vector<std::string> &hooks, int64_t d, int64_t features, uint64_t seed)
{
    at::manual_seed(seed);
    const int64_t n = static_cast<int64_t>(hooks.size());
    SaeConfig c;
    c.kind = DictionaryKind::Crosscoder;
    c.architecture = Architecture::Relu;
    c.hooksIn = hooks;
    c.hooksOut = hooks;
    c.hookName = hooks.front();
    c.dIn = n * d;
    c.dSae = features;
    SaeWeights w;
    w.W_enc = at::randn({ n * d, features }) / std::sqrt(double(n * d));
    w.b_enc = at::full({ features }, 0.05);
    w.W_dec = at::randn({ features, n * d }) / std::sqrt(double(features));
    w.b_dec = at::randn({ n * d }) * 0.05;
    return std::make_shared<const Sae>(c, w);
}

} // namespace

class TestCrosscoders : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void saelensCrosscoderMatchesNumpy();
    void savedAndReadBack();
    void datasetFactorsFoldPerHook();
    void unsupportedFormsAreRefused();
    void gemmaScope2CrosscoderRefusedWithItsKeys();
    void validatedPerHookAgainstTheModel();
    void promptInspectorReadsEveryHook();
    void steeringAddsEachHooksRow();
    void evaluationSplicesTheDeepestHook();
    void indexedFromTheCliWithPerHookWrites();
};

void TestCrosscoders::saelensCrosscoderMatchesNumpy()
{
    auto sae = open(fixture(kFixture));
    QVERIFY2(sae.ok(), sae.ok() ? "" : sae.errorMessage().c_str());
    const SaeConfig &c = sae->config();
    QCOMPARE(c.kind, DictionaryKind::Crosscoder);
    QCOMPARE(c.hooksIn.size(), size_t(3));
    QCOMPARE(c.hooksIn[1], std::string("blocks.0.hook_resid_post"));
    QCOMPARE(c.hookName, c.hooksIn.front());
    QCOMPARE(c.outputHooks(), c.hooksIn);
    QCOMPARE(c.dIn, int64_t(18));
    QCOMPARE(c.hookWidth(), int64_t(6));
    QVERIFY(c.applyBDecToInput);
    // The hooks concatenated in hook_names order are CrosscoderSAE's [n, d_in] row.
    const at::Tensor x = npy("saelens_crosscoder_x"); // [7, 3, 6]
    const at::Tensor f = sae->encode(x.reshape({ x.size(0), -1 }));
    QVERIFY(maxDiff(f, npy("saelens_crosscoder_f")) < 1e-5);
    QVERIFY((f > 0).sum().item<int64_t>() > 0);
    const at::Tensor y = npy("saelens_crosscoder_y");
    QVERIFY(maxDiff(sae->reconstruct(x.reshape({ x.size(0), -1 })), y.reshape({ y.size(0), -1 }))
        < 1e-5);
    // Block l is W_dec[:, l, :] as the file holds it.
    auto file = readSafetensors(fixture(kFixture) + "/sae_weights.safetensors");
    QVERIFY(file.ok());
    const at::Tensor *found = file->find("W_dec");
    QVERIFY(found && found->dim() == 3);
    const at::Tensor wdec = *found;
    for (int64_t l = 0; l < 3; ++l)
        QVERIFY(maxDiff(sae->decoderBlock(l), wdec.select(1, l)) < 1e-7);
    // Its own hooks, no others: a --hook that moves it is refused.
    auto moved = loadSae(fixture(kFixture), { "blocks.1.hook_resid_pre", "cpu", false });
    QVERIFY(!moved.ok());
    QVERIFY(moved.errorMessage().find("crosscoder") != std::string::npos);
}

void TestCrosscoders::savedAndReadBack()
{
    QTemporaryDir tmp;
    auto sae = open(fixture(kFixture));
    QVERIFY(sae.ok());
    const std::string out = tmp.path().toStdString() + "/cc";
    QVERIFY(saveSaeLens(*sae, out).ok());
    nlohmann::json cfg;
    std::ifstream(out + "/cfg.json") >> cfg;
    QCOMPARE(cfg["hook_names"].size(), size_t(3));
    QCOMPARE(cfg["d_in"].get<int64_t>(), int64_t(6)); // per hook, as SAELens writes it
    auto back = open(out);
    QVERIFY2(back.ok(), back.ok() ? "" : back.errorMessage().c_str());
    QCOMPARE(back->config().hooksIn, sae->config().hooksIn);
    const at::Tensor x = npy("saelens_crosscoder_x").reshape({ 7, -1 });
    QVERIFY(maxDiff(back->encode(x), sae->encode(x)) < 1e-7);
    QVERIFY(maxDiff(back->reconstruct(x), sae->reconstruct(x)) < 1e-6);
}

void TestCrosscoders::datasetFactorsFoldPerHook()
{
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/cc";
    fs::copy(fixture(kFixture), dir, fs::copy_options::recursive);
    rewriteCfg(
        dir, [](nlohmann::json &j) { j["normalize_activations"] = "expected_average_only_in"; });
    std::ofstream(dir + "/activation_scaler.json") << R"({"scaling_factor": [2.0, 0.5, 4.0]})";
    auto sae = open(dir);
    QVERIFY2(sae.ok(), sae.ok() ? "" : sae.errorMessage().c_str());
    // SAELens scales hook l's activation by s_l before encoding and undoes it after decoding.
    auto raw = open(fixture(kFixture));
    QVERIFY(raw.ok());
    const at::Tensor s = at::tensor({ 2.0f, 0.5f, 4.0f }).view({ 1, 3, 1 });
    const at::Tensor x = npy("saelens_crosscoder_x"); // [7, 3, 6]
    const at::Tensor scaled = (x * s).reshape({ 7, -1 });
    const at::Tensor f = raw->encode(scaled);
    QVERIFY(maxDiff(sae->encode(x.reshape({ 7, -1 })), f) < 1e-4);
    const at::Tensor y = (raw->decode(f).reshape({ 7, 3, 6 }) / s).reshape({ 7, -1 });
    QVERIFY(maxDiff(sae->reconstruct(x.reshape({ 7, -1 })), y) < 1e-4);
    // One factor per hook, or the file is named.
    std::ofstream(dir + "/activation_scaler.json") << R"({"scaling_factor": [2.0, 0.5]})";
    auto wrong = open(dir);
    QVERIFY(!wrong.ok());
    QVERIFY(wrong.errorMessage().find("activation_scaler.json") != std::string::npos);
    QVERIFY(wrong.errorMessage().find("3 hooks") != std::string::npos);
}

void TestCrosscoders::unsupportedFormsAreRefused()
{
    QTemporaryDir tmp;
    auto variant = [&](const char *name, const std::function<void(nlohmann::json &)> &edit) {
        const std::string dir = tmp.path().toStdString() + "/" + name;
        fs::copy(fixture(kFixture), dir, fs::copy_options::recursive);
        rewriteCfg(dir, edit);
        auto s = open(dir);
        return s.ok() ? std::string("(loaded)") : s.errorMessage();
    };
    // Normalising the concatenation and normalising each hook differ; the format says neither.
    std::string e
        = variant("norm", [](nlohmann::json &j) { j["normalize_activations"] = "layer_norm"; });
    QVERIFY2(e.find("layer_norm") != std::string::npos && e.find("cfg.json") != std::string::npos,
        e.c_str());
    e = variant("gated", [](nlohmann::json &j) { j["architecture"] = "gated"; });
    QVERIFY2(e.find("gated") != std::string::npos, e.c_str());
    e = variant("hookz", [](nlohmann::json &j) {
        j["hook_names"]
            = { "blocks.0.attn.hook_z", "blocks.1.attn.hook_z", "blocks.1.hook_resid_post" };
    });
    QVERIFY2(e.find("hook_z") != std::string::npos, e.c_str());
    e = variant("unknown", [](nlohmann::json &j) { j["hook_names"][1] = "blocks.0.hook_nowhere"; });
    QVERIFY2(e.find("blocks.0.hook_nowhere") != std::string::npos, e.c_str());
    // A d_in that disagrees with the weights names the tensor and both shapes.
    e = variant("width", [](nlohmann::json &j) { j["d_in"] = 5; });
    QVERIFY2(e.find("W_enc") != std::string::npos
            && e.find("sae_weights.safetensors") != std::string::npos,
        e.c_str());
}

void TestCrosscoders::gemmaScope2CrosscoderRefusedWithItsKeys()
{
    // Laid out as Gemma Scope 2 publishes them: crosscoder/layer_A_B_..._width_W_l0_X with one
    // params_layer_{i} per hook, the CLT's file names.
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/crosscoder/layer_0_1_width_16k_l0_small";
    fs::create_directories(dir);
    for (int i = 0; i < 2; ++i)
        QVERIFY(io::writeSafetensors(dir + "/params_layer_" + std::to_string(i) + ".safetensors",
            { { "w_enc", at::zeros({ 6, 4 }) }, { "b_enc", at::zeros({ 4 }) },
                { "threshold", at::zeros({ 4 }) }, { "w_dec", at::zeros({ 4, 2, 6 }) },
                { "b_dec", at::zeros({ 6 }) } })
                    .ok());
    for (const std::string &path : { dir, dir + "#layer=0" }) {
        auto s = open(path);
        QVERIFY(!s.ok());
        const std::string e = s.errorMessage();
        QVERIFY2(e.find("crosscoder over layers 0_1") != std::string::npos, e.c_str());
        QVERIFY2(e.find("w_dec [4,2,6]") != std::string::npos, e.c_str());
        QVERIFY2(e.find("params_layer_1.safetensors") != std::string::npos, e.c_str());
    }
    // The same files in a CLT's folder are still a CLT.
    const std::string clt = tmp.path().toStdString() + "/clt";
    fs::copy(dir, clt, fs::copy_options::recursive);
    auto layer = loadSae(clt + "#layer=0", { {}, "cpu", false });
    QVERIFY2(layer.ok(), layer.ok() ? "" : layer.errorMessage().c_str());
    QCOMPARE(layer->config().kind, DictionaryKind::Clt);
}

void TestCrosscoders::validatedPerHookAgainstTheModel()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    const auto ok
        = randomCrosscoder({ "blocks.0.hook_resid_post", "blocks.1.hook_resid_post" }, 32, 8, 1);
    QVERIFY(validateSaeForModel(*ok, (*decoder)->config()).ok());
    // d_in 64 is two 32-wide hooks, not one 64-wide: a single-hook check would pass this.
    const auto wide
        = randomCrosscoder({ "blocks.0.hook_resid_post", "blocks.1.hook_resid_post" }, 16, 8, 1);
    auto e = validateSaeForModel(*wide, (*decoder)->config());
    QVERIFY(!e.ok());
    QVERIFY2(e.errorMessage().find("16 per hook") != std::string::npos, e.errorMessage().c_str());
    const auto deep
        = randomCrosscoder({ "blocks.0.hook_resid_post", "blocks.5.hook_resid_post" }, 32, 8, 1);
    e = validateSaeForModel(*deep, (*decoder)->config());
    QVERIFY(!e.ok());
    QVERIFY2(e.errorMessage().find("blocks.5.hook_resid_post") != std::string::npos,
        e.errorMessage().c_str());
}

void TestCrosscoders::promptInspectorReadsEveryHook()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    const std::vector<std::string> hooks
        = { "blocks.0.hook_resid_mid", "blocks.1.hook_resid_post" };
    const auto cc = randomCrosscoder(hooks, 32, 12, 4);
    const std::vector<int64_t> ids = { 95, 10, 20, 30, 40, 50 };
    auto analysis = analysis::analyzeIds(**decoder, *cc, ids, { true }, 12, 12);
    QVERIFY2(analysis.ok(), analysis.ok() ? "" : analysis.errorMessage().c_str());
    model::ForwardOptions fo;
    fo.capture = { hooks.begin(), hooks.end() };
    auto r = (*decoder)->forward({ at::tensor(ids, at::kLong).unsqueeze(0) }, fo);
    QVERIFY(r.ok());
    const at::Tensor x = at::cat(
        { r->activations.at(hooks[0])[0], r->activations.at(hooks[1])[0] }, -1); // [6, 64]
    const at::Tensor f = cc->encode(x);
    int checked = 0;
    for (size_t t = 1; t < ids.size(); ++t)
        for (const auto &a : analysis->perToken[t]) {
            QVERIFY(std::abs(a.value - f[int64_t(t)][a.feature].item<float>()) < 1e-5);
            ++checked;
        }
    QVERIFY(checked > 0);
    // Encoding one hook alone would give other codes: the test can tell them apart.
    QVERIFY(
        maxDiff(f, cc->encode(at::cat({ x.narrow(1, 0, 32), at::zeros({ 6, 32 }) }, -1))) > 1e-3);
}

void TestCrosscoders::steeringAddsEachHooksRow()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    const std::vector<std::string> hooks
        = { "blocks.0.hook_resid_post", "blocks.1.hook_resid_post" };
    const auto cc = randomCrosscoder(hooks, 32, 12, 5);
    const at::Tensor ids = at::tensor({ 95, 10, 20, 30 }, at::kLong).unsqueeze(0);
    model::ForwardOptions plain;
    plain.capture = { hooks.begin(), hooks.end() };
    auto base = (*decoder)->forward({ ids }, plain);
    QVERIFY(base.ok());
    steer::SteeringEdit e;
    e.kind = steer::EditKind::Add;
    e.sae = cc;
    e.feature = 3;
    e.value = 2.5;
    auto options = steer::interventionOptions({ e });
    QVERIFY2(options.ok(), options.ok() ? "" : options.errorMessage().c_str());
    QCOMPARE(options->interventions.size(), size_t(2));
    options->capture = plain.capture;
    auto steered = (*decoder)->forward({ ids }, *options);
    QVERIFY(steered.ok());
    // The first hook moves by exactly its own slice of the decoder row, not the whole row.
    const at::Tensor row0 = cc->weights().W_dec[3].narrow(0, 0, 32);
    QVERIFY(maxDiff(steered->activations.at(hooks[0]), base->activations.at(hooks[0]) + 2.5 * row0)
        < 1e-5);
    // The second hook gets its slice on top of what layer 1 makes of the edited residual.
    model::ForwardOptions firstOnly;
    firstOnly.capture = plain.capture;
    firstOnly.interventions.emplace(hooks[0],
        [row0](const at::Tensor &h, const model::HookContext &) { return h + 2.5 * row0; });
    auto partial = (*decoder)->forward({ ids }, firstOnly);
    QVERIFY(partial.ok());
    const at::Tensor row1 = cc->weights().W_dec[3].narrow(0, 32, 32);
    QVERIFY(
        maxDiff(steered->activations.at(hooks[1]), partial->activations.at(hooks[1]) + 2.5 * row1)
        < 1e-5);
    // Clamping needs the feature's value before its last hook has run: refused, by name.
    for (auto kind :
        { steer::EditKind::Clamp, steer::EditKind::Ablate, steer::EditKind::Reconstruct }) {
        e.kind = kind;
        auto refused = steer::interventionOptions({ e });
        QVERIFY(!refused.ok());
        QVERIFY2(refused.errorMessage().find("crosscoder") != std::string::npos,
            refused.errorMessage().c_str());
    }
}

void TestCrosscoders::evaluationSplicesTheDeepestHook()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    // An oracle for the deepest hook: features +x1 and -x1 (ReLU keeps each sign), decoded
    // back into hook 1 exactly and into hook 0 as nothing. Spliced at the right hook and slice,
    // the model's loss is unchanged; the reconstruction still misses all of hook 0.
    const int64_t d = 32;
    SaeConfig c;
    c.kind = DictionaryKind::Crosscoder;
    c.hooksIn = { "blocks.0.hook_resid_post", "blocks.1.hook_resid_post" };
    c.hooksOut = c.hooksIn;
    c.hookName = c.hooksIn[0];
    c.dIn = 2 * d;
    c.dSae = 2 * d;
    SaeWeights w;
    const at::Tensor eye = at::eye(d);
    w.W_enc = at::zeros({ 2 * d, 2 * d });
    w.W_enc.narrow(0, d, d).copy_(at::cat({ eye, -eye }, 1));
    w.b_enc = at::zeros({ 2 * d });
    w.W_dec = at::zeros({ 2 * d, 2 * d });
    w.W_dec.narrow(1, d, d).copy_(at::cat({ eye, -eye }, 0));
    w.b_dec = at::zeros({ 2 * d });
    const Sae oracle(c, w);
    std::vector<std::vector<int64_t>> contexts;
    for (int i = 0; i < 4; ++i)
        contexts.push_back({ 95, 10 + i, 20 + i, 30 + i, 40 + i, 50 + i, 60 + i, 70 + i });
    EvalOptions eo;
    eo.specialTokens = { 95 };
    auto m = evaluateSae(**decoder, oracle, contexts, eo);
    QVERIFY2(m.ok(), m.ok() ? "" : m.errorMessage().c_str());
    QVERIFY(std::abs(m->value("ce_with_sae") - m->value("ce_clean")) < 1e-4);
    QVERIFY(m->value("kl_with_sae") < 1e-6);
    // Zeroing that hook moves the loss a lot on this model, so "unchanged" is not vacuous.
    QVERIFY(std::abs(m->value("ce_zero_ablation") - m->value("ce_clean")) > 0.1);
    // The same codes decoded into hook 0's slice instead leave the deepest hook at b_dec = 0:
    // the spliced run is then the zero ablation itself.
    SaeWeights swapped = w;
    swapped.W_dec = at::cat({ w.W_dec.narrow(1, d, d), w.W_dec.narrow(1, 0, d) }, 1);
    auto wrong = evaluateSae(**decoder, Sae(c, swapped), contexts, eo);
    QVERIFY(wrong.ok());
    QVERIFY(std::abs(wrong->value("ce_with_sae") - wrong->value("ce_zero_ablation")) < 1e-4);
    // MSE pools both hooks: exactly hook 0's energy is missed.
    model::ForwardOptions fo;
    fo.capture = { c.hooksIn[0] };
    double energy = 0;
    int64_t tokens = 0;
    for (const auto &ctx : contexts) {
        auto r = (*decoder)->forward({ at::tensor(ctx, at::kLong).unsqueeze(0) }, fo);
        QVERIFY(r.ok());
        const at::Tensor h = r->activations.at(c.hooksIn[0])[0].narrow(0, 1, 7);
        energy += h.pow(2).sum().item<double>();
        tokens += 7;
    }
    QVERIFY(std::abs(m->value("mse") - energy / double(tokens)) < 1e-4 * energy / double(tokens));
    QVERIFY(m->value("explained_variance") < 0.99);
    // Two hooks in the deepest layer: no one hook can take the reconstruction.
    c.hooksIn = { "blocks.1.hook_resid_mid", "blocks.1.hook_resid_post" };
    c.hooksOut = c.hooksIn;
    c.hookName = c.hooksIn[0];
    auto tie = evaluateSae(**decoder, Sae(c, w), contexts, eo);
    QVERIFY(!tie.ok());
    QVERIFY2(
        tie.errorMessage().find("deepest layer") != std::string::npos, tie.errorMessage().c_str());
    // Two hooks in an earlier layer are fine: the deepest is still one hook. The oracle, moved
    // to three hooks, still reconstructs that one exactly.
    c.hooksIn
        = { "blocks.0.hook_resid_mid", "blocks.0.hook_resid_post", "blocks.1.hook_resid_post" };
    c.hooksOut = c.hooksIn;
    c.hookName = c.hooksIn[0];
    c.dIn = 3 * d;
    SaeWeights three = w;
    three.W_enc = at::cat({ at::zeros({ d, 2 * d }), w.W_enc }, 0);
    three.W_dec = at::cat({ at::zeros({ 2 * d, d }), w.W_dec }, 1);
    three.b_dec = at::zeros({ 3 * d });
    auto earlier = evaluateSae(**decoder, Sae(c, three), contexts, eo);
    QVERIFY2(earlier.ok(), earlier.ok() ? "" : earlier.errorMessage().c_str());
    QVERIFY(earlier->value("kl_with_sae") < 1e-6);
}

void TestCrosscoders::indexedFromTheCliWithPerHookWrites()
{
    // A crosscoder over three of the demo model's residual streams (hidden 128), written as
    // SAELens writes one, indexed and inspected through the CLI.
    QTemporaryDir tmp;
    const std::vector<std::string> hooks
        = { "blocks.0.hook_resid_post", "blocks.1.hook_resid_post", "blocks.3.hook_resid_post" };
    const auto cc = randomCrosscoder(hooks, 128, 24, 9);
    const std::string dir = tmp.path().toStdString() + "/cc";
    QVERIFY(saveSaeLens(*cc, dir).ok());

    const CliRun info = cli({ "sae", "info", "--sae", QString::fromStdString(dir), "--json" });
    QVERIFY2(info.code == 0, info.err.constData());
    const QJsonObject j = QJsonDocument::fromJson(info.out).object();
    QCOMPARE(j["kind"].toString(), QStringLiteral("crosscoder"));
    QCOMPARE(j["hooks_in"].toArray().size(), 3);
    QCOMPARE(
        j["hooks_out"].toArray().last().toString(), QStringLiteral("blocks.3.hook_resid_post"));
    QCOMPARE(j["d_in"].toInt(), 384);
    QCOMPARE(j["d_in_per_hook"].toInt(), 128);

    const std::string corpus = tmp.path().toStdString() + "/corpus.txt";
    std::string text;
    for (int i = 0; i < 60; ++i)
        text += "the cat sat on the mat and the dog ran far away from home today\n";
    fscope::test::writeFile(corpus, text);
    const QString ws = tmp.path() + "/ws.fsdb";
    const CliRun index
        = cli({ "index", "--model", "demo", "--sae", QString::fromStdString(dir), "--corpus",
            QString::fromStdString(corpus), "--tokens", "512", "--context", "16", "--out", ws });
    QVERIFY2(index.code == 0, index.err.constData());
    auto db = store::Database::open(ws.toStdString());
    QVERIFY(db.ok());
    auto indexes = store::listIndexes(**db);
    QVERIFY(indexes.ok());
    QCOMPARE(indexes->size(), size_t(1));
    QCOMPARE(indexes->at(0).hook, hooks[0]);
    // Feature 5's dashboard: where it writes, one norm per hook, from its decoder slices.
    auto dash = store::loadFeatureDashboard(**db, indexes->at(0).id, 5);
    QVERIFY(dash.ok());
    QCOMPARE(dash->writes.size(), size_t(3));
    for (size_t b = 0; b < 3; ++b) {
        QCOMPARE(dash->writes[b].first, hooks[b]);
        const float norm
            = cc->weights().W_dec[5].narrow(0, int64_t(b) * 128, 128).norm().item<float>();
        QVERIFY(std::abs(dash->writes[b].second - norm) < 1e-4);
    }
    QVERIFY(dash->count > 0 && !dash->top.empty());
    // Its logit effects are those of its write into the deepest hook (block 2).
    auto demo = demo::locateDemo();
    QVERIFY(demo.ok());
    auto decoder = model::Decoder::load(demo->model, { "cpu", "f32" });
    QVERIFY(decoder.ok());
    const at::Tensor logits = at::matmul(
        (*decoder)->unembedding().to(at::kFloat), cc->weights().W_dec[5].narrow(0, 256, 128));
    QVERIFY(!dash->logitTop.empty());
    QCOMPARE(int64_t(dash->logitTop.front().first), logits.argmax().item<int64_t>());
    QVERIFY(std::abs(dash->logitTop.front().second - logits.max().item<float>()) < 1e-4);

    const CliRun eval
        = cli({ "sae", "eval", "--model", "demo", "--sae", QString::fromStdString(dir), "--text",
            QString::fromStdString(corpus), "--tokens", "256", "--context", "16", "--json" });
    QVERIFY2(eval.code == 0, eval.err.constData());
    const QJsonObject m = QJsonDocument::fromJson(eval.out).object();
    QVERIFY(m.contains("explained_variance") && m.contains("ce_loss_recovered"));
}

QTEST_GUILESS_MAIN(TestCrosscoders)
#include "tst_crosscoders.moc"
