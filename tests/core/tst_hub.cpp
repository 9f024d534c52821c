// The Hub client against a loopback server that answers like the Hub's file endpoints
// (tests/core/hub/hub_server.py, 127.0.0.1 only): the cache layout byte for byte, resume after
// a dropped connection, corrupted blobs fetched again, offline mode, the token sent to the
// endpoint only and never shown, gated / missing / pickle-only repositories refused with what
// to do, and `featurescope-cli fetch` / `run --model org/name` end to end.

#include "core/hub/hub_client.h"
#include "core/hub/hub_settings.h"
#include "core/hub/sae_release.h"
#include "core/store/sha256.h"
#include "tests/support/testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;
using namespace fscope::core;

namespace {

const char *kCommit = "0123456789abcdef0123456789abcdef01234567";
const char *kToken = "hf_secretTestToken123";

std::string randomBytes(size_t n, unsigned seed)
{
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (auto &c : s)
        c = char(gen() & 0xff);
    return s;
}

std::string sha256(const std::string &bytes)
{
    store::Sha256 h;
    h.update(bytes);
    return h.hexDigest();
}

} // namespace

class TestHub : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void names();
    void downloadsIntoTheCacheLayout();
    void corruptedBlobsAreFetchedAgain();
    void offlineUsesTheCache();
    void tokenGoesToTheEndpointOnly();
    void errorsSayWhatToDo();
    void commandLine();
    void releaseLayouts();
    void releaseCommand();

private:
    hub::HubSettings settings(const std::string &token = {}) const;
    QJsonArray serverLog() const;
    QTemporaryDir m_dir;
    QProcess m_server;
    std::string m_endpoint, m_served;
    std::map<std::string, std::string> m_files; // org/model's files
};

void TestHub::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_served = m_dir.path().toStdString() + "/served";
    // org/model: a real tiny GPT-2 (so `run` can load it) and a large LFS blob that the server
    // cuts off half way once.
    const std::string model = m_served + "/model";
    fs::create_directories(model + "/extra");
    for (const char *f : { "config.json", "model.safetensors" }) {
        fs::copy_file(fscope::test::fixture(QString("models/gpt2/") + f), model + "/" + f);
        m_files[f] = fscope::test::readFile(model + "/" + f);
    }
    m_files["extra/big.safetensors"] = randomBytes(3 << 20, 1);
    m_files["extra/notes.txt"] = "small, not LFS\n";
    for (const auto &[p, bytes] : m_files)
        if (p.rfind("extra/", 0) == 0)
            fscope::test::writeFile(model + "/" + p, bytes);
    // org/pickles: weights only as a pickle. org/gated: needs the token.
    fs::create_directories(m_served + "/pickles");
    fscope::test::writeFile(m_served + "/pickles/config.json", "{}");
    fscope::test::writeFile(m_served + "/pickles/pytorch_model.bin", randomBytes(4096, 2));
    fs::create_directories(m_served + "/gated/layer_3/width_16k");
    fscope::test::writeFile(m_served + "/gated/layer_3/width_16k/params.npz", randomBytes(5000, 3));
    fscope::test::writeFile(m_served + "/gated/layer_4/params.npz", randomBytes(5000, 4));
    // org/scope: a Gemma Scope-shaped release (files are stand-ins: only the listing is read).
    // org/saelens: one real SAELens SAE under its hook name, so `sae info` can open what
    // `sae release` names.
    for (const char *f : { "layer_3/width_16k/average_l0_82", "layer_3/width_16k/average_l0_40",
             "layer_3/width_65k/average_l0_50", "layer_12/width_16k/average_l0_82" }) {
        fs::create_directories(m_served + "/scope/" + f);
        fscope::test::writeFile(m_served + "/scope/" + f + "/params.npz", randomBytes(2000, 5));
    }
    fscope::test::writeFile(m_served + "/scope/README.md", "# scope\n");
    const std::string hookDir = m_served + "/saelens/blocks.1.hook_resid_post";
    fs::create_directories(hookDir);
    for (const char *f : { "cfg.json", "sae_weights.safetensors" })
        fs::copy_file(
            fscope::test::fixture(QString("sae/saelens_v6_jumprelu/") + f), hookDir + "/" + f);

    QJsonObject repos {
        { "org/model",
            QJsonObject { { "commit", kCommit },
                { "refs", QJsonObject { { "main", kCommit }, { "v1", kCommit } } },
                { "dir", QString::fromStdString(model) } } },
        { "org/pickles",
            QJsonObject { { "commit", kCommit }, { "refs", QJsonObject { { "main", kCommit } } },
                { "dir", QString::fromStdString(m_served + "/pickles") } } },
        { "org/gated",
            QJsonObject { { "commit", kCommit }, { "refs", QJsonObject { { "main", kCommit } } },
                { "dir", QString::fromStdString(m_served + "/gated") }, { "gated", true } } },
        { "org/scope",
            QJsonObject { { "commit", kCommit }, { "refs", QJsonObject { { "main", kCommit } } },
                { "dir", QString::fromStdString(m_served + "/scope") } } },
        { "org/saelens",
            QJsonObject { { "commit", kCommit }, { "refs", QJsonObject { { "main", kCommit } } },
                { "dir", QString::fromStdString(m_served + "/saelens") } } },
    };
    const QJsonObject manifest { { "repos", repos }, { "token", kToken },
        { "drop_once", QJsonArray { "extra/big.safetensors" } },
        { "corrupt_once", QJsonArray { "layer_3/width_16k/params.npz" } } };
    const std::string manifestPath = m_dir.path().toStdString() + "/manifest.json";
    fscope::test::writeFile(manifestPath, QJsonDocument(manifest).toJson().toStdString());
    m_server.setProcessChannelMode(QProcess::SeparateChannels);
    m_server.start("/usr/bin/python3",
        { QString::fromStdString(
              std::string(FEATURESCOPE_SOURCE_DIR) + "/tests/core/hub/hub_server.py"),
            QString::fromStdString(manifestPath) });
    QVERIFY(m_server.waitForStarted(10000));
    QVERIFY2(m_server.waitForReadyRead(20000), qPrintable(m_server.readAllStandardError()));
    const int port = m_server.readLine().trimmed().toInt();
    QVERIFY(port > 0);
    m_endpoint = "http://127.0.0.1:" + std::to_string(port);
}

