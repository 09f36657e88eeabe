#include "s3/libcurl_loader.h"

#include <dlfcn.h>

#include <string>

namespace aero::s3 {
namespace {

struct Loaded {
  CurlApi api{};
  std::string error;  // empty: loaded
};

template <typename Fn>
bool Bind(void* handle, const char* name, Fn* out, std::string* error) {
  void* sym = ::dlsym(handle, name);
  if (sym == nullptr) {
    *error = std::string(name) + " is missing";
    return false;
  }
  *out = reinterpret_cast<Fn>(sym);
  return true;
}

Loaded Load() {
  Loaded l;
  void* h = ::dlopen(AERODB_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* e = ::dlerror();
    l.error = e ? e : "dlopen failed";
    return l;
  }
  CurlApi& a = l.api;
  const bool bound = Bind(h, "curl_global_init", &a.global_init, &l.error) &&
                     Bind(h, "curl_easy_init", &a.easy_init, &l.error) &&
                     Bind(h, "curl_easy_cleanup", &a.easy_cleanup, &l.error) &&
                     Bind(h, "curl_easy_reset", &a.easy_reset, &l.error) &&
                     Bind(h, "curl_easy_setopt", &a.easy_setopt, &l.error) &&
                     Bind(h, "curl_easy_perform", &a.easy_perform, &l.error) &&
                     Bind(h, "curl_easy_getinfo", &a.easy_getinfo, &l.error) &&
                     Bind(h, "curl_easy_strerror", &a.easy_strerror, &l.error) &&
                     Bind(h, "curl_slist_append", &a.slist_append, &l.error) &&
                     Bind(h, "curl_slist_free_all", &a.slist_free_all, &l.error);
  if (!bound) return l;
  // Once, before any handle and before other threads use libcurl (its
  // contract); the handle is never closed.
  const CURLcode rc = a.global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) l.error = std::string("curl_global_init: ") + a.easy_strerror(rc);
  return l;
}

}  // namespace

Result<const CurlApi*> LoadLibcurl() {
  static const Loaded loaded = Load();  // thread-safe, once
  if (!loaded.error.empty()) {
    const bool loaded_but_not_started = loaded.error.rfind("curl_global_init", 0) == 0;
    return Status(Code::kIo, Problem("cannot load libcurl", AERODB_LIBCURL_SONAME, loaded.error),
                  loaded_but_not_started ? "libcurl could not start (memory, or its TLS library); check them, then re-run"
                                         : "install Debian's libcurl4 (setup.sh does)");
  }
  return &loaded.api;
}

}  // namespace aero::s3
