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
# ...plus libarchive and libcurl, which are loaded on first use
# (lib/snapshot/libarchive_loader.h, lib/s3/libcurl_loader.h), so no binary
# names them: their packages and shlibs versions, asked of dpkg.
set(aero_dlopen_depends "")
foreach(lib IN ITEMS "${LibArchive_LIBRARIES}" "${CURL_LIBRARIES}")
  get_filename_component(real "${lib}" REALPATH)
  get_filename_component(file "${real}" NAME)
  string(REGEX MATCH "^(lib[^.]+)\\.so\\.([0-9]+)" soname "${file}")
  set(name "${CMAKE_MATCH_1}")
  set(major "${CMAKE_MATCH_2}")
  execute_process(COMMAND dpkg-query -S ${real}
                  OUTPUT_VARIABLE owner ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REGEX MATCH "^[^:]+" pkg "${owner}")
  if(NOT pkg)
    message(WARNING "cannot tell which package holds ${real}: the .deb will not depend on it")
    continue()
  endif()
  execute_process(COMMAND dpkg-query --control-show ${pkg} shlibs
                  OUTPUT_VARIABLE shlibs ERROR_QUIET)
  set(CMAKE_MATCH_1 "")
  string(REGEX MATCH "\n${name} ${major} ([^\n]+)" line "\n${shlibs}")
  set(dep "${CMAKE_MATCH_1}")
  if(NOT dep)
    set(dep ${pkg})
  endif()
  list(APPEND aero_dlopen_depends "${dep}")
endforeach()
list(JOIN aero_dlopen_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "jq, rsync")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "bash-completion")
include(CPack)