void TestHub::cleanupTestCase()
{
    m_server.kill();
    m_server.waitForFinished(5000);
}

hub::HubSettings TestHub::settings(const std::string &token) const
{
    hub::HubSettings s;
    s.endpoint = m_endpoint;
    s.cacheDir = m_dir.path().toStdString() + "/hub";
    s.token = token;
    return s;
}

QJsonArray TestHub::serverLog() const
{
    QProcess curl;
    curl.start("/usr/bin/python3",
        { "-c",
            QString("import "
                    "urllib.request,sys;sys.stdout.write(urllib.request.urlopen('%1/"
                    "_log').read().decode())")
                .arg(QString::fromStdString(m_endpoint)) });
    curl.waitForFinished(20000);
    return QJsonDocument::fromJson(curl.readAllStandardOutput()).array();
}

void TestHub::names()
{
    QVERIFY(hub::looksLikeRepoName("google/gemma-2-2b"));
    QVERIFY(hub::looksLikeRepoName("google/gemma-2-2b@main"));
    QVERIFY(hub::looksLikeRepoName(
        "hf://google/gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82"));
    QVERIFY(!hub::looksLikeRepoName("./local/model"));
    QVERIFY(!hub::looksLikeRepoName("/abs/model"));
    QVERIFY(!hub::looksLikeRepoName("a/b/c"));
    auto r = hub::parseRepoRef(
        "hf://google/gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82@v2");
    QVERIFY(r.ok());
    QCOMPARE(r->repo, std::string("google/gemma-scope-2b-pt-res"));
    QCOMPARE(r->path, std::string("layer_12/width_16k/average_l0_82"));
    QCOMPARE(r->revision, std::string("v2"));
    QVERIFY(!hub::parseRepoRef("hf://org/repo/../../etc@main").ok());
    QCOMPARE(hub::repoFolderName("google/gemma-2-2b"), std::string("models--google--gemma-2-2b"));
}

