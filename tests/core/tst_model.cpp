// The generic decoder against golden outputs of the reference forward
// (tests/generators/make_model_fixtures.py) for GPT-2, Gemma 2, Llama 3 and Qwen 2, plus the
// runtime's invariants: KV cache = full recompute, early stop, zero interventions, dtypes.

#include "core/io/torch_tensor.h"
#include "core/model/decoder.h"
#include "core/model/generation.h"
#include "core/model/position_policy.h"
#include "tests/support/testsupport.h"

#include <QTemporaryDir>
#include <QTest>

#include <filesystem>

using namespace fscope::core;
using namespace fscope::core::model;

namespace {

std::unique_ptr<Decoder> loadFixture(const QString &family, const std::string &dtype = "f32")
{
    auto d = Decoder::load(
        fscope::test::fixture(QStringLiteral("models/") + family), { "cpu", dtype });
    if (!d)
        qFatal("%s", d.errorMessage().c_str());
    return std::move(d).value();
}

at::Tensor golden(const QString &family, const std::string &name)
{
    auto c = io::Checkpoint::open(
        fscope::test::fixture(QStringLiteral("models/%1/golden.safetensors").arg(family)));
    return io::loadTensor(*c, name).value().clone();
}

// max |a - b| / (max |b| + tiny): the relative error the design allows (1e-4 in fp32).
double relativeError(const at::Tensor &a, const at::Tensor &b)
{
    return (a.to(at::kFloat) - b).abs().max().item<double>()
        / (b.abs().max().item<double>() + 1e-12);
}

} // namespace

class TestModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matchesGolden_data();
    void matchesGolden();
    void kvCacheEqualsRecompute_data();
    void kvCacheEqualsRecompute();
    void earlyStopSkipsLaterLayers();
    void zeroInterventionChangesNothing();
    void interventionChangesDownstream();
    void lowPrecisionCloseToF32_data();
    void lowPrecisionCloseToF32();
    void generationIsDeterministic();
    void batchedGenerationMatchesSingle();
    void newFamilyConfigs();
    void configErrors_data();
    void configErrors();
    void refusesPickleDirectory();
    void hookNamesParse();
    void positionPolicyUnderKvCache_data();
    void positionPolicyUnderKvCache();
};

void TestModel::matchesGolden_data()
{
    QTest::addColumn<QString>("family");
    // gemma3mm: the same language model as gemma3, in a multimodal checkpoint's layout.
    for (const char *f :
        { "gpt2", "gemma2", "gemma3", "gemma3mm", "llama", "mistral", "qwen2", "qwen3" })
        QTest::newRow(f) << QString::fromLatin1(f);
}

void TestModel::matchesGolden()
{
    QFETCH(QString, family);
    auto d = loadFixture(family);
    ForwardOptions options;
    const std::vector<std::string> hooks = { "blocks.0.hook_resid_post", "blocks.1.hook_resid_pre",
        "blocks.1.attn.hook_z", "blocks.1.hook_attn_out", "blocks.1.hook_resid_mid",
        "blocks.1.hook_mlp_out", "blocks.1.hook_resid_post" };
    options.capture.insert(hooks.begin(), hooks.end());
    auto r = d->forward({ golden(family, "ids") }, options);
    QVERIFY2(r.ok(), r.ok() ? "" : r.errorMessage().c_str());
    const at::Tensor expected = golden(family, "logits");
    QCOMPARE(r->logits.sizes().vec(), expected.sizes().vec());
    const double err = relativeError(r->logits, expected);
    QVERIFY2(err < 1e-4, qPrintable(QStringLiteral("logits relative error %1").arg(err)));
    for (const auto &h : hooks) {
        const double e = relativeError(r->activations.at(h), golden(family, h));
        QVERIFY2(e < 1e-4,
            qPrintable(
                QStringLiteral("%1 relative error %2").arg(QString::fromStdString(h)).arg(e)));
    }
}

void TestModel::kvCacheEqualsRecompute_data()
{
    matchesGolden_data();
}

