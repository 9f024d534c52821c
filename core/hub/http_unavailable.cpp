#include "core/hub/http.h"

namespace fscope::core::hub {

std::string HttpResponse::header(const std::string &lowerName) const
{
    const auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
}

bool httpAvailable()
{
    return false;
}

Result<HttpResponse> httpRequest(const HttpRequest &request)
{
    return Error { request.url
        + ": this build has no HTTP client (rebuild with libcurl installed, "
          "or use files already in the Hugging Face cache)" };
}

} // namespace fscope::core::hub