void TestHub::downloadsIntoTheCacheLayout()
{
    hub::HubClient client(settings());
    auto snap = client.fetch({ "org/model", "v1", "" });
    QVERIFY2(snap.ok(), snap.ok() ? "" : snap.errorMessage().c_str());
    const fs::path repoDir = fs::path(settings().cacheDir) / "models--org--model";
    QCOMPARE(snap->path, (repoDir / "snapshots" / kCommit).string());
    QCOMPARE(snap->files.size(), m_files.size());
    for (const auto &[p, bytes] : m_files) {
        const fs::path link = repoDir / "snapshots" / kCommit / p;
        QVERIFY2(fs::is_symlink(link), p.c_str());
        QVERIFY(fs::read_symlink(link).is_relative());
        QCOMPARE(fscope::test::readFile(link.string()), bytes); // byte-identical through the link
    }
    // LFS blobs are named by their sha256; refs/v1 holds the commit; nothing partial is left.
    QVERIFY(fs::exists(repoDir / "blobs" / sha256(m_files["extra/big.safetensors"])));
    QCOMPARE(fscope::test::readFile((repoDir / "refs" / "v1").string()), std::string(kCommit));
    for (const auto &e : fs::directory_iterator(repoDir / "blobs"))
        QVERIFY2(e.path().extension() != ".incomplete", e.path().c_str());
    // The dropped transfer resumed with a Range request instead of starting over.
    int ranged = 0;
    for (const auto &v : serverLog()) {
        const QJsonObject r = v.toObject();
        if (r["path"].toString().startsWith("/cdn/") && !r["range"].toString().isEmpty())
            ++ranged;
    }
    QVERIFY2(ranged >= 1, "the second request after the drop must ask for the rest only");
    // A second fetch downloads nothing.
    auto again = client.fetch({ "org/model", "v1", "" });
    QVERIFY(again.ok());
    QCOMPARE(again->bytesDownloaded, int64_t(0));
    QVERIFY(again->bytesReused > 0);
}

void TestHub::corruptedBlobsAreFetchedAgain()
{
    hub::HubClient client(settings());
    QVERIFY(client.fetch({ "org/model", "main", "" }).ok());
    const fs::path blob = fs::path(settings().cacheDir) / "models--org--model" / "blobs"
        / sha256(m_files["extra/big.safetensors"]);
    // Truncated: caught by its size.
    fs::resize_file(blob, 1000);
    auto fixed = client.fetch({ "org/model", "main", "" });
    QVERIFY2(fixed.ok(), fixed.ok() ? "" : fixed.errorMessage().c_str());
    QCOMPARE(fixed->bytesDownloaded, int64_t(m_files["extra/big.safetensors"].size()));
    QCOMPARE(fscope::test::readFile(blob.string()), m_files["extra/big.safetensors"]);
    // Same size, one byte flipped: caught by its sha256 when verifying.
    {
        std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(12345);
        f.put('\x5a' ^ m_files["extra/big.safetensors"][12345]);
    }
    hub::FetchOptions verify;
    verify.verify = true;
    auto verified = client.fetch({ "org/model", "main", "" }, nullptr, verify);
    QVERIFY(verified.ok());
    QCOMPARE(fscope::test::readFile(blob.string()), m_files["extra/big.safetensors"]);
}

