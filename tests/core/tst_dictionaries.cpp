// Dictionaries beyond residual SAEs: transcoders, skip transcoders, CLTs and ITDA, each read
// from a fixture written like its repository writes it (tests/generators/
// make_dictionary_fixtures.py computes the expected codes and outputs with numpy); their
// semantics in a model (a transcoder is measured and steered at its output hook, a CLT
// feature writes every later layer); ITDA's build, matching pursuit and Jaccard similarity;
// and clear errors for broken files of each format.

#include "core/analysis/logit_effects.h"
#include "core/io/npz_tensor.h"
#include "core/io/torch_tensor.h"
#include "core/model/decoder.h"
#include "core/sae/dictionary_io.h"
#include "core/sae/itda.h"
#include "core/sae/itda_similarity.h"
#include "core/sae/sae_config_json.h"
#include "core/sae/sae_io.h"
#include "core/sae/sae_metrics.h"
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

Sae load(const std::string &path)
{
    auto s = loadSae(path, { {}, "cpu", false });
    if (!s)
        qFatal("%s", s.errorMessage().c_str());
    return std::move(s).value();
}

std::string loadError(const std::string &path)
{
    auto s = loadSae(path, { {}, "cpu", false });
    return s ? std::string("(loaded)") : s.errorMessage();
}

void copyTree(const std::string &from, const std::string &to)
{
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

// A transcoder on the tiny GPT-2 fixture (hidden 32): reads blocks.L.mlp.hook_in, writes
// blocks.L.hook_mlp_out.
std::shared_ptr<const Sae> gpt2Transcoder(int64_t layer, bool skip, uint64_t seed)
{
    at::manual_seed(seed);
    SaeConfig c;
    c.kind = skip ? DictionaryKind::SkipTranscoder : DictionaryKind::Transcoder;
    c.architecture = Architecture::Relu;
    c.dIn = 32;
    c.dSae = 48;
    c.applyBDecToInput = false;
    c.hookName = "blocks." + std::to_string(layer) + ".mlp.hook_in";
    c.hooksOut = { "blocks." + std::to_string(layer) + ".hook_mlp_out" };
    SaeWeights w;
    w.W_enc = at::randn({ 32, 48 }) / std::sqrt(32.0);
    w.b_enc = at::full({ 48 }, 0.05);
    w.W_dec = at::randn({ 48, 32 }) / std::sqrt(48.0);
    w.b_dec = at::randn({ 32 }) * 0.1;
    if (skip)
        w.W_skip = at::randn({ 32, 32 }) * 0.1;
    return std::make_shared<const Sae>(c, w);
}

} // namespace

class TestDictionaries : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void saelensSkipTranscoder();
    void saelensTranscoderRoundTrip();
    void saelensTranscoderErrors();
    void gemmaScope2Transcoder();
    void gemmaScopeTranscoderNpz();
    void circuitTracerTranscoders();
    void circuitTracerCltBlocks();
    void sparsifySkipTranscoder();
    void matchingPursuitMatchesNumpy();
    void itdaRecoversPlantedDirections();
    void itdaJaccardOfOrigins();
    void itdaSimilarityMatrix();
    void itdaSavedFolderIsADictionary();
    void transcoderSteeringEditsOnlyMlpOut();
    void cltFeatureWritesEveryLaterLayer();
    void transcoderMetricsAtTheOutputHook();
    void cltLogitEffectsSumOverBlocks();
    void cltEvaluatedWhole();
    void infoReportsKindAndHooks();
    void cltIndexedAndEvaluatedFromTheCli();
};

void TestDictionaries::saelensSkipTranscoder()
{
    const Sae t = load(dict("saelens_skip_transcoder"));
    QCOMPARE(kindName(t.config().kind), std::string("skip-transcoder"));
    QCOMPARE(t.config().hookName, std::string("blocks.1.mlp.hook_in"));
    QCOMPARE(t.config().outputHook(), std::string("blocks.1.hook_mlp_out"));
    QVERIFY(t.config().writesElsewhere());
    const at::Tensor x = npy("saelens_skip_transcoder_x");
    QVERIFY(maxDiff(t.encode(x), npy("saelens_skip_transcoder_f")) < 1e-5);
    QVERIFY(maxDiff(t.reconstruct(x), npy("saelens_skip_transcoder_y")) < 1e-5);
    // The error term is measured against the output: zero for the exact prediction.
    QVERIFY(t.outputError(x, npy("saelens_skip_transcoder_y")).abs().max().item<double>() < 1e-5);
    // Without the skip the prediction is different: the skip term is really applied.
    QVERIFY(maxDiff(t.decode(t.encode(x)), npy("saelens_skip_transcoder_y")) > 1e-2);
}

