// SAEs: every architecture against hand-computed values, normalisation undone exactly,
// loaders for SAELens (v6 and pre-6), Gemma Scope and sparsify, SAELens output, and the
// errors a user meets with a broken or mismatched SAE.

#include "core/io/npz_tensor.h"
#include "core/io/torch_tensor.h"
#include "core/model/decoder.h"
#include "core/model/model_config.h"
#include "core/sae/sae_io.h"
#include "core/sae/sae_metrics.h"
#include "tests/support/testsupport.h"

#include <QTemporaryDir>
#include <QTest>

#include <filesystem>

using namespace fscope::core;
using namespace fscope::core::sae;
namespace fs = std::filesystem;

namespace {

// d_in 2, d_sae 3: small enough to compute every value by hand.
Sae tiny(Architecture a, int64_t k = 0, at::Tensor bDec = at::zeros({ 2 }), bool applyBDec = true)
{
    SaeConfig c;
    c.architecture = a;
    c.dIn = 2;
    c.dSae = 3;
    c.k = k;
    c.applyBDecToInput = applyBDec;
    c.hookName = "blocks.0.hook_resid_post";
    SaeWeights w;
    w.W_enc = at::tensor({ 1.f, 0.f, -1.f, 0.f, 1.f, 1.f }).view({ 2, 3 });
    w.b_enc = at::tensor({ 0.f, -0.5f, 0.1f });
    w.W_dec = at::tensor({ 1.f, 0.f, 0.f, 1.f, 1.f, 1.f }).view({ 3, 2 });
    w.b_dec = bDec;
    w.threshold = at::tensor({ 2.f, 0.4f, 0.f });
    w.b_gate = w.b_enc;
    w.r_mag = at::tensor({ 0.f, std::log(2.f), 0.f });
    w.b_mag = at::tensor({ 1.f, 0.f, 0.f });
    return Sae(c, w);
}

bool close(const at::Tensor &a, const at::Tensor &b, double tol = 1e-5)
{
    return a.sizes() == b.sizes()
        && (a.to(at::kFloat) - b.to(at::kFloat)).abs().max().item<double>() < tol;
}

at::Tensor npy(const QString &name)
{
    return io::loadNpy(fscope::test::fixture(QStringLiteral("sae/") + name)).value();
}

} // namespace

class TestSae : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void encodeByHand_data();
    void encodeByHand();
    void decodeWithBDec();
    void normalisationIsUndone_data();
    void normalisationIsUndone();
    void saeLensFixtures_data();
    void saeLensFixtures();
    void saveLoadRoundTrip_data();
    void saveLoadRoundTrip();
    void gemmaScope();
    void sparsify();
    void rejected_data();
    void rejected();
    void mismatchWithModel();
    void metricsPerfectAndZero();
};

void TestSae::encodeByHand_data()
{
    QTest::addColumn<int>("arch");
    QTest::addColumn<int>("k");
    QTest::addColumn<QList<float>>("x");
    QTest::addColumn<QList<float>>("expected");
    // pre = x W_enc + b_enc; for x = (2, 1): pre = (2, 0.5, -0.9).
    QTest::newRow("relu") << int(Architecture::Relu) << 0 << QList<float> { 2, 1 }
                          << QList<float> { 2, 0.5f, 0 };
    // threshold (2, 0.4, 0): strictly greater, so pre = 2 at threshold 2 is off.
    QTest::newRow("jumprelu at threshold")
        << int(Architecture::JumpRelu) << 0 << QList<float> { 2, 1 } << QList<float> { 0, 0.5f, 0 };
    QTest::newRow("topk k=1") << int(Architecture::TopK) << 1 << QList<float> { 2, 1 }
                              << QList<float> { 2, 0, 0 };
    // x = (-3, 0): pre = (-3, -0.5, 3.1); TopK keeps 3.1 and -0.5 -> ReLU zeroes -0.5.
    QTest::newRow("topk negative")
        << int(Architecture::TopK) << 2 << QList<float> { -3, 0 } << QList<float> { 0, 0, 3.1f };
    // AbsTopK keeps the two largest |pre| with their signs.
    QTest::newRow("abstopk signed") << int(Architecture::AbsTopK) << 2 << QList<float> { -3, 0 }
                                    << QList<float> { -3, 0, 3.1f };
    // Gated: gate (2, 0.5, -0.9) > 0 -> (1, 1, 0); magnitude relu(x (W_enc * exp(r_mag)) + b_mag)
    // = relu((2, 2, -1) + (1, 0, 0)) = (3, 2, 0).
    QTest::newRow("gated r_mag") << int(Architecture::Gated) << 0 << QList<float> { 2, 1 }
                                 << QList<float> { 3, 2, 0 };
}