void TestHub::offlineUsesTheCache()
{
    hub::HubSettings s = settings();
    s.offline = true;
    hub::HubClient client(s);
    auto cached = client.fetch({ "org/model", "v1", "" });
    QVERIFY2(cached.ok(), cached.ok() ? "" : cached.errorMessage().c_str());
    QVERIFY(cached->fromCache);
    QCOMPARE(cached->files.size(), m_files.size());
    // The cached listing names files by their path in the repository, not by their blob.
    auto listed = client.list("org/model", "v1");
    QVERIFY(listed.ok() && listed->fromCache);
    QVERIFY(std::any_of(listed->files.begin(), listed->files.end(),
        [](const hub::HubFile &f) { return f.path == "extra/notes.txt"; }));
    auto missing = client.fetch({ "org/pickles", "main", "" });
    QVERIFY(!missing.ok());
    QVERIFY2(missing.errorMessage().find("not in the Hugging Face cache") != std::string::npos,
        missing.errorMessage().c_str());
    QVERIFY(missing.errorMessage().find("HF_HUB_OFFLINE") != std::string::npos);
    // An unreachable Hub (a closed port) falls back to the cache too.
    hub::HubSettings down = settings();
    down.endpoint = "http://127.0.0.1:9";
    auto fallback = hub::HubClient(down).fetch({ "org/model", "v1", "" });
    QVERIFY2(
        fallback.ok() && fallback->fromCache, fallback.ok() ? "" : fallback.errorMessage().c_str());
}

void TestHub::tokenGoesToTheEndpointOnly()
{
    const int before = serverLog().size();
    hub::HubClient client(settings(kToken));
    // The first transfer arrives with a byte flipped: the sha256, taken as the bytes arrive,
    // catches it; nothing lands in blobs/ and the next fetch gets the right bytes.
    auto corrupted = client.fetch({ "org/gated", "main", "layer_3/width_16k" });
    QVERIFY(!corrupted.ok());
    QVERIFY2(corrupted.errorMessage().find("failed its sha256 check") != std::string::npos,
        corrupted.errorMessage().c_str());
    const fs::path gatedBlobs = fs::path(settings().cacheDir) / "models--org--gated" / "blobs";
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(gatedBlobs, ec))
        QVERIFY2(false, e.path().c_str());
    auto sae = client.fetch({ "org/gated", "main", "layer_3/width_16k" });
    QVERIFY2(sae.ok(), sae.ok() ? "" : sae.errorMessage().c_str());
    // Only the SAE's folder came down.
    QCOMPARE(sae->files, std::vector<std::string> { "layer_3/width_16k/params.npz" });
    QVERIFY(sae->path.find("layer_3/width_16k") != std::string::npos);
    QCOMPARE(fscope::test::readFile(sae->path + "/params.npz"), randomBytes(5000, 3));
    const QJsonArray log = serverLog();
    int endpointWithToken = 0, cdn = 0;
    for (int i = before; i < log.size(); ++i) {
        const QJsonObject r = log[i].toObject();
        if (r["path"].toString().startsWith("/cdn/")) {
            ++cdn;
            QVERIFY2(!r["auth"].toBool(), "the token must not reach another host");
        } else if (r["auth_ok"].toBool()) {
            ++endpointWithToken;
        }
    }
    QVERIFY(cdn >= 1);
    QVERIFY(endpointWithToken >= 2); // the listing and the file's HEAD
}

void TestHub::errorsSayWhatToDo()
{
    auto anonymous = hub::HubClient(settings()).fetch({ "org/gated", "main", "" });
    QVERIFY(!anonymous.ok());
    QVERIFY2(anonymous.errorMessage().find("HF_TOKEN") != std::string::npos,
        anonymous.errorMessage().c_str());
    QVERIFY(anonymous.errorMessage().find("401") != std::string::npos);
    auto wrong = hub::HubClient(settings("hf_wrongToken999")).fetch({ "org/gated", "main", "" });
    QVERIFY(!wrong.ok());
    QVERIFY2(
        wrong.errorMessage().find("licence") != std::string::npos, wrong.errorMessage().c_str());
    QVERIFY(wrong.errorMessage().find("hf_wrongToken999") == std::string::npos); // never shown
    auto missing = hub::HubClient(settings()).fetch({ "org/nothing", "main", "" });
    QVERIFY(!missing.ok());
    QVERIFY2(missing.errorMessage().find("org/nothing@main") != std::string::npos
            && missing.errorMessage().find("not found") != std::string::npos,
        missing.errorMessage().c_str());
    auto badRevision = hub::HubClient(settings()).fetch({ "org/model", "no-such-branch", "" });
    QVERIFY(!badRevision.ok());
    QVERIFY(badRevision.errorMessage().find("no-such-branch") != std::string::npos);
    auto pickles = hub::HubClient(settings()).fetch({ "org/pickles", "main", "" });
    QVERIFY(!pickles.ok());
    QVERIFY2(pickles.errorMessage().find("safetensors") != std::string::npos,
        pickles.errorMessage().c_str());
    QVERIFY(!fs::exists(fs::path(settings().cacheDir) / "models--org--pickles" / "blobs"));
    auto noFolder = hub::HubClient(settings(kToken)).fetch({ "org/gated", "main", "layer_9" });
    QVERIFY(!noFolder.ok());
    QVERIFY(noFolder.errorMessage().find("nothing to fetch") != std::string::npos);
}

