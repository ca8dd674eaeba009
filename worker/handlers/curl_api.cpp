// Loads libcurl with dlopen on first use and resolves the functions in CurlApi.
#include "curl_api.hpp"

#include <dlfcn.h>

#include <mutex>

namespace rc::worker {

namespace {
struct Loaded {
    CurlApi api{};
    bool ok = false;
    std::string error;
};

template <typename F> bool resolve(void* lib, const char* name, F& out, std::string& error) {
    void* sym = dlsym(lib, name);
    if (!sym) {
        error = std::string("libcurl lacks ") + name;
        return false;
    }
    out = reinterpret_cast<F>(sym);
    return true;
}

Loaded load() {
    Loaded l;
    void* lib = nullptr;
    for (const char* name : {"libcurl.so.4", "libcurl.so", "libcurl.so.3"})
        if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
    if (!lib) {
        const char* e = dlerror();
        l.error = std::string("cannot load libcurl: ") + (e ? e : "not found");
        return l;
    }
    auto& a = l.api;
    l.ok = resolve(lib, "curl_global_init", a.global_init, l.error) &&
           resolve(lib, "curl_easy_init", a.easy_init, l.error) &&
           resolve(lib, "curl_easy_cleanup", a.easy_cleanup, l.error) &&
           resolve(lib, "curl_easy_setopt", a.easy_setopt, l.error) &&
           resolve(lib, "curl_easy_getinfo", a.easy_getinfo, l.error) &&
           resolve(lib, "curl_easy_strerror", a.easy_strerror, l.error) &&
           resolve(lib, "curl_multi_init", a.multi_init, l.error) &&
           resolve(lib, "curl_multi_add_handle", a.multi_add_handle, l.error) &&
           resolve(lib, "curl_multi_remove_handle", a.multi_remove_handle, l.error) &&
           resolve(lib, "curl_multi_perform", a.multi_perform, l.error) &&
           resolve(lib, "curl_multi_poll", a.multi_poll, l.error) &&
           resolve(lib, "curl_multi_info_read", a.multi_info_read, l.error) &&
           resolve(lib, "curl_multi_cleanup", a.multi_cleanup, l.error) &&
           resolve(lib, "curl_slist_append", a.slist_append, l.error) &&
           resolve(lib, "curl_slist_free_all", a.slist_free_all, l.error);
    if (l.ok) l.ok = a.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!l.ok && l.error.empty()) l.error = "libcurl failed to initialise";
    return l; // the library stays loaded for the life of the process
}
} // namespace

const CurlApi* curl_api(std::string* error) {
    static const Loaded loaded = load();
    if (!loaded.ok && error) *error = loaded.error;
    return loaded.ok ? &loaded.api : nullptr;
}

} // namespace rc::worker
