#include "snapshot/libarchive_loader.h"

#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <locale.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace aero::snapshot {
namespace {

struct Loaded {
  void* handle = nullptr;
  std::string error;
};

const Loaded& Library() {
  static const Loaded loaded = [] {
    Loaded l;
    l.handle = ::dlopen(AERODB_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (l.handle == nullptr) {
      const char* e = ::dlerror();
      l.error = e ? e : "dlopen failed";
    }
    return l;
  }();
  return loaded;
}

}  // namespace

Status LoadLibarchive() {
  const Loaded& l = Library();
  if (l.handle == nullptr) {
    // Missing, or there and not loadable (out of files or memory: a trial
    // under ulimit -n and -v was told to install what was installed).
    const bool missing = l.error.find("No such file") != std::string::npos;
    return Status(Code::kIo, Problem("cannot load libarchive", AERODB_LIBARCHIVE_SONAME, l.error),
                  missing ? "install Debian's libarchive13 (setup.sh does)"
                          : "the library is there but could not be loaded: raise the open-file limit "
                            "(ulimit -n) or free memory (ulimit -v), then re-run");
  }
  if (::dlsym(l.handle, "archive_read_new") == nullptr) {
    return Status(Code::kIo, Problem("cannot load libarchive", AERODB_LIBARCHIVE_SONAME,
                                     "archive_read_new is missing"));
  }
  return Status::Ok();
}

namespace {
// C.UTF-8 (glibc's built-in name), else its other spelling.
locale_t Utf8Locale() {
  static const locale_t utf8 = [] {
    locale_t l = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (l == static_cast<locale_t>(0)) l = ::newlocale(LC_CTYPE_MASK, "C.utf8", static_cast<locale_t>(0));
    return l;
  }();
  return utf8;
}
}  // namespace

bool Utf8LocaleAvailable() { return Utf8Locale() != static_cast<locale_t>(0); }

Utf8LocaleScope::Utf8LocaleScope() {
  if (const locale_t utf8 = Utf8Locale(); utf8 != static_cast<locale_t>(0)) previous_ = ::uselocale(utf8);
}

Utf8LocaleScope::~Utf8LocaleScope() {
  if (previous_ != nullptr) ::uselocale(static_cast<locale_t>(previous_));
}

// A symbol of the loaded library; a missing one is a broken install that
// LoadLibarchive() did not catch, and nothing sensible can follow.
void* Resolve(const char* name) {
  const Loaded& l = Library();
  void* sym = l.handle ? ::dlsym(l.handle, name) : nullptr;
  if (sym == nullptr) {
    std::fprintf(stderr, "cannot load libarchive '%s': %s missing\n", AERODB_LIBARCHIVE_SONAME,
                 name);
    std::abort();
  }
  return sym;
}

}  // namespace aero::snapshot

#define AERO_LA_FORWARD(ret, name, params, args)                                      \
  extern "C" ret name params {                                                        \
    static const auto fn = reinterpret_cast<ret(*) params>(aero::snapshot::Resolve(#name)); \
    return fn args;                                                                   \
  }

AERO_LA_FORWARD(struct archive*, archive_read_new, (void), ())
AERO_LA_FORWARD(int, archive_read_support_format_tar, (struct archive * a), (a))
AERO_LA_FORWARD(int, archive_read_open2,
                (struct archive * a, void* d, archive_open_callback* o, archive_read_callback* r,
                 archive_skip_callback* s, archive_close_callback* c),
                (a, d, o, r, s, c))
AERO_LA_FORWARD(la_int64_t, archive_filter_bytes, (struct archive * a, int n), (a, n))
AERO_LA_FORWARD(int, archive_entry_sparse_count, (struct archive_entry * e), (e))
AERO_LA_FORWARD(int, archive_read_next_header, (struct archive * a, struct archive_entry** e),
                (a, e))
AERO_LA_FORWARD(la_ssize_t, archive_read_data, (struct archive * a, void* b, size_t n), (a, b, n))
AERO_LA_FORWARD(int, archive_read_data_block,
                (struct archive * a, const void** b, size_t* n, la_int64_t* o), (a, b, n, o))
AERO_LA_FORWARD(int, archive_read_free, (struct archive * a), (a))
AERO_LA_FORWARD(const char*, archive_error_string, (struct archive * a), (a))
AERO_LA_FORWARD(struct archive*, archive_write_new, (void), ())
AERO_LA_FORWARD(int, archive_write_set_format_pax_restricted, (struct archive * a), (a))
AERO_LA_FORWARD(int, archive_write_set_bytes_in_last_block, (struct archive * a, int n), (a, n))
AERO_LA_FORWARD(int, archive_write_open2,
                (struct archive * a, void* d, archive_open_callback* o, archive_write_callback* w,
                 archive_close_callback* c, archive_free_callback* f),
                (a, d, o, w, c, f))
AERO_LA_FORWARD(int, archive_write_header, (struct archive * a, struct archive_entry* e), (a, e))
AERO_LA_FORWARD(la_ssize_t, archive_write_data, (struct archive * a, const void* b, size_t n),
                (a, b, n))
AERO_LA_FORWARD(int, archive_write_close, (struct archive * a), (a))
AERO_LA_FORWARD(int, archive_write_free, (struct archive * a), (a))
AERO_LA_FORWARD(struct archive_entry*, archive_entry_new, (void), ())
AERO_LA_FORWARD(void, archive_entry_free, (struct archive_entry * e), (e))
AERO_LA_FORWARD(__LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))
AERO_LA_FORWARD(const char*, archive_entry_hardlink, (struct archive_entry * e), (e))
AERO_LA_FORWARD(const char*, archive_entry_pathname, (struct archive_entry * e), (e))
AERO_LA_FORWARD(const char*, archive_entry_pathname_utf8, (struct archive_entry * e), (e))
AERO_LA_FORWARD(la_int64_t, archive_entry_size, (struct archive_entry * e), (e))
AERO_LA_FORWARD(int, archive_entry_size_is_set, (struct archive_entry * e), (e))
AERO_LA_FORWARD(void, archive_entry_set_filetype, (struct archive_entry * e, unsigned int t), (e, t))
AERO_LA_FORWARD(void, archive_entry_set_gid, (struct archive_entry * e, la_int64_t g), (e, g))
AERO_LA_FORWARD(void, archive_entry_set_mtime, (struct archive_entry * e, time_t t, long ns),
                (e, t, ns))
AERO_LA_FORWARD(void, archive_entry_set_pathname, (struct archive_entry * e, const char* p), (e, p))
AERO_LA_FORWARD(void, archive_entry_set_pathname_utf8, (struct archive_entry * e, const char* p), (e, p))
AERO_LA_FORWARD(void, archive_entry_set_perm, (struct archive_entry * e, __LA_MODE_T m), (e, m))
AERO_LA_FORWARD(void, archive_entry_set_size, (struct archive_entry * e, la_int64_t s), (e, s))
AERO_LA_FORWARD(void, archive_entry_set_uid, (struct archive_entry * e, la_int64_t u), (e, u))