void TestDictionaries::saelensTranscoderRoundTrip()
{
    QTemporaryDir tmp;
    const std::string out = tmp.path().toStdString() + "/tc";
    const Sae t = load(dict("saelens_skip_transcoder"));
    QVERIFY(saveSaeLens(t, out).ok());
    const Sae back = load(out);
    QCOMPARE(back.config().kind, DictionaryKind::SkipTranscoder);
    QCOMPARE(back.config().outputHook(), t.config().outputHook());
    const at::Tensor x = npy("saelens_skip_transcoder_x");
    QVERIFY(maxDiff(back.reconstruct(x), npy("saelens_skip_transcoder_y")) < 1e-5);
    std::ifstream cfg(out + "/cfg.json");
    const std::string text((std::istreambuf_iterator<char>(cfg)), {});
    QVERIFY(text.find("\"jumprelu_skip_transcoder\"") != std::string::npos);
    QVERIFY(text.find("\"hook_name_out\"") != std::string::npos);
}

void TestDictionaries::saelensTranscoderErrors()
{
    QTemporaryDir tmp;
    const std::string base = tmp.path().toStdString();
    auto variant = [&](const std::string &name, const std::string &from, const std::string &to) {
        const std::string d = base + "/" + name;
        copyTree(dict("saelens_skip_transcoder"), d);
        std::ifstream in(d + "/cfg.json");
        std::string text((std::istreambuf_iterator<char>(in)), {});
        const size_t at = text.find(from);
        if (at == std::string::npos)
            qFatal("fixture lacks %s", from.c_str());
        text.replace(at, from.size(), to);
        fscope::test::writeFile(d + "/cfg.json", text);
        return d;
    };
    QVERIFY(loadError(variant("bdec", "\"apply_b_dec_to_input\": false",
                          "\"apply_b_dec_to_input\": true"))
                .find("apply_b_dec_to_input must be false")
        != std::string::npos);
    QVERIFY(loadError(variant("noout", "\"hook_name_out\"", "\"hook_name_elsewhere\""))
                .find("hook_name_out")
        != std::string::npos);
    const std::string wide = loadError(variant("dout", "\"d_out\": 6", "\"d_out\": 7"));
    QVERIFY2(wide.find("W_dec") != std::string::npos, wide.c_str());
    QVERIFY(loadError(variant("badhook", "blocks.1.hook_mlp_out", "blocks.1.hook_nowhere"))
                .find("output hook 'blocks.1.hook_nowhere'")
        != std::string::npos);
}

void TestDictionaries::gemmaScope2Transcoder()
{
    const Sae t = load(dict("gemma_scope_2_transcoder"));
    QCOMPARE(t.config().kind, DictionaryKind::SkipTranscoder);
    QCOMPARE(t.config().hookName, std::string("blocks.1.mlp.hook_in"));
    QCOMPARE(t.config().outputHook(), std::string("blocks.1.hook_mlp_out"));
    QCOMPARE(t.config().modelName, std::string("google/gemma-3-1b-pt"));
    const at::Tensor x = npy("gemma_scope_2_transcoder_x");
    QVERIFY(maxDiff(t.encode(x), npy("gemma_scope_2_transcoder_f")) < 1e-5);
    // affine_skip_connection is x @ skip, untransposed: the transposed reading would differ.
    QVERIFY(maxDiff(t.reconstruct(x), npy("gemma_scope_2_transcoder_y")) < 1e-5);

    QTemporaryDir tmp;
    const std::string bad = tmp.path().toStdString() + "/bad";
    copyTree(dict("gemma_scope_2_transcoder"), bad);
    fscope::test::writeFile(bad + "/config.json",
        R"({"architecture": "jump_relu", "hf_hook_point_in": "model.layers.1.strange.output"})");
    QVERIFY(loadError(bad).find("hf_hook_point_in 'model.layers.1.strange.output'")
        != std::string::npos);
    fscope::test::writeFile(bad + "/config.json", R"({"architecture": "topk"})");
    QVERIFY(loadError(bad).find("architecture 'topk'") != std::string::npos);
    // A Gemma 3 multimodal checkpoint's module path names the same hook.
    QCOMPARE(hookFromModulePath("model.language_model.layers.4.output"),
        std::string("blocks.4.hook_resid_post"));
}

void TestDictionaries::gemmaScopeTranscoderNpz()
{
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString()
        + "/gemma-scope-2b-pt-transcoders/layer_3/width_16k/average_l0_5";
    fs::create_directories(dir);
    at::manual_seed(4);
    QVERIFY(io::writeNpz(dir + "/params.npz",
        { { "W_enc", at::randn({ 8, 12 }) }, { "W_dec", at::randn({ 12, 8 }) },
            { "b_enc", at::zeros({ 12 }) }, { "b_dec", at::zeros({ 8 }) },
            { "threshold", at::full({ 12 }, 0.1) } },
        false)
                .ok());
    const Sae t = load(dir);
    QCOMPARE(t.config().kind, DictionaryKind::Transcoder);
    QCOMPARE(t.config().hookName, std::string("blocks.3.mlp.hook_in"));
    QCOMPARE(t.config().outputHook(), std::string("blocks.3.hook_mlp_out"));
}