void TestSae::encodeByHand()
{
    QFETCH(int, arch);
    QFETCH(int, k);
    QFETCH(QList<float>, x);
    QFETCH(QList<float>, expected);
    const Sae sae = tiny(static_cast<Architecture>(arch), k);
    const at::Tensor f
        = sae.encode(at::tensor(std::vector<float>(x.begin(), x.end())).unsqueeze(0));
    QVERIFY2(
        close(f, at::tensor(std::vector<float>(expected.begin(), expected.end())).unsqueeze(0)),
        qPrintable(QString::fromStdString(at::toString(f.scalar_type())) + " "
            + QString::number(f[0][0].item<float>()) + " " + QString::number(f[0][1].item<float>())
            + " " + QString::number(f[0][2].item<float>())));
}

void TestSae::decodeWithBDec()
{
    // b_dec = (0.5, -0.5) subtracted first: x' = (1.5, 1.5), pre = (1.5, 1.0, 0.1) = f;
    // decode: f W_dec + b_dec = (1.6, 1.1) + (0.5, -0.5) = (2.1, 0.6).
    const Sae sae = tiny(Architecture::Relu, 0, at::tensor({ 0.5f, -0.5f }));
    const at::Tensor x = at::tensor({ 2.f, 1.f }).unsqueeze(0);
    QVERIFY(close(sae.encode(x), at::tensor({ 1.5f, 1.f, 0.1f }).unsqueeze(0)));
    QVERIFY(close(sae.reconstruct(x), at::tensor({ 2.1f, 0.6f }).unsqueeze(0)));
    QVERIFY(close(sae.errorTerm(x), at::tensor({ -0.1f, 0.4f }).unsqueeze(0)));
    // Without apply_b_dec_to_input (Gemma Scope) the encoder sees x itself.
    const Sae direct = tiny(Architecture::Relu, 0, at::tensor({ 0.5f, -0.5f }), false);
    QVERIFY(close(direct.encode(x), at::tensor({ 2.f, 0.5f, 0.f }).unsqueeze(0)));
    QVERIFY(close(sae.decoderDirection(2), at::tensor({ 1.f, 1.f })));
    QVERIFY(close(sae.encoderRow(2), at::tensor({ -1.f, 1.f })));
}

void TestSae::normalisationIsUndone_data()
{
    QTest::addColumn<int>("normalization");
    QTest::addColumn<bool>("center");
    QTest::newRow("none") << int(Normalization::None) << false;
    QTest::newRow("constant_norm_rescale") << int(Normalization::ConstantNormRescale) << false;
    QTest::newRow("layer_norm") << int(Normalization::LayerNorm) << false;
    QTest::newRow("center_writing_weights") << int(Normalization::None) << true;
}

void TestSae::normalisationIsUndone()
{
    // A perfect dictionary (features +e_i and -e_i) reconstructs any input exactly, so
    // reconstruct(x) == x tests that the normalisation is undone on the way out.
    QFETCH(int, normalization);
    QFETCH(bool, center);
    const int64_t d = 6;
    SaeConfig c;
    c.dIn = d;
    c.dSae = 2 * d;
    c.normalization = static_cast<Normalization>(normalization);
    c.centerInput = center;
    c.hookName = "blocks.0.hook_resid_post";
    const at::Tensor eye = at::eye(d);
    SaeWeights w;
    w.W_enc = at::cat({ eye, -eye }, 1);
    w.b_enc = at::zeros({ 2 * d });
    w.W_dec = at::cat({ eye, -eye }, 0);
    w.b_dec = at::zeros({ d });
    const Sae sae(c, w);
    const at::Tensor x = at::randn({ 5, d }) * 3 + 1;
    QVERIFY(close(sae.reconstruct(x), x, 1e-4));
    QVERIFY(close(sae.errorTerm(x), at::zeros_like(x), 1e-4));
}

void TestSae::saeLensFixtures_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("arch");
    QTest::addColumn<QString>("hook");
    QTest::newRow("v6 jumprelu") << "saelens_v6_jumprelu" << int(Architecture::JumpRelu)
                                 << "blocks.1.hook_resid_post";
    QTest::newRow("pre-6 topk") << "saelens_v5_topk" << int(Architecture::TopK)
                                << "blocks.0.hook_mlp_out";
    QTest::newRow("v6 layer_norm")
        << "saelens_v6_layernorm" << int(Architecture::Relu) << "blocks.1.hook_resid_pre";
}