void TestHub::commandLine()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HF_ENDPOINT", QString::fromStdString(m_endpoint));
    env.insert("HF_HUB_CACHE", m_dir.path() + "/cli-hub");
    env.insert("HF_TOKEN", kToken);
    env.remove("HF_HUB_OFFLINE");
    QProcess fetch;
    fetch.setProcessEnvironment(env);
    fetch.start(FEATURESCOPE_CLI, { "fetch", "org/model", "--json" });
    QVERIFY(fetch.waitForFinished(120000));
    const QByteArray err = fetch.readAllStandardError();
    QVERIFY2(fetch.exitCode() == 0, err.constData());
    const QJsonObject j = QJsonDocument::fromJson(fetch.readAllStandardOutput()).object();
    QCOMPARE(j["commit"].toString(), QString(kCommit));
    QVERIFY(j["path"].toString().endsWith(kCommit));
    QVERIFY2(!err.contains(kToken), "the token must never be printed");
    // --model org/name@rev anywhere: resolved at the entry point, then loaded like a directory.
    QProcess run;
    run.setProcessEnvironment(env);
    run.start(FEATURESCOPE_CLI, { "run", "--model", "org/model@v1", "--ids", "5,17,3", "--json" });
    QVERIFY(run.waitForFinished(120000));
    QVERIFY2(run.exitCode() == 0, run.readAllStandardError().constData());
    const QJsonObject out = QJsonDocument::fromJson(run.readAllStandardOutput()).object();
    QCOMPARE(out["logits_last"].toArray().size(), 96); // the fixture's vocabulary
    // A gated repository without a token: a clear message, exit code 1.
    env.remove("HF_TOKEN");
    env.insert("HF_TOKEN_PATH", m_dir.path() + "/no-token-file");
    QProcess gated;
    gated.setProcessEnvironment(env);
    gated.start(FEATURESCOPE_CLI, { "fetch", "hf://org/gated/layer_4" });
    QVERIFY(gated.waitForFinished(60000));
    QCOMPARE(gated.exitCode(), 1);
    QVERIFY(gated.readAllStandardError().contains("HF_TOKEN"));
}

namespace {

hub::RepoListing listingOf(const std::vector<std::string> &paths)
{
    hub::RepoListing l { "org/release", "main", kCommit, {}, false };
    for (const auto &p : paths)
        l.files.push_back({ p, 100, "" });
    return l;
}

const hub::ReleaseEntry *entryAt(const hub::SaeRelease &r, const std::string &path)
{
    for (const auto &e : r.entries)
        if (e.path == path)
            return &e;
    return nullptr;
}

} // namespace