void TestDictionaries::circuitTracerTranscoders()
{
    const std::string dir = dict("circuit_tracer_plt");
    auto found = findSaes(dir);
    QVERIFY(found.ok());
    QCOMPARE(found->size(), size_t(2));
    QCOMPARE(found->at(1), layerSelector(dir, 1));
    for (int layer : { 0, 1 }) {
        const std::string L = std::to_string(layer);
        // Addressed as one file or as a layer of the folder: the same dictionary.
        for (const std::string &path :
            { dir + "/layer_" + L + ".safetensors", layerSelector(dir, layer) }) {
            const Sae t = load(path);
            QCOMPARE(t.config().kind, DictionaryKind::SkipTranscoder);
            QCOMPARE(t.config().hookName, "blocks." + L + ".mlp.hook_in");
            QCOMPARE(t.config().outputHook(), "blocks." + L + ".hook_mlp_out");
            const at::Tensor x = npy("circuit_tracer_plt_" + L + "_x");
            QVERIFY(maxDiff(t.encode(x), npy("circuit_tracer_plt_" + L + "_f")) < 1e-5);
            QVERIFY(maxDiff(t.reconstruct(x), npy("circuit_tracer_plt_" + L + "_y")) < 1e-5);
        }
    }
    QTemporaryDir tmp;
    const std::string bad = tmp.path().toStdString() + "/plt";
    copyTree(dir, bad);
    fscope::test::writeFile(bad + "/config.yaml", "feature_input_hook: hook_nowhere\n");
    QVERIFY(loadError(bad + "/layer_0.safetensors").find("feature_input_hook 'hook_nowhere'")
        != std::string::npos);
}

void TestDictionaries::circuitTracerCltBlocks()
{
    const std::string dir = dict("circuit_tracer_clt");
    std::vector<Sae> layers;
    for (int l = 0; l < 3; ++l)
        layers.push_back(load(layerSelector(dir, l)));
    for (int l = 0; l < 3; ++l) {
        const SaeConfig &c = layers[size_t(l)].config();
        QCOMPARE(c.kind, DictionaryKind::Clt);
        QCOMPARE(c.hookName, "blocks." + std::to_string(l) + ".hook_resid_mid");
        QCOMPARE(c.hooksOut.size(), size_t(3 - l)); // writes its own and every later layer
        QCOMPARE(c.hooksOut.back(), std::string("blocks.2.hook_mlp_out"));
        // W_dec is the total write: the sum of the blocks.
        QVERIFY(maxDiff(layers[size_t(l)].weights().W_dec,
                    layers[size_t(l)].weights().W_dec_blocks.sum(1))
            < 1e-6);
    }
    // Target t = sum over sources l <= t of f_l W_dec_l[:, t - l] + b_dec_t (by hand, from the
    // blocks), against numpy's.
    std::vector<at::Tensor> f;
    for (int l = 0; l < 3; ++l) {
        f.push_back(
            layers[size_t(l)].encode(npy("circuit_tracer_clt_" + std::to_string(l) + "_x")));
        QVERIFY(maxDiff(f.back(), npy("circuit_tracer_clt_" + std::to_string(l) + "_f")) < 1e-5);
    }
    for (int t = 0; t < 3; ++t) {
        at::Tensor y = layers[size_t(t)].weights().b_dec.clone();
        for (int l = 0; l <= t; ++l)
            y = y + at::matmul(f[size_t(l)], layers[size_t(l)].decoderBlock(t - l));
        QVERIFY(maxDiff(y, npy("circuit_tracer_clt_target_" + std::to_string(t))) < 1e-5);
    }
    // The folder alone needs a layer; a missing layer is named.
    QVERIFY(loadError(dir).find("#layer=L") != std::string::npos);
    QTemporaryDir tmp;
    const std::string gap = tmp.path().toStdString() + "/clt";
    copyTree(dir, gap);
    fs::remove(gap + "/W_enc_1.safetensors");
    QVERIFY(loadError(layerSelector(gap, 0)).find("layer 1 is missing") != std::string::npos);
    auto info = describeDictionary(dir, { {}, "cpu", false });
    QVERIFY(info.ok());
    QCOMPARE(info->layers, int64_t(3));
    QCOMPARE(info->hooksIn.size(), size_t(3));
    QCOMPARE(info->hooksOut.back(), std::string("blocks.2.hook_mlp_out"));
}

void TestDictionaries::sparsifySkipTranscoder()
{
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/layers.1.mlp";
    fs::create_directories(dir);
    at::manual_seed(9);
    const at::Tensor enc = at::randn({ 12, 8 }), bEnc = at::randn({ 12 }) * 0.1,
                     dec = at::randn({ 12, 8 }), bDec = at::randn({ 8 }),
                     skip = at::randn({ 8, 8 }) * 0.2;
    QVERIFY(io::writeSafetensors(dir + "/sae.safetensors",
        { { "encoder.weight", enc }, { "encoder.bias", bEnc }, { "W_dec", dec }, { "b_dec", bDec },
            { "W_skip", skip } })
                .ok());
    fscope::test::writeFile(
        dir + "/cfg.json", R"({"k": 3, "transcode": true, "skip_connection": true})");
    const Sae t = load(dir);
    QCOMPARE(t.config().kind, DictionaryKind::SkipTranscoder);
    QCOMPARE(t.config().hookName, std::string("blocks.1.mlp.hook_in"));
    QCOMPARE(t.config().outputHook(), std::string("blocks.1.hook_mlp_out"));
    // sparsify's forward: top-k of relu(x enc^T + b) without b_dec subtraction, then
    // f W_dec + b_dec + x W_skip^T.
    const at::Tensor x = at::randn({ 5, 8 });
    const at::Tensor pre = at::relu(at::matmul(x, enc.t()) + bEnc);
    const auto [values, indices] = pre.topk(3, -1);
    const at::Tensor f = at::zeros_like(pre).scatter(-1, indices, values);
    const at::Tensor y = at::matmul(f, dec) + bDec + at::matmul(x, skip.t());
    QVERIFY(maxDiff(t.encode(x), f) < 1e-5);
    QVERIFY(maxDiff(t.reconstruct(x), y) < 1e-4);
}

