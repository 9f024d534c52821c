#include "core/net/http.h"

namespace fscope::core::net {

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

} // namespace fscope::core::net
