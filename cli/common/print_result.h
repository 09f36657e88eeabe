// A result line on stdout stays one line (OPS-4): each string argument is
// written with its control characters escaped (AppendEscaped, common/escape.h),
// as in problem reports and text log lines; a newline in a -D path shows as
// \n. The format's own characters are written as they are. --json output is
// escaped by JSON itself.
#pragma once

#include <cstdio>
#include <string>
#include <tuple>
#include <type_traits>

#include "common/escape.h"

namespace aero::cli {

namespace print_detail {

inline std::string Held(const char* s) {
  std::string out;
  AppendEscaped(&out, s);
  return out;
}
template <typename T>
  requires std::is_arithmetic_v<T>
T Held(T v) {
  return v;
}
inline const char* Passed(const std::string& s) { return s.c_str(); }
template <typename T>
  requires std::is_arithmetic_v<T>
T Passed(T v) {
  return v;
}

}  // namespace print_detail

// std::printf with every %s argument escaped; numbers pass unchanged.
template <typename... A>
void PrintResult(const char* format, const A&... args) {
  if constexpr (sizeof...(A) == 0) {
    std::fputs(format, stdout);
  } else {
    const std::tuple held{print_detail::Held(args)...};
    std::apply([&](const auto&... h) { std::printf(format, print_detail::Passed(h)...); }, held);
  }
}

}  // namespace aero::cli