void TestModel::kvCacheEqualsRecompute()
{
    QFETCH(QString, family);
    auto d = loadFixture(family);
    const at::Tensor ids = golden(family, "ids");
    const at::Tensor full = d->forward({ ids }).value().logits;
    KvCache cache;
    const at::Tensor a = d->forward({ ids.narrow(1, 0, 7) }, {}, &cache).value().logits;
    QCOMPARE(cache.length(), int64_t { 7 });
    at::Tensor b;
    for (int64_t t = 7; t < ids.size(1); ++t) // one token at a time, as generation does
        b = at::cat({ b.defined() ? b : at::empty({ 2, 0, a.size(2) }),
                        d->forward({ ids.narrow(1, t, 1) }, {}, &cache).value().logits },
            1);
    const at::Tensor stitched = at::cat({ a, b }, 1);
    QVERIFY2(relativeError(stitched, full) < 1e-5,
        qPrintable(QString::number(relativeError(stitched, full))));
}

void TestModel::earlyStopSkipsLaterLayers()
{
    auto d = loadFixture(QStringLiteral("llama"));
    const at::Tensor ids = golden(QStringLiteral("llama"), "ids");
    int laterCalls = 0;
    ForwardOptions early;
    early.computeLogits = false;
    early.capture = { "blocks.0.hook_resid_post" };
    early.interventions.emplace(
        "blocks.2.hook_resid_pre", [&](const at::Tensor &, const HookContext &) {
            ++laterCalls;
            return at::Tensor();
        });
    auto r = d->forward({ ids }, early);
    QVERIFY(r.ok());
    QVERIFY(!r->logits.defined());
    QCOMPARE(laterCalls, 0);
    QVERIFY(r->activations.at("blocks.0.hook_resid_post")
                .equal(golden(QStringLiteral("llama"), "blocks.0.hook_resid_post"))
        || relativeError(r->activations.at("blocks.0.hook_resid_post"),
               golden(QStringLiteral("llama"), "blocks.0.hook_resid_post"))
            < 1e-5);
    ForwardOptions full;
    full.capture = early.capture;
    QVERIFY(d->forward({ ids }, full)
                ->activations.at("blocks.0.hook_resid_post")
                .equal(r->activations.at("blocks.0.hook_resid_post")));
}

void TestModel::zeroInterventionChangesNothing()
{
    auto d = loadFixture(QStringLiteral("gemma2"));
    const at::Tensor ids = golden(QStringLiteral("gemma2"), "ids");
    const at::Tensor direction = at::randn({ d->config().hidden });
    ForwardOptions o;
    o.interventions.emplace(
        "blocks.1.hook_resid_pre", [&](const at::Tensor &h, const HookContext &) {
            return h + 0.0 * direction.to(h.dtype());
        });
    QVERIFY(d->forward({ ids }, o)->logits.equal(d->forward({ ids })->logits));
}

void TestModel::interventionChangesDownstream()
{
    auto d = loadFixture(QStringLiteral("gpt2"));
    const at::Tensor ids = golden(QStringLiteral("gpt2"), "ids");
    std::vector<int64_t> offsets;
    // A direction, not a constant: LayerNorm removes a constant shift.
    const at::Tensor direction = at::linspace(-3, 3, d->config().hidden);
    ForwardOptions o;
    o.capture = { "blocks.0.hook_resid_post", "blocks.1.hook_resid_pre" };
    o.interventions.emplace(
        "blocks.0.hook_resid_post", [&](const at::Tensor &h, const HookContext &ctx) {
            offsets.push_back(ctx.positionOffset);
            return h + direction;
        });
    auto r = d->forward({ ids }, o);
    QVERIFY(r.ok());
    QCOMPARE(offsets, std::vector<int64_t> { 0 });
    // The captured value is the modified one, and it is what the next block reads.
    QVERIFY(r->activations.at("blocks.1.hook_resid_pre")
                .equal(r->activations.at("blocks.0.hook_resid_post")));
    QVERIFY(relativeError(r->activations.at("blocks.0.hook_resid_post"),
                golden(QStringLiteral("gpt2"), "blocks.0.hook_resid_post") + direction)
        < 1e-5);
    QVERIFY(relativeError(r->logits, golden(QStringLiteral("gpt2"), "logits")) > 1e-3);
}

void TestModel::lowPrecisionCloseToF32_data()
{
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("dtype");
    for (const char *f : { "gpt2", "gemma2", "gemma3", "llama", "mistral", "qwen2", "qwen3" }) {
        QTest::newRow(qPrintable(QStringLiteral("%1 bf16").arg(QLatin1String(f))))
            << QString::fromLatin1(f) << "bf16";
        QTest::newRow(qPrintable(QStringLiteral("%1 f16").arg(QLatin1String(f))))
            << QString::fromLatin1(f) << "f16";
    }
}