void TestDictionaries::matchingPursuitMatchesNumpy()
{
    const Sae itda = load(dict("itda"));
    QCOMPARE(itda.config().kind, DictionaryKind::Itda);
    QCOMPARE(itda.config().k, int64_t(5));
    const at::Tensor x = npy("itda_x");
    QVERIFY(maxDiff(itda.encode(x), npy("itda_f")) < 1e-4);
    QVERIFY(maxDiff(itda.reconstruct(x), npy("itda_y")) < 1e-4);
    // Coefficients are signed (matching pursuit, not a ReLU code).
    QVERIFY(itda.encode(x).min().item<float>() < 0);
}

void TestDictionaries::itdaRecoversPlantedDirections()
{
    // Activations are scaled copies of 8 known directions (plus a little noise): the
    // dictionary must be those 8 directions, each once, however often each one recurs.
    at::manual_seed(21);
    const int64_t d = 16, planted = 8;
    at::Tensor dirs = at::randn({ planted, d });
    dirs = dirs / dirs.norm(2, 1, true);
    int64_t row = 0;
    auto next = [&]() -> Result<ItdaBatch> {
        ItdaBatch b;
        if (row >= 4000)
            return b;
        const at::Tensor which = at::randint(planted, { 200 }, at::kLong);
        const at::Tensor scale = at::rand({ 200, 1 }) * 3 + 0.5;
        b.activations = dirs.index_select(0, which) * scale + at::randn({ 200, d }) * 0.005;
        for (int64_t i = 0; i < 200; ++i)
            b.origins.push_back({ (row + i) / 50, (row + i) % 50, which[i].item<int64_t>() });
        row += 200;
        return b;
    };
    ItdaOptions o;
    o.size = 32; // room for more: only 8 are needed
    o.k = 2;
    o.lossThreshold = 0.05;
    auto built = buildItda(next, o);
    QVERIFY2(built.ok(), built.ok() ? "" : built.errorMessage().c_str());
    QCOMPARE(built->atoms.size(0), planted);
    const at::Tensor cos = at::matmul(built->atoms, dirs.t()).abs(); // [atoms, planted]
    QVERIFY(std::get<0>(cos.max(0)).min().item<float>() > 0.99f); // every direction found
    QVERIFY(std::get<0>(cos.max(1)).min().item<float>() > 0.99f); // and nothing else
    // Each atom remembers the token it came from: the planted direction's index here.
    for (int64_t a = 0; a < planted; ++a)
        QCOMPARE(cos[a].argmax().item<int64_t>(), built->origins[size_t(a)].token);
    QCOMPARE(built->atoms.norm(2, 1).sub(1).abs().max().item<float>() < 1e-5f, true);
}

void TestDictionaries::itdaJaccardOfOrigins()
{
    ItdaDictionary a, b, c;
    for (int64_t i = 0; i < 10; ++i) {
        a.origins.push_back({ i, 3, 7 });
        b.origins.push_back({ 100 + i, 3, 7 }); // unrelated contexts
        c.origins.push_back({ i < 5 ? i : 50 + i, 3, 9 }); // 5 shared, token ignored
    }
    QCOMPARE(itdaJaccard(a, a), 1.0);
    QCOMPARE(itdaJaccard(a, b), 0.0);
    QCOMPARE(itdaJaccard(a, c), 5.0 / 15.0);
    QCOMPARE(itdaJaccard(c, a), itdaJaccard(a, c));
}

