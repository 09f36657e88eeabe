// Constants of formats/archive-directory.md (ARC-2): how the entries of a
// directory of replication files are classified, and the reasons reported
// for the ones no reader takes.
#pragma once

#include <string_view>

namespace aero::archive {

// ARC-2 reasons, as reported by apply-wal, status and verify.
inline constexpr std::string_view kReasonHidden =
    "a hidden file (a transfer's or a writer's unfinished copy)";
inline constexpr std::string_view kReasonSymlink =
    "a symlink (not followed: a transport delivers files)";
inline constexpr std::string_view kReasonDirectory = "a directory";
inline constexpr std::string_view kReasonNotRegular = "not a regular file";
inline constexpr std::string_view kReasonUpperCase = "not a segment name: upper-case hex";
// A history file or the marker that is not a regular file (a symlink, a
// directory) is skipped; a regular one is the lineage's (Catalog).
inline constexpr std::string_view kReasonHistory =
    "a history file name, not a regular file";
inline constexpr std::string_view kReasonMarker = "a claim-archive marker name, not a regular file";
inline constexpr std::string_view kReasonOther = "not a segment name";

// The length of a SEG-2 name: EEEEEEEE-FFFFFFFFFFFFFFFF-LLLLLLLLLLLLLLLL.seg
inline constexpr size_t kSegmentNameBytes = 8 + 1 + 16 + 1 + 16 + 4;

}  // namespace aero::archive