void TestSae::saeLensFixtures()
{
    QFETCH(QString, name);
    QFETCH(int, arch);
    QFETCH(QString, hook);
    auto sae = loadSae(fscope::test::fixture(QStringLiteral("sae/") + name));
    QVERIFY2(sae.ok(), sae.ok() ? "" : sae.errorMessage().c_str());
    QCOMPARE(int(sae->config().architecture), arch);
    QCOMPARE(QString::fromStdString(sae->config().hookName), hook);
    QCOMPARE(sae->config().sourceFormat, std::string("saelens"));
    QVERIFY(close(sae->encode(npy(name + "_x.npy")), npy(name + "_f.npy"), 1e-4));
}

void TestSae::saveLoadRoundTrip_data()
{
    QTest::addColumn<int>("arch");
    for (auto a : { Architecture::Relu, Architecture::JumpRelu, Architecture::TopK,
             Architecture::Gated, Architecture::AbsTopK })
        QTest::newRow(architectureName(a).c_str()) << int(a);
}

void TestSae::saveLoadRoundTrip()
{
    QFETCH(int, arch);
    Sae sae = tiny(static_cast<Architecture>(arch), 2, at::tensor({ 0.5f, -0.5f }));
    SaeWeights withPrior = sae.weights();
    withPrior.logDensity = at::tensor({ -1.f, -2.5f, -4.f });
    sae = Sae(sae.config(), withPrior);
    QTemporaryDir dir;
    QVERIFY(saveSaeLens(sae, dir.path().toStdString()).ok());
    auto back = loadSae(dir.path().toStdString());
    QVERIFY2(back.ok(), back.ok() ? "" : back.errorMessage().c_str());
    QCOMPARE(int(back->config().architecture), arch);
    const bool usesK = sae.config().architecture == Architecture::TopK
        || sae.config().architecture == Architecture::AbsTopK;
    QCOMPARE(back->config().k, usesK ? sae.config().k : int64_t { 0 });
    const at::Tensor x = at::randn({ 7, 2 }) * 2;
    QVERIFY(close(back->encode(x), sae.encode(x)));
    QVERIFY(close(back->reconstruct(x), sae.reconstruct(x)));
    QVERIFY(back->weights().logDensity.defined()); // sparsity.safetensors travels along
    QVERIFY(close(back->weights().logDensity, withPrior.logDensity));
}

void TestSae::gemmaScope()
{
    // params.npz written by numpy; the hook comes from the release path.
    QTemporaryDir dir;
    const fs::path folder = fs::path(dir.path().toStdString()) / "gemma-scope-2b-pt-res" / "layer_3"
        / "width_16k" / "average_l0_5";
    fs::create_directories(folder);
    fs::copy(
        fscope::test::fixture(QStringLiteral("io/gemma_scope_params.npz")), folder / "params.npz");
    auto sae = loadSae(folder.string());
    QVERIFY2(sae.ok(), sae.ok() ? "" : sae.errorMessage().c_str());
    QCOMPARE(sae->config().hookName, std::string("blocks.3.hook_resid_post"));
    QCOMPARE(int(sae->config().architecture), int(Architecture::JumpRelu));
    QVERIFY(!sae->config().applyBDecToInput);
    QCOMPARE(sae->config().dIn, int64_t { 8 });
    QCOMPARE(sae->config().dSae, int64_t { 16 });
    // f = (pre > threshold) * relu(pre), pre = x W_enc + b_enc (no b_dec subtraction).
    const auto arrays
        = io::loadNpz(fscope::test::fixture(QStringLiteral("io/gemma_scope_params.npz"))).value();
    const at::Tensor x = at::randn({ 4, 8 });
    const at::Tensor pre = at::matmul(x, arrays[0].second) + arrays[2].second;
    QVERIFY(close(sae->encode(x), at::relu(pre) * (pre > arrays[4].second).to(at::kFloat)));
    // Without a layer in the path, a hook must be given.
    auto anonymous = loadSae(fscope::test::fixture(QStringLiteral("io/gemma_scope_params.npz")));
    QVERIFY(!anonymous.ok());
    QVERIFY(anonymous.errorMessage().find("does not say which hook") != std::string::npos);
    auto given = loadSae(fscope::test::fixture(QStringLiteral("io/gemma_scope_params.npz")),
        { "blocks.5.hook_mlp_out" });
    QVERIFY(given.ok());
    QCOMPARE(given->config().hookName, std::string("blocks.5.hook_mlp_out"));
}

