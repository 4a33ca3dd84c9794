# conf/install.cmake: run by `cmake --install` (CMakeLists.txt sets
# CDHT_CONFDIR and CDHT_SOURCE_DIR first).  Puts tokens.example and
# children.example into CDHT_CONFDIR as tokens and children, mode 0640,
# unless a file of that name is already there.  (file(INSTALL) adds
# DESTDIR itself.)
set(_d "$ENV{DESTDIR}${CDHT_CONFDIR}")
foreach(f tokens children)
  if(EXISTS "${_d}/${f}")
    message(STATUS "Kept: ${_d}/${f}")
  else()
    file(INSTALL "${CDHT_SOURCE_DIR}/conf/${f}.example" DESTINATION "${CDHT_CONFDIR}"
      FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
    file(RENAME "${_d}/${f}.example" "${_d}/${f}")
  endif()
endforeach()