void TestModel::lowPrecisionCloseToF32()
{
    QFETCH(QString, family);
    QFETCH(QString, dtype);
    if (dtype == QLatin1String("f16")) {
        // LibTorch's CPU kernels have no half-precision matmul: refused with a clear message.
        auto refused = Decoder::load(
            fscope::test::fixture(QStringLiteral("models/") + family), { "cpu", "f16" });
        QVERIFY(!refused.ok());
        QVERIFY2(refused.errorMessage().find("f16 needs a CUDA device") != std::string::npos,
            refused.errorMessage().c_str());
        return;
    }
    auto d = loadFixture(family, dtype.toStdString());
    QCOMPARE(d->dtype(), at::kBFloat16);
    auto r = d->forward({ golden(family, "ids") });
    QVERIFY2(r.ok(), r.ok() ? "" : r.errorMessage().c_str());
    const at::Tensor expected = golden(family, "logits");
    const double err = relativeError(r->logits, expected);
    QVERIFY2(err < 0.05, qPrintable(QStringLiteral("relative error %1").arg(err)));
    // The top token agrees almost everywhere.
    const double agree
        = r->logits.argmax(-1).eq(expected.argmax(-1)).to(at::kFloat).mean().item<double>();
    QVERIFY2(agree >= 0.9, qPrintable(QString::number(agree)));
}

void TestModel::generationIsDeterministic()
{
    auto d = loadFixture(QStringLiteral("qwen2"));
    GenerateOptions o;
    o.maxNewTokens = 10;
    o.temperature = 0.8;
    o.topK = 20;
    o.topP = 0.9;
    o.seed = 7;
    auto a = generate(*d, { { 5, 17, 3 } }, o);
    auto b = generate(*d, { { 5, 17, 3 } }, o);
    QVERIFY(a.ok() && b.ok());
    QCOMPARE(a->tokens, b->tokens);
    QCOMPARE(a->tokens[0].size(), size_t { 10 });
    // Greedy generation = argmax of a full recompute at every step.
    o.temperature = 0;
    auto g = generate(*d, { { 5, 17, 3 } }, o).value();
    std::vector<int64_t> seq = { 5, 17, 3 };
    for (int64_t token : g.tokens[0]) {
        const at::Tensor logits = d->forward({ at::tensor(seq).unsqueeze(0) })->logits;
        QCOMPARE(logits[0][-1].argmax().item<int64_t>(), token);
        seq.push_back(token);
    }
    o.stopTokens = { g.tokens[0][2] };
    const auto firstStop = std::find(g.tokens[0].begin(), g.tokens[0].end(), g.tokens[0][2]);
    QCOMPARE(generate(*d, { { 5, 17, 3 } }, o)->tokens[0].size(),
        size_t(firstStop - g.tokens[0].begin() + 1));
}

void TestModel::batchedGenerationMatchesSingle()
{
    auto d = loadFixture(QStringLiteral("gpt2"));
    GenerateOptions o;
    o.maxNewTokens = 6;
    const std::vector<int64_t> shortPrompt = { 4, 9 }, longPrompt = { 95, 30, 31, 32, 33 };
    auto batch = generate(*d, { shortPrompt, longPrompt }, o);
    QVERIFY(batch.ok());
    QCOMPARE(batch->tokens[0], generate(*d, { shortPrompt }, o)->tokens[0]);
    QCOMPARE(batch->tokens[1], generate(*d, { longPrompt }, o)->tokens[0]);
}