void TestSae::sparsify()
{
    QTemporaryDir dir;
    const fs::path folder = fs::path(dir.path().toStdString()) / "layers.2";
    fs::create_directories(folder);
    const at::Tensor enc = at::randn({ 12, 4 }), bias = at::randn({ 12 }) * 0.1,
                     dec = at::randn({ 12, 4 }), bDec = at::randn({ 4 }) * 0.1;
    QVERIFY(io::writeSafetensors((folder / "sae.safetensors").string(),
        { { "encoder.weight", enc }, { "encoder.bias", bias }, { "W_dec", dec },
            { "b_dec", bDec } })
                .ok());
    fscope::test::writeFile((folder / "cfg.json").string(),
        R"({"activation": "topk", "expansion_factor": 3, "normalize_decoder": true, "num_latents": 12, "k": 3, "d_in": 4})");
    auto sae = loadSae(folder.string());
    QVERIFY2(sae.ok(), sae.ok() ? "" : sae.errorMessage().c_str());
    QCOMPARE(sae->config().hookName, std::string("blocks.2.hook_resid_post"));
    QCOMPARE(sae->config().k, int64_t { 3 });
    // sparsify: top-k of relu((x - b_dec) encoder^T + bias), decode sum of W_dec rows + b_dec.
    const at::Tensor x = at::randn({ 5, 4 });
    const at::Tensor pre = at::relu(at::matmul(x - bDec, enc.t()) + bias);
    const auto [vals, idx] = pre.topk(3, -1);
    const at::Tensor f = at::zeros_like(pre).scatter(-1, idx, vals);
    QVERIFY(close(sae->encode(x), f));
    QVERIFY(close(sae->reconstruct(x), at::matmul(f, dec) + bDec));
}

void TestSae::rejected_data()
{
    QTest::addColumn<QString>("cfg");
    QTest::addColumn<QString>(
        "tensors"); // which tensors to write: "ok", "noThreshold", "badShape", "nan"
    QTest::addColumn<QString>("expected");
    const QString jr
        = R"({"d_in": 2, "d_sae": 3, "architecture": "jumprelu", "metadata": {"hook_name": "blocks.0.hook_resid_post"}})";
    QTest::newRow("missing d_in") << R"({"d_sae": 3, "architecture": "standard"})"
                                  << "ok"
                                  << "missing or mistyped key";
    QTest::newRow("unknown architecture") << R"({"d_in": 2, "d_sae": 3, "architecture": "mystery"})"
                                          << "ok"
                                          << "architecture 'mystery' is not supported";
    QTest::newRow("missing threshold") << jr << "noThreshold"
                                       << "missing tensor 'log_threshold'";
    QTest::newRow("wrong shape") << jr << "badShape"
                                 << "tensor 'W_enc' has shape [3, 2], expected [2, 3]";
    QTest::newRow("NaN weights") << jr << "nan"
                                 << "W_dec holds 1 NaN or infinite values";
    QTest::newRow("unknown hook")
        << R"({"d_in": 2, "d_sae": 3, "architecture": "jumprelu", "metadata": {"hook_name": "blocks.0.hook_nowhere"}})"
        << "ok"
        << "is not a known hook point";
    QTest::newRow("topk without k")
        << R"({"d_in": 2, "d_sae": 3, "architecture": "topk", "metadata": {"hook_name": "blocks.0.hook_resid_post"}})"
        << "ok"
        << "needs k in 1..3 (k is 0)";
    QTest::newRow("topk k past d_sae")
        << R"({"d_in": 2, "d_sae": 3, "architecture": "topk", "k": 4, "metadata": {"hook_name": "blocks.0.hook_resid_post"}})"
        << "ok"
        << "needs k in 1..3 (k is 4)";
    QTest::newRow("not json") << "{"
                              << "ok"
                              << "not valid JSON";
}

void TestSae::rejected()
{
    QFETCH(QString, cfg);
    QFETCH(QString, tensors);
    QFETCH(QString, expected);
    QTemporaryDir dir;
    fscope::test::writeFile(dir.filePath("cfg.json").toStdString(), cfg.toStdString());
    at::Tensor wEnc = at::ones({ 2, 3 });
    at::Tensor wDec = at::ones({ 3, 2 });
    if (tensors == QLatin1String("badShape"))
        wEnc = at::ones({ 3, 2 });
    if (tensors == QLatin1String("nan"))
        wDec[1][1] = std::numeric_limits<float>::quiet_NaN();
    io::NamedTensors t = { { "W_enc", wEnc }, { "W_dec", wDec }, { "b_enc", at::zeros({ 3 }) },
        { "b_dec", at::zeros({ 2 }) } };
    if (tensors != QLatin1String("noThreshold"))
        t.emplace_back("threshold", at::zeros({ 3 }));
    QVERIFY(io::writeSafetensors(dir.filePath("sae_weights.safetensors").toStdString(), t).ok());
    auto sae = loadSae(dir.path().toStdString());
    QVERIFY(!sae.ok());
    QVERIFY2(sae.errorMessage().find(expected.toStdString()) != std::string::npos,
        sae.errorMessage().c_str());
    QVERIFY2(sae.errorMessage().find(dir.path().toStdString()) != std::string::npos,
        "message does not name the file");
}