// The matrix over saved folders: the pairwise Jaccard of their origins, the corpus check, and
// a folder that is not ITDA refused by name.
void TestDictionaries::itdaSimilarityMatrix()
{
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString();
    auto save = [&](const std::string &name, int64_t first, int64_t count,
                    const std::string &corpus, const std::string &hook) {
        ItdaDictionary d;
        d.atoms = at::zeros({ count, 4 });
        d.atoms.select(1, 0).fill_(1.0);
        for (int64_t i = 0; i < count; ++i)
            d.origins.push_back({ first + i, 2, 11 });
        d.hookName = hook;
        d.modelName = "/models/tiny-gpt2";
        d.corpusFingerprint = corpus;
        QVERIFY(saveItda(d, root + "/" + name).ok());
    };
    save("l0", 0, 10, "corpusA", "blocks.0.hook_resid_post"); // contexts 0..9
    save("l1", 5, 10, "corpusA", "blocks.1.hook_resid_post"); // 5..14: 5 shared of 15
    save("l2", 0, 4, "corpusA", "blocks.2.hook_resid_post"); // 0..3: 4 shared with l0 of 10
    save("other", 0, 10, "corpusB", "blocks.0.hook_resid_post"); // same coordinates, other text
    auto sim = compareItda({ root + "/l0", root + "/l1", root + "/l2", root + "/other" });
    QVERIFY2(sim.ok(), sim.ok() ? "" : sim.errorMessage().c_str());
    QCOMPARE(sim->labels[1], std::string("blocks.1.hook_resid_post (tiny-gpt2)"));
    QCOMPARE(sim->atoms[2], int64_t(4));
    QCOMPARE(sim->jaccard[0][0], 1.0);
    QCOMPARE(sim->jaccard[0][1], 5.0 / 15.0);
    QCOMPARE(sim->jaccard[1][0], sim->jaccard[0][1]);
    QCOMPARE(sim->jaccard[0][2], 4.0 / 10.0);
    QCOMPARE(sim->jaccard[1][2], 0.0);
    // "other" shares every coordinate with l0, but on another corpus: flagged, pair by pair.
    QCOMPARE(sim->jaccard[0][3], 1.0);
    QCOMPARE(sim->differentCorpora.size(), size_t(3));
    QCOMPARE(sim->differentCorpora[0], std::make_pair(0, 3));
    // A residual SAE folder is not an ITDA dictionary: the error names its cfg.json.
    auto mixed = compareItda({ root + "/l0", fixture("sae/saelens_v6_jumprelu") });
    QVERIFY(!mixed.ok());
    QVERIFY2(mixed.errorMessage().find("saelens_v6_jumprelu/cfg.json") != std::string::npos
            && mixed.errorMessage().find("not an ITDA dictionary") != std::string::npos,
        mixed.errorMessage().c_str());
    QVERIFY(!compareItda({ root + "/l0" }).ok());
}

void TestDictionaries::itdaSavedFolderIsADictionary()
{
    at::manual_seed(5);
    ItdaDictionary d;
    d.atoms = at::randn({ 6, 4 });
    d.atoms = d.atoms / d.atoms.norm(2, 1, true);
    for (int64_t i = 0; i < 6; ++i)
        d.origins.push_back({ i, i + 1, 40 + i });
    d.k = 3;
    d.hookName = "blocks.0.hook_resid_post";
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/itda";
    QVERIFY(saveItda(d, dir).ok());
    auto found = findSaes(tmp.path().toStdString());
    QVERIFY(found.ok());
    QCOMPARE(found->size(), size_t(1));
    const Sae s = load(dir);
    QCOMPARE(s.config().kind, DictionaryKind::Itda);
    QCOMPARE(s.config().hookName, d.hookName);
    const at::Tensor x = at::randn({ 3, 4 });
    QVERIFY(maxDiff(s.encode(x), matchingPursuit(x, d.atoms, 3)) < 1e-6);
    auto back = readItda(dir);
    QVERIFY(back.ok());
    QCOMPARE(back->origins.size(), size_t(6));
    QCOMPARE(back->origins[5].token, int64_t(45));
    QCOMPARE(itdaJaccard(*back, d), 1.0);
    // Atoms that are not unit vectors are refused: matching pursuit assumes them.
    QVERIFY(io::writeSafetensors(dir + "/itda.safetensors",
        { { "atoms", d.atoms * 2 }, { "origins", at::zeros({ 6, 3 }, at::kLong) } })
                .ok());
    QVERIFY(loadError(dir).find("atoms are not unit vectors") != std::string::npos);
}

void TestDictionaries::transcoderSteeringEditsOnlyMlpOut()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    const auto t = gpt2Transcoder(1, true, 3);
    const at::Tensor ids = at::tensor({ 95, 10, 20, 30, 40, 50 }, at::kLong).unsqueeze(0);
    const std::set<std::string> watched
        = { "blocks.1.hook_resid_mid", "blocks.1.mlp.hook_in", "blocks.1.hook_mlp_out" };
    model::ForwardOptions plain;
    plain.capture = watched;
    auto base = (*decoder)->forward({ ids }, plain);
    QVERIFY(base.ok());
    const at::Tensor x = base->activations.at("blocks.1.mlp.hook_in")[0];
    const at::Tensor fj = t->encode(x).select(1, 5);
    QVERIFY(fj.abs().sum().item<double>() > 0); // the clamp changes something

    steer::SteeringEdit e;
    e.kind = steer::EditKind::Clamp;
    e.sae = t;
    e.feature = 5;
    e.value = 4.0;
    auto options = steer::interventionOptions({ e });
    QVERIFY(options.ok());
    QVERIFY(options->interventions.count("blocks.1.hook_mlp_out") == 1);
    options->capture = watched;
    auto steered = (*decoder)->forward({ ids }, *options);
    QVERIFY(steered.ok());
    // The input side is untouched; MLP out moves by exactly (c - f_j) W_dec[j]: the MLP's own
    // output, the transcoder's error included, is kept.
    for (const char *hook : { "blocks.1.hook_resid_mid", "blocks.1.mlp.hook_in" })
        QVERIFY(maxDiff(steered->activations.at(hook), base->activations.at(hook)) < 1e-6);
    const at::Tensor expected = base->activations.at("blocks.1.hook_mlp_out")[0]
        + (4.0 - fj).unsqueeze(-1) * t->weights().W_dec[5];
    QVERIFY(maxDiff(steered->activations.at("blocks.1.hook_mlp_out")[0], expected) < 1e-5);
    // The single-hook builder refuses rather than editing the wrong place.
    QVERIFY(!steer::makeIntervention(e).ok());
    // Reconstruct replaces MLP out with the transcoder's prediction from MLP in.
    e.kind = steer::EditKind::Reconstruct;
    auto replaced = steer::interventionOptions({ e });
    QVERIFY(replaced.ok());
    replaced->capture = watched;
    auto spliced = (*decoder)->forward({ ids }, *replaced);
    QVERIFY(spliced.ok());
    QVERIFY(maxDiff(spliced->activations.at("blocks.1.hook_mlp_out")[0], t->reconstruct(x)) < 1e-5);
}

