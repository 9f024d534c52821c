#include "core/net/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace fscope::core::net {
namespace {

struct Transfer {
    CURL *curl = nullptr;
    const HttpRequest *request = nullptr;
    HttpResponse *response = nullptr;
    bool cancelled = false;
    bool sinkFailed = false;
};

size_t onHeader(char *data, size_t size, size_t count, void *user)
{
    auto *t = static_cast<Transfer *>(user);
    const std::string line(data, size * count);
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear(); // a new response (after 100-continue and the like)
    } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
        std::string name = line.substr(0, colon), value = line.substr(colon + 1);
        std::transform(name.begin(), name.end(), name.begin(),
            [](unsigned char c) { return std::tolower(c); });
        while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
            value.erase(value.begin());
        while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
            value.pop_back();
        t->response->headers[name] = value;
    }
    return size * count;
}

size_t onBody(char *data, size_t size, size_t count, void *user)
{
    auto *t = static_cast<Transfer *>(user);
    const size_t n = size * count;
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    // Only a successful answer goes to the file: an error page never lands in a blob.
    if (t->request->sink && status >= 200 && status < 300) {
        if (std::fwrite(data, 1, n, t->request->sink) != n) {
            t->sinkFailed = true;
            return 0;
        }
        t->response->bytesWritten += int64_t(n);
        if (t->request->onData)
            t->request->onData(data, n);
    } else {
        t->response->body.append(data, n);
    }
    const int64_t received
        = t->request->sink ? t->response->bytesWritten : int64_t(t->response->body.size());
    if (t->request->onBytes && !t->request->onBytes(received)) {
        t->cancelled = true;
        return 0;
    }
    return n;
}

void initOnce()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

} // namespace

bool httpAvailable()
{
    return true;
}

Result<HttpResponse> httpRequest(const HttpRequest &request)
{
    initOnce();
    CURL *curl = curl_easy_init();
    if (!curl)
        return Error { "cannot start an HTTP session (libcurl)" };
    HttpResponse response;
    Transfer transfer { curl, &request, &response };
    curl_slist *headers = nullptr;
    for (const std::string &h : request.headers)
        headers = curl_slist_append(headers, h.c_str());
    if (request.method == "HEAD")
        headers = curl_slist_append(headers, "Accept-Encoding: identity");
    char errorText[CURL_ERROR_SIZE] = { 0 };
    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(
        curl, CURLOPT_FOLLOWLOCATION, 0L); // the client decides where to go (Hub protocol)
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024); // fewer, larger writes of big blobs
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, request.connectTimeoutSeconds);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, request.lowSpeedSeconds);
    curl_easy_setopt(
        curl, CURLOPT_USERAGENT, "featurescope/" FEATURESCOPE_VERSION "; hf_hub/compatible");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errorText);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
    if (request.method == "HEAD")
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    if (request.method == "POST") {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.size()));
    }
    if (request.totalTimeoutSeconds > 0)
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, request.totalTimeoutSeconds);
    std::string range;
    if (request.rangeFrom >= 0) {
        range = std::to_string(request.rangeFrom) + "-";
        curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());
    }
    const CURLcode code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (transfer.cancelled)
        return Error { "cancelled" };
    if (transfer.sinkFailed)
        return Error { "cannot write the download (is the disk full?)" };
    if (code != CURLE_OK) {
        // The URL is named, never the headers: they may carry the token.
        return Error { request.url + ": "
            + (errorText[0] ? std::string(errorText) : std::string(curl_easy_strerror(code))) };
    }
    return response;
}

} // namespace fscope::core::net