void TestSae::mismatchWithModel()
{
    auto model = model::readModelConfig(fscope::test::fixture(QStringLiteral("models/gpt2")));
    QVERIFY(model.ok()); // d_model 32, 2 layers
    const Sae wrongWidth = tiny(Architecture::Relu);
    auto s = validateSaeForModel(wrongWidth, *model);
    QVERIFY(!s.ok());
    QVERIFY2(
        s.errorMessage().find("SAE d_in 2 does not match the 32-wide hook") != std::string::npos,
        s.errorMessage().c_str());
    SaeConfig c = wrongWidth.config();
    c.dIn = 32;
    c.hookName = "blocks.7.hook_resid_post";
    s = validateSaeForModel(Sae(c, wrongWidth.weights()), *model);
    QVERIFY(!s.ok());
    QVERIFY(s.errorMessage().find("the model has 2 layers") != std::string::npos);
    c.hookName = "blocks.1.hook_resid_post";
    QVERIFY(validateSaeForModel(Sae(c, wrongWidth.weights()), *model).ok());
}

void TestSae::metricsPerfectAndZero()
{
    auto decoder = model::Decoder::load(
        fscope::test::fixture(QStringLiteral("models/gpt2")), { "cpu", "f32" });
    QVERIFY(decoder.ok());
    const int64_t d = 32;
    SaeConfig c;
    c.dIn = d;
    c.dSae = 2 * d;
    c.hookName = "blocks.0.hook_resid_post";
    const at::Tensor eye = at::eye(d);
    SaeWeights perfect;
    perfect.W_enc = at::cat({ eye, -eye }, 1);
    perfect.b_enc = at::zeros({ 2 * d });
    perfect.W_dec = at::cat({ eye, -eye }, 0);
    perfect.b_dec = at::zeros({ d });
    std::vector<std::vector<int64_t>> contexts;
    for (int i = 0; i < 6; ++i) {
        std::vector<int64_t> ctx = { 95 }; // BOS-like special token first
        for (int t = 1; t < 10; ++t)
            ctx.push_back((i * 13 + t * 7) % 95);
        contexts.push_back(ctx);
    }
    EvalOptions options;
    options.specialTokens = { 95 };
    options.batchSize = 4;
    auto good = evaluateSae(**decoder, Sae(c, perfect), contexts, options);
    QVERIFY2(good.ok(), good.ok() ? "" : good.errorMessage().c_str());
    QCOMPARE(good->tokens, int64_t { 6 * 9 }); // the special token is left out
    QVERIFY(std::abs(good->value("explained_variance") - 1) < 1e-9);
    QVERIFY(std::abs(good->value("ce_loss_recovered") - 1) < 1e-6);
    QVERIFY(good->value("mse") < 1e-10);
    QVERIFY(std::abs(good->value("cosine") - 1) < 1e-9);
    QVERIFY(std::abs(good->value("ce_with_sae") - good->value("ce_clean")) < 1e-9);
    QVERIFY(std::abs(good->value("ce_zero_ablation") - good->value("ce_clean")) > 1e-3);
    QVERIFY(good->value("l0") > 20 && good->value("l0") <= 32);

    SaeWeights zero = perfect;
    zero.W_enc = at::zeros_like(perfect.W_enc);
    zero.W_dec = at::zeros_like(perfect.W_dec);
    auto bad = evaluateSae(**decoder, Sae(c, zero), contexts, options);
    QVERIFY(bad.ok());
    // The zero SAE writes zeros except at the special token, where it keeps the activation,
    // so it recovers only what that one position carries.
    QVERIFY2(bad->value("ce_loss_recovered") < 0.9,
        qPrintable(QString::number(bad->value("ce_loss_recovered"))));
    QCOMPARE(bad->value("l0"), 0.0);
    QCOMPARE(bad->value("dead_fraction"), 1.0);
    QVERIFY(bad->value("explained_variance") < 0);

    // With no special tokens the zero SAE is exactly zero ablation.
    options.specialTokens.clear();
    auto exact = evaluateSae(**decoder, Sae(c, zero), contexts, options);
    QVERIFY(std::abs(exact->value("ce_loss_recovered")) < 1e-9);
}

QTEST_GUILESS_MAIN(TestSae)
#include "tst_sae.moc"
