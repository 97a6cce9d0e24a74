# Writes, in the directory OUTDIR, the gzipped (gzip -9n: no name, no
# time) documents the install rules take: mdblua.1.gz from MAN,
# CHANGELOG.md.gz from CHANGELOG, and changelog.gz, the Debian changelog of
# a native package, made from CHANGELOG.md: one entry per
# "## [VERSION] - DATE" heading, newest first, pointing at CHANGELOG.md.gz
# for the changes, so versions and dates are written in one place.  An
# unreleased version is dated now (SOURCE_DATE_EPOCH when set, as
# string(TIMESTAMP) does).
# Run with cmake -P; needs MAN, CHANGELOG, OUTDIR, PACKAGE, MAINTAINER.
function(gzip_to src dst)
  execute_process(COMMAND gzip -9n -c ${src} OUTPUT_FILE ${dst}
                  COMMAND_ERROR_IS_FATAL ANY)
endfunction()

gzip_to(${MAN} ${OUTDIR}/mdblua.1.gz)
gzip_to(${CHANGELOG} ${OUTDIR}/CHANGELOG.md.gz)

file(STRINGS ${CHANGELOG} headings REGEX "^## \\[[0-9]+\\.[0-9]+\\.[0-9]+\\]")
if(NOT headings)
  message(FATAL_ERROR "${CHANGELOG}: no '## [x.y.z] - date' heading")
endif()
set(text "")
foreach(h IN LISTS headings)
  string(REGEX REPLACE "^## \\[([^]]+)\\].*" "\\1" version "${h}")
  if(h MATCHES " - ([0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9])")
    execute_process(COMMAND date -u -R -d "${CMAKE_MATCH_1}"
                    OUTPUT_VARIABLE date OUTPUT_STRIP_TRAILING_WHITESPACE
                    COMMAND_ERROR_IS_FATAL ANY)
    set(what "Release ${version}")
  else()
    string(TIMESTAMP date "%a, %d %b %Y %H:%M:%S +0000" UTC)
    set(what "Version ${version}, not yet released")
  endif()
  string(APPEND text "${PACKAGE} (${version}) unstable; urgency=medium\n\n"
    "  * ${what}: see CHANGELOG.md.gz beside this file.\n\n"
    " -- ${MAINTAINER}  ${date}\n\n")
endforeach()
string(REGEX REPLACE "\n\n$" "\n" text "${text}")
file(WRITE ${OUTDIR}/changelog "${text}")
gzip_to(${OUTDIR}/changelog ${OUTDIR}/changelog.gz)
