# CMake package config for libmiosa, installed to <prefix>/lib/cmake/miosa/.
#
#   find_package(miosa 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE miosa::miosa)          # libmiosa.so
#   target_link_libraries(app PRIVATE miosa::miosa_static)   # libmiosa.a
#
# Paths are relative to this file, so the prefix can be moved.

get_filename_component(_miosa_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

if(NOT TARGET miosa::miosa)
  add_library(miosa::miosa SHARED IMPORTED)
  set_target_properties(miosa::miosa PROPERTIES
    IMPORTED_LOCATION "${_miosa_prefix}/lib/libmiosa.so"
    IMPORTED_SONAME "libmiosa.so.${miosa_VERSION_MAJOR}"
    INTERFACE_INCLUDE_DIRECTORIES "${_miosa_prefix}/include")
endif()

if(NOT TARGET miosa::miosa_static)
  add_library(miosa::miosa_static STATIC IMPORTED)
  # What rustc reports the static library needs (`--print native-static-libs`).
  set_target_properties(miosa::miosa_static PROPERTIES
    IMPORTED_LOCATION "${_miosa_prefix}/lib/libmiosa.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_miosa_prefix}/include"
    INTERFACE_LINK_LIBRARIES "gcc_s;util;rt;pthread;m;dl;c")
endif()

unset(_miosa_prefix)
