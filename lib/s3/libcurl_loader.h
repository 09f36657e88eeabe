// libcurl is loaded when the first object-store archive is opened, not at
// process start: libcurl and its dependencies (GnuTLS, Kerberos, LDAP, SSH,
// nghttp2, ...: 30 shared objects) cost ~3.4 ms of every process's start on
// this machine, which ship-wal/apply-wal runs from cron into a directory, and
// every run of status or verify, would pay for nothing (the same reason as
// snapshot/libarchive_loader.h). The functions this library calls are
// reached through one table; their types are libcurl's own declarations.
#pragma once

#include <curl/curl.h>

#include "common/status.h"

namespace aero::s3 {

struct CurlApi {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_reset) easy_reset;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
};

// The table, loaded (and curl_global_init run) once per process; kIo
// ("cannot load libcurl") if the shared object or a symbol is missing.
Result<const CurlApi*> LoadLibcurl();

}  // namespace aero::s3
