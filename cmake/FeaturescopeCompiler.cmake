# Compiler set-up shared by every target: warnings, ccache, sanitizers.
# Flags are attached to the interface target fs_build_flags, never set globally.

find_program(FEATURESCOPE_CCACHE ccache)
if(FEATURESCOPE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # Precompiled headers are only cacheable with these sloppiness settings.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${FEATURESCOPE_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${CMAKE_CXX_COMPILER_LAUNCHER})
endif()

add_library(fs_build_flags INTERFACE)
target_compile_options(fs_build_flags INTERFACE -Wall -Wextra)
# LibTorch and Qt both define `signals`/`slots`: Qt keywords are off everywhere.
target_compile_definitions(fs_build_flags INTERFACE QT_NO_KEYWORDS
                           FEATURESCOPE_VERSION="${PROJECT_VERSION}")
if(FEATURESCOPE_SANITIZE)
  target_compile_options(fs_build_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(fs_build_flags INTERFACE -fsanitize=address,undefined)
endif()
