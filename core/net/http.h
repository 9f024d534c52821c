#pragma once
// The little HTTP that the Hub client and the auto-interpretation backends need, over libcurl:
// HEAD, GET and POST, no redirects followed, an optional Range, the body kept in memory or
// streamed to a file with a byte callback that can cancel. Builds without libcurl get an
// implementation that answers every request with a clear error.

#include "core/util/result.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fscope::core::net {

struct HttpRequest {
    std::string method = "GET"; // GET, HEAD or POST
    std::string url;
    std::vector<std::string> headers; // "Name: value"
    std::string body; // POST: sent as is (set a Content-Type header)
    int64_t rangeFrom = -1; // >= 0: "Range: bytes=N-"
    std::FILE *sink = nullptr; // GET: the body is appended here (else kept in memory)
    // Called as bytes arrive with the bytes of this response so far; false cancels.
    std::function<bool(int64_t received)> onBytes;
    // GET with a sink: each chunk as it is written, so a download is hashed as it arrives
    // instead of read back afterwards.
    std::function<void(const char *data, size_t size)> onData;
    long connectTimeoutSeconds = 10;
    long lowSpeedSeconds = 60; // abort when under 1 byte/s for this long (a stalled server)
    long totalTimeoutSeconds = 0; // the whole transfer; 0 = no limit (large downloads)
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers; // names in lower case
    std::string body; // when no sink was given
    int64_t bytesWritten = 0; // into the sink
    std::string header(const std::string &lowerName) const
    {
        const auto it = headers.find(lowerName);
        return it == headers.end() ? std::string() : it->second;
    }
};

// An error for transport failures (refused, dropped, timed out, cancelled); HTTP error codes
// come back as responses. A cancelled transfer's error message is "cancelled".
Result<HttpResponse> httpRequest(const HttpRequest &request);

// False when built without libcurl.
bool httpAvailable();

} // namespace fscope::core::net