void TestDictionaries::cltFeatureWritesEveryLaterLayer()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    at::manual_seed(8);
    SaeConfig c;
    c.kind = DictionaryKind::Clt;
    c.dIn = 32;
    c.dSae = 20;
    c.applyBDecToInput = false;
    c.hookName = "blocks.0.hook_resid_mid";
    c.hooksOut = { "blocks.0.hook_mlp_out", "blocks.1.hook_mlp_out" };
    SaeWeights w;
    w.W_enc = at::randn({ 32, 20 });
    w.b_enc = at::zeros({ 20 });
    w.W_dec_blocks = at::randn({ 20, 2, 32 });
    w.W_dec = w.W_dec_blocks.sum(1);
    w.b_dec = at::zeros({ 32 });
    const auto clt = std::make_shared<const Sae>(c, w);
    QVERIFY(validateSaeForModel(*clt, (*decoder)->config()).ok());
    steer::SteeringEdit e;
    e.kind = steer::EditKind::Add;
    e.sae = clt;
    e.feature = 3;
    e.value = 2.0;
    auto options = steer::interventionOptions({ e });
    QVERIFY(options.ok());
    QCOMPARE(options->interventions.count("blocks.0.hook_mlp_out"), size_t(1));
    QCOMPARE(options->interventions.count("blocks.1.hook_mlp_out"), size_t(1));
    const at::Tensor ids = at::tensor({ 95, 10, 20, 30 }, at::kLong).unsqueeze(0);
    model::ForwardOptions plain;
    plain.capture = { "blocks.0.hook_mlp_out" };
    options->capture = plain.capture;
    auto base = (*decoder)->forward({ ids }, plain);
    auto steered = (*decoder)->forward({ ids }, *options);
    QVERIFY(base.ok() && steered.ok());
    const at::Tensor delta = steered->activations.at("blocks.0.hook_mlp_out")
        - base->activations.at("blocks.0.hook_mlp_out");
    QVERIFY(maxDiff(delta[0][2], w.W_dec_blocks[3][0] * 2.0) < 1e-5);
    // Where it writes: one norm per later layer.
    const auto norms = analysis::decoderBlockNorms(*clt, 3);
    QCOMPARE(norms.size(), size_t(2));
    QVERIFY(std::abs(norms[1] - w.W_dec_blocks[3][1].norm().item<double>()) < 1e-6);
    // One layer of a CLT alone reconstructs no hook: evaluating it says so.
    EvalOptions eo;
    auto metrics = evaluateSae(**decoder, *clt, { { 95, 10, 20, 30 } }, eo);
    QVERIFY(!metrics.ok());
    QVERIFY(metrics.errorMessage().find("whole CLT") != std::string::npos);
}

void TestDictionaries::transcoderMetricsAtTheOutputHook()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    const auto t = gpt2Transcoder(0, false, 6);
    const std::vector<std::vector<int64_t>> contexts
        = { { 95, 1, 2, 3, 4, 5, 6, 7 }, { 95, 8, 9, 10, 11, 12, 13, 14 } };
    EvalOptions eo;
    eo.specialTokens = { 95 };
    auto m = evaluateSae(**decoder, *t, contexts, eo);
    QVERIFY2(m.ok(), m.ok() ? "" : m.errorMessage().c_str());
    // By hand: the prediction from MLP in against the model's MLP out, BOS left out.
    model::ForwardOptions o;
    o.capture = { "blocks.0.mlp.hook_in", "blocks.0.hook_mlp_out" };
    auto r = (*decoder)->forward(
        { at::tensor({ 95, 1, 2, 3, 4, 5, 6, 7, 95, 8, 9, 10, 11, 12, 13, 14 }, at::kLong)
                .view({ 2, 8 }) },
        o);
    QVERIFY(r.ok());
    const at::Tensor x
        = r->activations.at("blocks.0.mlp.hook_in").narrow(1, 1, 7).reshape({ 14, 32 });
    const at::Tensor y
        = r->activations.at("blocks.0.hook_mlp_out").narrow(1, 1, 7).reshape({ 14, 32 });
    const double mse = (y - t->reconstruct(x)).pow(2).sum(-1).mean().item<double>();
    QVERIFY2(std::abs(m->value("mse") - mse) < 1e-4 * std::max(1.0, mse),
        qPrintable(QString("%1 vs %2").arg(m->value("mse")).arg(mse)));
    // Measured at the input instead, the number would be another one.
    const double atInput = (x - t->reconstruct(x)).pow(2).sum(-1).mean().item<double>();
    QVERIFY(std::abs(atInput - mse) > 1e-3);
    QVERIFY(std::isfinite(m->value("ce_loss_recovered")));
}