void TestModel::newFamilyConfigs()
{
    // Gemma 3 (ecosystem2.md B1): every sixth layer global, two RoPE bases, QK-norm, no caps.
    auto g = readModelConfig(fscope::test::fixture(QStringLiteral("models/gemma3")));
    QVERIFY(g);
    QCOMPARE(g->familyName(), std::string("gemma3"));
    QCOMPARE(g->slidingLayers, (std::vector<bool> { true, true, true, true, true, false }));
    QCOMPARE(g->ropeTheta, 1e6);
    QCOMPARE(g->ropeLocalTheta, 1e4);
    QCOMPARE(g->ropeScaling.type, std::string("linear"));
    QVERIFY(g->qkNorm);
    QCOMPARE(g->attnSoftcap, 0.0);
    QCOMPARE(g->finalSoftcap, 0.0);
    // The multimodal layout reads the same language model.
    auto mm = readModelConfig(fscope::test::fixture(QStringLiteral("models/gemma3mm")));
    QVERIFY(mm);
    QCOMPARE(mm->slidingLayers, g->slidingLayers);
    QCOMPARE(mm->hidden, g->hidden);
    // A sparse text_config takes Gemma3TextConfig's defaults; transformers v5 writes RoPE per
    // layer type.
    auto sparse = parseModelConfig(
        R"({"model_type": "gemma3", "text_config": {"num_hidden_layers": 12, "rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0}, "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}}})",
        "config.json");
    QVERIFY2(sparse, sparse ? "" : sparse.errorMessage().c_str());
    QCOMPARE(sparse->hidden, int64_t(2304));
    QCOMPARE(sparse->headDim, int64_t(256));
    QCOMPARE(sparse->vocabSize, int64_t(262208));
    QCOMPARE(sparse->slidingWindow, int64_t(4096));
    QCOMPARE(sparse->ropeLocalTheta, 1e4);
    QCOMPARE(sparse->ropeTheta, 1e6);
    QCOMPARE(sparse->ropeScaling.factor, 8.0);
    QCOMPARE(sparse->slidingLayers[5], false);
    QCOMPARE(sparse->slidingLayers[11], false);
    QCOMPARE(sparse->slidingLayers[6], true);
    // Qwen 3: QK-norm and no biases; head_dim of its own.
    auto q = readModelConfig(fscope::test::fixture(QStringLiteral("models/qwen3")));
    QVERIFY(q);
    QVERIFY(q->qkNorm && !q->qkvBias);
    QCOMPARE(q->headDim * q->heads, int64_t(64));
    QCOMPARE(q->hidden, int64_t(32));
    // Mistral: the window on every layer, or none when it is null.
    auto m = readModelConfig(fscope::test::fixture(QStringLiteral("models/mistral")));
    QVERIFY(m);
    QCOMPARE(m->slidingWindow, int64_t(5));
    QCOMPARE(m->slidingLayers, std::vector<bool>(3, true));
    auto full = parseModelConfig(
        R"({"model_type": "mistral", "vocab_size": 8, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 8, "sliding_window": null})",
        "config.json");
    QVERIFY(full);
    QCOMPARE(full->slidingLayers, std::vector<bool>(2, false));
}

void TestModel::configErrors_data()
{
    QTest::addColumn<QString>("config");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown family") << R"({"model_type": "mamba"})"
                                    << "model_type 'mamba' is not supported";
    QTest::newRow("not json") << "{"
                              << "not valid JSON";
    QTest::newRow("bad heads")
        << R"({"model_type": "llama", "vocab_size": 8, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 3, "num_key_value_heads": 2, "intermediate_size": 8})"
        << "heads a multiple of kv heads";
    QTest::newRow("rope type")
        << R"({"model_type": "llama", "vocab_size": 8, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 8, "rope_scaling": {"rope_type": "yarn", "factor": 2}})"
        << "RoPE scaling 'yarn' is not supported";
}

void TestModel::configErrors()
{
    QFETCH(QString, config);
    QFETCH(QString, expected);
    auto c = parseModelConfig(config.toStdString(), "config.json");
    QVERIFY(!c.ok());
    QVERIFY2(c.errorMessage().find(expected.toStdString()) != std::string::npos,
        c.errorMessage().c_str());
    QVERIFY(c.errorMessage().find("config.json") != std::string::npos);

    // A weight with the wrong shape names the weight, the shapes and the file.
    QTemporaryDir dir;
    std::filesystem::copy(fscope::test::fixture(QStringLiteral("models/qwen2/config.json")),
        dir.filePath("config.json").toStdString());
    auto ckpt = io::Checkpoint::open(
        fscope::test::fixture(QStringLiteral("models/qwen2/model.safetensors")));
    io::NamedTensors tensors;
    for (const auto &[name, t] : ckpt->tensors())
        tensors.emplace_back(name,
            name == "model.norm.weight" ? at::ones({ 3 }) : io::loadTensor(*ckpt, name).value());
    QVERIFY(io::writeSafetensors(dir.filePath("model.safetensors").toStdString(), tensors).ok());
    auto d = Decoder::load(dir.path().toStdString(), { "cpu", "f32" });
    QVERIFY(!d.ok());
    QVERIFY2(d.errorMessage().find("'model.norm.weight' has shape [3], the config implies [32]")
            != std::string::npos,
        d.errorMessage().c_str());
}

