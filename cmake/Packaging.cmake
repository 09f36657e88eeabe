# Install layout and the Debian package (cpack -G DEB; README "Install").
#   bin/                                 aerodb-repl, aerodb
#   share/man/man1, man5                 the pages of man/*.md (man/CMakeLists.txt)
#   share/doc/aerodb-repl/examples/      demo.sh, cron-rsync/, drills/, systemd/
#   share/bash-completion/completions/   aerodb-repl, aerodb (one script)
include(GNUInstallDirs)
install(TARGETS aerodb-repl aerodb RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        USE_SOURCE_PERMISSIONS)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
foreach(cmd aerodb-repl aerodb)
  install(FILES ${CMAKE_SOURCE_DIR}/completion/aerodb-repl.bash
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ${cmd})
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME aerodb-repl)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "aerodb-repl maintainers <aerodb-repl@localhost>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "replicate an AeroDB database with verified WAL segments and snapshot archives")
# The long description: CPack puts the summary first and indents each line.
set(CPACK_PACKAGE_DESCRIPTION "aerodb-repl ships committed write sets as WAL segment files, applies them on
replicas after proving their continuity, exports and installs self-checked
snapshot archives, and promotes, fences and rejoins nodes. Any transport
that moves files (cp, rsync from cron, a shared mount) carries them.

aerodb, a small reference node that writes AeroDB's WAL and storage
formats, is included for drills and demos.")
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # aerodb-repl_VERSION_ARCH.deb
set(CPACK_STRIP_FILES ON)                # as dh_strip would
set(CPACK_DEBIAN_COMPRESSION_TYPE zstd)  # dpkg >= 1.21.18 (Debian 12) reads it
# Depends from the linked shared libraries (dpkg-shlibdeps)...
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# ...plus libarchive, which is loaded on first use (lib/snapshot/libarchive_loader.h),
# so no binary names it: its package and shlibs version, asked of dpkg.
get_filename_component(libarchive_real "${LibArchive_LIBRARIES}" REALPATH)
execute_process(COMMAND dpkg-query -S ${libarchive_real}
                OUTPUT_VARIABLE owner ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REGEX MATCH "^[^:]+" libarchive_pkg "${owner}")
if(libarchive_pkg)
  execute_process(COMMAND dpkg-query --control-show ${libarchive_pkg} shlibs
                  OUTPUT_VARIABLE shlibs ERROR_QUIET)
  string(REGEX MATCH "libarchive [0-9]+ ([^\n]+)" line "${shlibs}")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "${CMAKE_MATCH_1}")
  if(NOT CPACK_DEBIAN_PACKAGE_DEPENDS)
    set(CPACK_DEBIAN_PACKAGE_DEPENDS ${libarchive_pkg})
  endif()
else()
  message(WARNING "cannot tell which package holds ${libarchive_real}: "
                  "the .deb will not depend on it")
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "jq, rsync")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bash-completion")
include(CPack)
