#include "core/interp/local_backend.h"

#include "core/interp/chat_format.h"
#include "core/model/decoder.h"
#include "core/model/generation.h"
#include "core/model/model_locator.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

namespace fscope::core::interp {

namespace {

class LocalBackend final : public ChatBackend {
public:
    LocalBackend(LocalSettings settings, std::unique_ptr<model::Decoder> decoder,
        std::unique_ptr<tokenize::Tokenizer> tokenizer, ChatFormat format)
        : m_settings(std::move(settings))
        , m_decoder(std::move(decoder))
        , m_tokenizer(std::move(tokenizer))
        , m_format(format)
        , m_stops(chatStopTokens(format, *m_tokenizer))
    {
        m_worker = std::thread([this] { run(); });
    }

    ~LocalBackend() override
    {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_cv.notify_all();
        m_worker.join();
    }

    Result<ChatReply> complete(const ChatRequest &request, jobs::Progress *progress) override
    {
        if (progress && progress->cancelled())
            return Error { "cancelled" };
        Pending p;
        p.ids = chatTokenIds(m_format, *m_tokenizer, request.messages);
        p.request = &request;
        auto answer = p.promise.get_future();
        {
            std::lock_guard lock(m_mutex);
            m_queue.push_back(&p);
        }
        m_cv.notify_all();
        return answer.get();
    }

    std::string identity() const override { return "local:" + m_settings.modelDir; }
    std::string modelName() const override
    {
        return std::filesystem::path(m_settings.modelDir).filename().string();
    }
    int concurrency() const override { return std::max(1, m_settings.batch); }

private:
    struct Pending {
        std::vector<int64_t> ids;
        const ChatRequest *request = nullptr;
        std::promise<Result<ChatReply>> promise;
    };

    // Gathers what is queued (up to a batch) and generates it in one call. Requests of the
    // same temperature share a batch; greedy answers do not depend on their batch-mates.
    void run()
    {
        for (;;) {
            std::vector<Pending *> batch;
            {
                std::unique_lock lock(m_mutex);
                m_cv.wait(lock, [&] { return m_stopping || !m_queue.empty(); });
                if (m_queue.empty())
                    return;
                // A moment for the other workers' requests to arrive.
                lock.unlock();
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                lock.lock();
                const double temperature = m_queue.front()->request->temperature;
                for (auto it = m_queue.begin();
                     it != m_queue.end() && int(batch.size()) < concurrency();) {
                    if ((*it)->request->temperature == temperature) {
                        batch.push_back(*it);
                        it = m_queue.erase(it);
                    } else {
                        ++it;
                    }
                }
            }
            generateBatch(batch);
        }
    }

    void generateBatch(const std::vector<Pending *> &batch)
    {
        std::vector<std::vector<int64_t>> prompts;
        model::GenerateOptions options;
        options.maxNewTokens = 1;
        for (const Pending *p : batch) {
            prompts.push_back(p->ids);
            options.maxNewTokens = std::max(options.maxNewTokens, p->request->maxTokens);
        }
        options.temperature = batch.front()->request->temperature;
        options.seed = m_settings.seed;
        options.stopTokens = m_stops;
        const int64_t room = m_decoder->config().maxPositions;
        for (size_t i = 0; i < batch.size(); ++i)
            if (room > 0 && int64_t(prompts[i].size()) + options.maxNewTokens > room) {
                batch[i]->promise.set_value(Error { "the prompt ("
                    + std::to_string(prompts[i].size()) + " tokens) and the answer do not fit "
                    + "the model's " + std::to_string(room) + " positions" });
                prompts[i].clear();
            }
        std::vector<std::vector<int64_t>> live;
        std::vector<Pending *> owners;
        for (size_t i = 0; i < batch.size(); ++i)
            if (!prompts[i].empty()) {
                live.push_back(prompts[i]);
                owners.push_back(batch[i]);
            }
        if (live.empty())
            return;
        auto generated = model::generate(*m_decoder, live, options);
        for (size_t i = 0; i < owners.size(); ++i) {
            if (!generated) {
                owners[i]->promise.set_value(generated.error());
                continue;
            }
            std::vector<int64_t> tokens = generated->tokens[i];
            const int64_t limit = owners[i]->request->maxTokens;
            if (int64_t(tokens.size()) > limit)
                tokens.resize(size_t(limit));
            ChatReply reply;
            reply.promptTokens = int64_t(live[i].size());
            reply.completionTokens = int64_t(tokens.size());
            while (!tokens.empty()
                && std::find(m_stops.begin(), m_stops.end(), tokens.back()) != m_stops.end())
                tokens.pop_back();
            reply.text = m_tokenizer->decode(tokens);
            owners[i]->promise.set_value(std::move(reply));
        }
    }

    LocalSettings m_settings;
    std::unique_ptr<model::Decoder> m_decoder;
    std::unique_ptr<tokenize::Tokenizer> m_tokenizer;
    ChatFormat m_format;
    std::vector<int64_t> m_stops;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Pending *> m_queue;
    bool m_stopping = false;
    std::thread m_worker;
};

} // namespace

Result<std::unique_ptr<ChatBackend>> makeLocalBackend(const LocalSettings &settings)
{
    if (settings.modelDir.empty())
        return Error { "name the instruct model's directory (--llm-model DIR)" };
    std::string dir;
    FS_TRY(dir, model::resolveModelPath(settings.modelDir));
    std::unique_ptr<tokenize::Tokenizer> tokenizer;
    FS_TRY(tokenizer, tokenize::loadTokenizer(dir));
    ChatFormat format;
    FS_TRY(format, detectChatFormat(*tokenizer, dir));
    std::unique_ptr<model::Decoder> decoder;
    FS_TRY(decoder, model::Decoder::load(dir, { settings.device, settings.dtype }));
    LocalSettings s = settings;
    s.modelDir = dir;
    return std::unique_ptr<ChatBackend>(std::make_unique<LocalBackend>(
        std::move(s), std::move(decoder), std::move(tokenizer), format));
}

} // namespace fscope::core::interp
