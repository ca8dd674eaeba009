// libcurl, loaded the first time an http_request runs rather than linked into the worker:
// its TLS and Kerberos libraries would otherwise add megabytes to every idle worker, which
// matters on a phone. The only code that resolves libcurl's symbols.
#pragma once

#include <curl/curl.h>

#include <string>

namespace rc::worker {

// The libcurl functions http_request uses, resolved from the shared library.
struct CurlApi {
    CURLcode (*global_init)(long flags);
    CURL* (*easy_init)();
    void (*easy_cleanup)(CURL*);
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
    const char* (*easy_strerror)(CURLcode);
    CURLM* (*multi_init)();
    CURLMcode (*multi_add_handle)(CURLM*, CURL*);
    CURLMcode (*multi_remove_handle)(CURLM*, CURL*);
    CURLMcode (*multi_perform)(CURLM*, int*);
    CURLMcode (*multi_poll)(CURLM*, curl_waitfd*, unsigned int, int, int*);
    CURLMsg* (*multi_info_read)(CURLM*, int*);
    CURLMcode (*multi_cleanup)(CURLM*);
    curl_slist* (*slist_append)(curl_slist*, const char*);
    void (*slist_free_all)(curl_slist*);
};

// The loaded API (initialised once, thread-safe), or nullptr when libcurl cannot be loaded;
// `error` then says why.
const CurlApi* curl_api(std::string* error = nullptr);

} // namespace rc::worker