// The layouts of the releases researchers name, read from a listing alone.
void TestHub::releaseLayouts()
{
    // Gemma Scope: layer/width/L0 folders; sorted by layer, then width and L0 by magnitude.
    auto scope = hub::releaseFromListing(listingOf({ "README.md", ".gitattributes",
        "layer_12/width_16k/average_l0_82/params.npz", "layer_3/width_1m/average_l0_9/params.npz",
        "layer_3/width_16k/average_l0_82/params.npz",
        "layer_3/width_16k/average_l0_140/params.npz" }));
    QCOMPARE(scope.entries.size(), size_t(4));
    QCOMPARE(scope.entries[0].path, std::string("layer_3/width_16k/average_l0_82"));
    QCOMPARE(scope.entries[1].l0, std::string("140")); // 82 < 140, not "140" < "82"
    QCOMPARE(scope.entries[2].width, std::string("1m")); // 16k < 1m
    QCOMPARE(scope.entries[3].layer, 12);
    QVERIFY(scope.entries[0].site.empty());

    // Gemma Scope 2: site folders, named L0s, the affine (skip) transcoders, a CLT set.
    std::vector<std::string> two { "resid_post/layer_12_width_16k_l0_medium/params.safetensors",
        "resid_post/layer_12_width_16k_l0_medium/config.json",
        "resid_post/layer_12_width_16k_l0_big/params.safetensors",
        "resid_post/layer_12_width_16k_l0_small/params.safetensors",
        "transcoder/layer_5_width_16k_l0_big_affine/params.safetensors",
        "transcoder/layer_5_width_16k_l0_big/params.safetensors" };
    for (int i = 0; i < 26; ++i)
        two.push_back(
            "clt/width_262k_l0_medium/params_layer_" + std::to_string(i) + ".safetensors");
    auto gs2 = hub::releaseFromListing(listingOf(two));
    QCOMPARE(gs2.entries.size(), size_t(6)); // the CLT's 26 files are one entry
    const auto *clt = entryAt(gs2, "clt/width_262k_l0_medium");
    QVERIFY(clt);
    QCOMPARE(clt->site, std::string("clt"));
    QCOMPARE(clt->layer, -1); // chosen where it is used: DIR#layer=L
    const auto residual = hub::filterRelease(gs2, "resid_post", 12, "16k", "");
    QCOMPARE(residual.size(), size_t(3));
    QCOMPARE(residual[0].l0, std::string("small")); // small < medium < big
    QCOMPARE(residual[2].l0, std::string("big"));
    const auto *affine = entryAt(gs2, "transcoder/layer_5_width_16k_l0_big_affine");
    QVERIFY(affine);
    QCOMPARE(affine->variant, std::string("affine"));
    QCOMPARE(affine->layer, 5);
    QCOMPARE(hub::filterRelease(gs2, "transcoder", 5, "16k", "big").size(), size_t(2));

    // SAELens hook-named folders and sparsify's layers.N[.mlp].
    auto named = hub::releaseFromListing(listingOf({ "blocks.8.hook_resid_pre/cfg.json",
        "blocks.8.hook_resid_pre/sae_weights.safetensors", "blocks.10.hook_mlp_out/cfg.json",
        "blocks.10.hook_mlp_out/sae_weights.safetensors", "layers.12.mlp/cfg.json",
        "layers.12.mlp/sae.safetensors", "layers.3/cfg.json", "layers.3/sae.safetensors" }));
    QCOMPARE(named.entries.size(), size_t(4));
    const auto *pre = entryAt(named, "blocks.8.hook_resid_pre");
    QVERIFY(pre);
    QCOMPARE(pre->layer, 8);
    QCOMPARE(pre->site, std::string("hook_resid_pre"));
    QCOMPARE(entryAt(named, "layers.12.mlp")->site, std::string("mlp"));
    QCOMPARE(entryAt(named, "layers.3")->layer, 3);
    QCOMPARE(hub::filterRelease(named, "", 10, "", "").at(0).path,
        std::string("blocks.10.hook_mlp_out"));

    // circuit-tracer: per-layer transcoders beside config.yaml at the root: the repository.
    auto tracer = hub::releaseFromListing(
        listingOf({ "config.yaml", "layer_0.safetensors", "layer_1.safetensors", "README.md" }));
    QCOMPARE(tracer.entries.size(), size_t(1));
    QCOMPARE(tracer.entries[0].path, std::string());
    QCOMPARE(hub::releaseEntryName(tracer, tracer.entries[0]), std::string("hf://org/release"));

    // A model repository holds no dictionary; names carry a revision other than main.
    QVERIFY(
        hub::releaseFromListing(listingOf({ "config.json", "model.safetensors" })).entries.empty());
    scope.revision = "v2";
    QCOMPARE(hub::releaseEntryName(scope, scope.entries[3]),
        std::string("hf://org/release/layer_12/width_16k/average_l0_82@v2"));
}