void TestDictionaries::cltLogitEffectsSumOverBlocks()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    at::manual_seed(12);
    SaeConfig c;
    c.kind = DictionaryKind::Clt;
    c.dIn = 32;
    c.dSae = 4;
    c.hookName = "blocks.0.hook_resid_mid";
    c.hooksOut = { "blocks.0.hook_mlp_out", "blocks.1.hook_mlp_out" };
    SaeWeights w;
    w.W_enc = at::randn({ 32, 4 });
    w.b_enc = at::zeros({ 4 });
    w.W_dec_blocks = at::randn({ 4, 2, 32 });
    w.W_dec = w.W_dec_blocks.sum(1);
    w.b_dec = at::zeros({ 32 });
    const Sae s(c, w);
    const int64_t vocab = 96;
    auto byToken = [&](const analysis::LogitEffects &e, int64_t f) {
        std::vector<double> v(size_t(vocab), 0);
        for (const auto &[token, value] : e.top[size_t(f)])
            v[size_t(token)] = value;
        return v;
    };
    const auto total = analysis::computeLogitEffects(**decoder, s, false, vocab);
    const auto b0 = analysis::computeLogitEffects(**decoder, s, false, vocab, 1024, 0);
    const auto b1 = analysis::computeLogitEffects(**decoder, s, false, vocab, 1024, 1);
    for (int64_t f = 0; f < 4; ++f) {
        const auto t = byToken(total, f), x = byToken(b0, f), y = byToken(b1, f);
        for (int64_t v = 0; v < vocab; ++v)
            QVERIFY(std::abs(t[size_t(v)] - x[size_t(v)] - y[size_t(v)]) < 1e-4);
    }
}