void TestModel::refusesPickleDirectory()
{
    QTemporaryDir dir;
    std::filesystem::copy(fscope::test::fixture(QStringLiteral("models/gpt2/config.json")),
        dir.filePath("config.json").toStdString());
    fscope::test::writeFile(dir.filePath("pytorch_model.bin").toStdString(), "\x80\x02}q\x00.");
    auto d = Decoder::load(dir.path().toStdString(), { "cpu", "f32" });
    QVERIFY(!d.ok());
    QVERIFY2(d.errorMessage().find("never loads pickles") != std::string::npos,
        d.errorMessage().c_str());
}

void TestModel::hookNamesParse()
{
    QCOMPARE(parseHookName("blocks.11.attn.hook_z")->layer, int64_t { 11 });
    QCOMPARE(parseHookName("blocks.3.hook_resid_post")->point, std::string("hook_resid_post"));
    QVERIFY(!parseHookName("blocks.x.hook_resid_post"));
    QVERIFY(!parseHookName("blocks.1.hook_nothing"));
    QCOMPARE(deepestLayer({ "blocks.2.hook_mlp_out", "blocks.5.hook_resid_pre", "hook_embed" }, 12),
        int64_t { 5 });
    QCOMPARE(deepestLayer({ "ln_final.hook_normalized" }, 12), int64_t { 12 });
    QCOMPARE(hookNames(2, true).size(), size_t { 1 + 1 + 2 * 8 + 1 });
    auto d = loadFixture(QStringLiteral("gpt2"));
    ForwardOptions o;
    o.capture = { "blocks.9.hook_resid_post" };
    auto r = d->forward({ golden(QStringLiteral("gpt2"), "ids") }, o);
    QVERIFY(!r.ok());
    QVERIFY(r.errorMessage().find("unknown hook point 'blocks.9.hook_resid_post'")
        != std::string::npos);
}

void TestModel::positionPolicyUnderKvCache_data()
{
    QTest::addColumn<int>("kind");
    QTest::newRow("all") << int(PositionPolicy::All);
    QTest::newRow("prompt only") << int(PositionPolicy::PromptOnly);
    QTest::newRow("generated only") << int(PositionPolicy::GeneratedOnly);
    QTest::newRow("listed") << int(PositionPolicy::Listed);
}

void TestModel::positionPolicyUnderKvCache()
{
    // Steering during cached generation must equal steering the same positions in a full
    // recompute of the final sequence (a cached step must never be silently skipped).
    QFETCH(int, kind);
    auto d = loadFixture(QStringLiteral("llama"));
    const std::vector<int64_t> prompt = { 5, 17, 3, 40 };
    PositionPolicy policy;
    policy.kind = static_cast<PositionPolicy::Kind>(kind);
    policy.promptLength = static_cast<int64_t>(prompt.size());
    policy.positions = { 1, 5 };
    const at::Tensor direction = at::linspace(-2, 2, d->config().hidden);
    ForwardOptions steer;
    steer.interventions.emplace("blocks.1.hook_resid_post",
        atPositions(
            policy, [&](const at::Tensor &h, const HookContext &) { return h + 4.0 * direction; }));
    GenerateOptions g;
    g.maxNewTokens = 4;
    auto steered = generate(*d, { prompt }, g, steer);
    auto plain = generate(*d, { prompt }, g);
    QVERIFY(steered.ok() && plain.ok());
    std::vector<int64_t> sequence = prompt;
    sequence.insert(sequence.end(), steered->tokens[0].begin(), steered->tokens[0].end());
    // Recompute: logits at every generated step under the same policy, no cache.
    const at::Tensor full = d->forward({ at::tensor(sequence).unsqueeze(0) }, steer)->logits[0];
    for (size_t n = 0; n < steered->tokens[0].size(); ++n)
        QCOMPARE(full[static_cast<int64_t>(prompt.size() + n - 1)].argmax().item<int64_t>(),
            steered->tokens[0][n]);
    QVERIFY(relativeError(steered->firstLogits[0], full[static_cast<int64_t>(prompt.size()) - 1])
        < 1e-5);
    // Generated-only leaves the prompt's next-token distribution untouched; the others change it.
    const double change = relativeError(steered->firstLogits, plain->firstLogits);
    if (policy.kind == PositionPolicy::GeneratedOnly)
        QCOMPARE(change, 0.0);
    else
        QVERIFY(change > 1e-4);
}

QTEST_GUILESS_MAIN(TestModel)
#include "tst_model.moc"