// `sae release` lists what the Hub holds, narrows it, and names what `--sae` opens.
void TestHub::releaseCommand()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HF_ENDPOINT", QString::fromStdString(m_endpoint));
    env.insert("HF_HUB_CACHE", m_dir.path() + "/release-hub");
    env.remove("HF_HUB_OFFLINE");
    env.remove("HF_TOKEN");
    env.insert("HF_TOKEN_PATH", m_dir.path() + "/no-token-file");
    auto cli = [&](const QStringList &args, QByteArray *err = nullptr) {
        QProcess p;
        p.setProcessEnvironment(env);
        p.start(FEATURESCOPE_CLI, args);
        p.waitForFinished(120000);
        if (err)
            *err = p.readAllStandardError();
        return std::make_pair(p.exitCode(), p.readAllStandardOutput());
    };
    QByteArray err;
    auto [rc, out] = cli({ "sae", "release", "org/scope", "--json" }, &err);
    QVERIFY2(rc == 0, err.constData());
    const QJsonObject j = QJsonDocument::fromJson(out).object();
    QCOMPARE(j["commit"].toString(), QString(kCommit));
    const QJsonArray entries = j["entries"].toArray();
    QCOMPARE(entries.size(), 4);
    QCOMPARE(entries[0].toObject()["name"].toString(),
        QString("hf://org/scope/layer_3/width_16k/average_l0_40"));
    QCOMPARE(entries[3].toObject()["layer"].toInt(), 12);
    // Narrowed to one: its name alone, ready for --sae.
    std::tie(rc, out) = cli({ "sae", "release", "org/scope", "--layer", "3", "--width", "65k" });
    QCOMPARE(rc, 0);
    QCOMPARE(out.trimmed(), QByteArray("hf://org/scope/layer_3/width_65k/average_l0_50"));
    // Nothing matches: says how many the release holds.
    std::tie(rc, out) = cli({ "sae", "release", "org/scope", "--layer", "7" }, &err);
    QCOMPARE(rc, 1);
    QVERIFY2(err.contains("no SAE matches") && err.contains("4 in the release"), err.constData());
    // A model repository is not a release: the error lists what was found.
    std::tie(rc, out) = cli({ "sae", "release", "org/model" }, &err);
    QCOMPARE(rc, 1);
    QVERIFY2(err.contains("holds no SAE folder") && err.contains("config.json"), err.constData());
    // End to end: the one SAE of org/saelens, named by `sae release`, opened by `sae info`.
    std::tie(rc, out) = cli({ "sae", "release", "org/saelens" }, &err);
    QVERIFY2(rc == 0, err.constData());
    const QString name = QString::fromUtf8(out.trimmed());
    QCOMPARE(name, QString("hf://org/saelens/blocks.1.hook_resid_post"));
    std::tie(rc, out) = cli({ "sae", "info", "--sae", name, "--json" }, &err);
    QVERIFY2(rc == 0, err.constData());
    const QJsonObject info = QJsonDocument::fromJson(out).object();
    QCOMPARE(info["d_sae"].toInt(), 24);
    QCOMPARE(info["hook_name"].toString(), QString("blocks.1.hook_resid_post"));
    // Offline, the release is what the cache holds, and the command says so.
    env.insert("HF_HUB_OFFLINE", "1");
    std::tie(rc, out) = cli({ "sae", "release", "org/saelens" }, &err);
    QVERIFY2(rc == 0, err.constData());
    QCOMPARE(QString::fromUtf8(out.trimmed()), name);
    QVERIFY2(err.contains("already in the Hugging Face cache"), err.constData());
    std::tie(rc, out) = cli({ "sae", "release", "org/scope" }, &err);
    QCOMPARE(rc, 1);
    QVERIFY2(err.contains("not in the Hugging Face cache"), err.constData());
}

QTEST_GUILESS_MAIN(TestHub)
#include "tst_hub.moc"