void TestDictionaries::cltEvaluatedWhole()
{
    auto decoder = model::Decoder::load(fixture("models/gpt2"), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    at::manual_seed(14);
    std::vector<std::shared_ptr<const Sae>> layers;
    for (int l = 0; l < 2; ++l) {
        SaeConfig c;
        c.kind = DictionaryKind::Clt;
        c.architecture = Architecture::Relu;
        c.dIn = 32;
        c.dSae = 16;
        c.applyBDecToInput = false;
        c.hookName = "blocks." + std::to_string(l) + ".hook_resid_mid";
        for (int t = l; t < 2; ++t)
            c.hooksOut.push_back("blocks." + std::to_string(t) + ".hook_mlp_out");
        SaeWeights w;
        w.W_enc = at::randn({ 32, 16 }) / std::sqrt(32.0);
        w.b_enc = at::zeros({ 16 });
        w.W_dec_blocks = at::randn({ 16, 2 - l, 32 }) * 0.1;
        w.W_dec = w.W_dec_blocks.sum(1);
        w.b_dec = at::randn({ 32 }) * 0.1;
        layers.push_back(std::make_shared<const Sae>(c, w));
    }
    const std::vector<std::vector<int64_t>> contexts = { { 95, 3, 1, 4, 1, 5, 9, 2 } };
    EvalOptions eo;
    eo.specialTokens = { 95 };
    auto m = evaluateCrossLayer(**decoder, layers, contexts, eo);
    QVERIFY2(m.ok(), m.ok() ? "" : m.errorMessage().c_str());
    // By hand: layer 1's MLP out is predicted from both layers' features.
    model::ForwardOptions o;
    o.capture = { "blocks.0.hook_resid_mid", "blocks.1.hook_resid_mid", "blocks.0.hook_mlp_out",
        "blocks.1.hook_mlp_out" };
    auto r = (*decoder)->forward({ at::tensor(contexts[0], at::kLong).unsqueeze(0) }, o);
    QVERIFY(r.ok());
    auto rows = [&](const char *hook) { return r->activations.at(hook)[0].narrow(0, 1, 7); };
    const at::Tensor f0 = layers[0]->encode(rows("blocks.0.hook_resid_mid")),
                     f1 = layers[1]->encode(rows("blocks.1.hook_resid_mid"));
    const at::Tensor y0 = at::matmul(f0, layers[0]->decoderBlock(0)) + layers[0]->weights().b_dec;
    const at::Tensor y1 = at::matmul(f0, layers[0]->decoderBlock(1))
        + at::matmul(f1, layers[1]->decoderBlock(0)) + layers[1]->weights().b_dec;
    const double mse = ((rows("blocks.0.hook_mlp_out") - y0).pow(2).sum(-1)
        + (rows("blocks.1.hook_mlp_out") - y1).pow(2).sum(-1))
                           .mean()
                           .item<double>();
    QVERIFY2(std::abs(m->value("mse") - mse) < 1e-4 * std::max(1.0, mse),
        qPrintable(QString("%1 vs %2").arg(m->value("mse")).arg(mse)));
    const double l0 = ((f0 != 0).sum(-1) + (f1 != 0).sum(-1)).to(at::kDouble).mean().item<double>();
    QVERIFY(std::abs(m->value("l0") - l0) < 1e-9);
    QVERIFY(std::isfinite(m->value("ce_loss_recovered")));
    // Layers out of order are not a CLT.
    auto swapped = evaluateCrossLayer(**decoder, { layers[1], layers[0] }, contexts, eo);
    QVERIFY(!swapped.ok());
}

void TestDictionaries::infoReportsKindAndHooks()
{
    const CliRun clt = cli(
        { "sae", "info", "--sae", QString::fromStdString(dict("circuit_tracer_clt")), "--json" });
    QVERIFY2(clt.code == 0, clt.err.constData());
    const QJsonObject j = QJsonDocument::fromJson(clt.out).object();
    QCOMPARE(j["kind"].toString(), QStringLiteral("clt"));
    QCOMPARE(j["hooks_in"].toArray().size(), 3);
    QCOMPARE(j["hooks_out"].toArray().last().toString(), QStringLiteral("blocks.2.hook_mlp_out"));
    const CliRun tc = cli({ "sae", "info", "--sae",
        QString::fromStdString(dict("saelens_skip_transcoder")), "--json" });
    QVERIFY2(tc.code == 0, tc.err.constData());
    const QJsonObject t = QJsonDocument::fromJson(tc.out).object();
    QCOMPARE(t["kind"].toString(), QStringLiteral("skip-transcoder"));
    QCOMPARE(t["hooks_in"].toArray().first().toString(), QStringLiteral("blocks.1.mlp.hook_in"));
    QCOMPARE(t["hooks_out"].toArray().first().toString(), QStringLiteral("blocks.1.hook_mlp_out"));
    const CliRun itda
        = cli({ "sae", "info", "--sae", QString::fromStdString(dict("itda")), "--json" });
    QVERIFY2(itda.code == 0, itda.err.constData());
    QCOMPARE(QJsonDocument::fromJson(itda.out).object()["kind"].toString(), QStringLiteral("itda"));
}

void TestDictionaries::cltIndexedAndEvaluatedFromTheCli()
{
    // A circuit-tracer CLT for the demo model (4 layers, hidden 128), written in its layout.
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/clt";
    fs::create_directories(dir);
    at::manual_seed(31);
    const int64_t d = 128, f = 16, layers = 4;
    std::vector<at::Tensor> blocks;
    for (int64_t l = 0; l < layers; ++l) {
        const std::string L = std::to_string(l);
        QVERIFY(io::writeSafetensors(dir + "/W_enc_" + L + ".safetensors",
            { { "W_enc_" + L, at::randn({ f, d }) / std::sqrt(double(d)) },
                { "b_enc_" + L, at::zeros({ f }) }, { "b_dec_" + L, at::zeros({ d }) } })
                    .ok());
        blocks.push_back(at::randn({ f, layers - l, d }) * 0.05);
        QVERIFY(io::writeSafetensors(
            dir + "/W_dec_" + L + ".safetensors", { { "W_dec_" + L, blocks.back() } })
                    .ok());
    }
    const std::string corpus = tmp.path().toStdString() + "/corpus.txt";
    std::string text;
    for (int i = 0; i < 60; ++i)
        text += "the cat sat on the mat and the dog ran far away from home today\n";
    fscope::test::writeFile(corpus, text);
    const QString ws = tmp.path() + "/ws.fsdb";
    const QString layer1 = QString::fromStdString(layerSelector(dir, 1));
    const CliRun index = cli({ "index", "--model", "demo", "--sae", layer1, "--corpus",
        QString::fromStdString(corpus), "--tokens", "512", "--context", "16", "--out", ws });
    QVERIFY2(index.code == 0, index.err.constData());
    auto db = store::Database::open(ws.toStdString());
    QVERIFY(db.ok());
    auto indexes = store::listIndexes(**db);
    QVERIFY(indexes.ok());
    QCOMPARE(indexes->size(), size_t(1));
    QCOMPARE(indexes->at(0).hook, std::string("blocks.1.hook_resid_mid"));
    // The dashboard says where feature 2 writes: layers 1, 2 and 3, by its block norms.
    auto dash = store::loadFeatureDashboard(**db, indexes->at(0).id, 2);
    QVERIFY(dash.ok());
    QCOMPARE(dash->writes.size(), size_t(3));
    QCOMPARE(dash->writes[2].first, std::string("blocks.3.hook_mlp_out"));
    for (int64_t b = 0; b < 3; ++b)
        QVERIFY(
            std::abs(dash->writes[size_t(b)].second - blocks[1][2][b].norm().item<float>()) < 1e-5);

    // The folder as a whole is evaluated as one CLT.
    const CliRun eval
        = cli({ "sae", "eval", "--model", "demo", "--sae", QString::fromStdString(dir), "--text",
            QString::fromStdString(corpus), "--tokens", "256", "--context", "16", "--json" });
    QVERIFY2(eval.code == 0, eval.err.constData());
    const QJsonObject m = QJsonDocument::fromJson(eval.out).object();
    QVERIFY(m.contains("explained_variance") && m.contains("ce_loss_recovered"));
}

QTEST_GUILESS_MAIN(TestDictionaries)
#include "tst_dictionaries.moc"
