# Compiler set-up shared by every target: warnings, ccache, sanitizers.
# Flags are attached to the interface target fs_build_flags, never set globally.

if(FEATURESCOPE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # BASEDIR + NOHASHDIR: clones in other directories (CI) share the cache; the sloppiness
  # settings let ccache cache files when FEATURESCOPE_PCH is forced on.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} CCACHE_NOHASHDIR=1
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${FEATURESCOPE_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${CMAKE_CXX_COMPILER_LAUNCHER})
endif()

add_library(fs_build_flags INTERFACE)
target_compile_options(fs_build_flags INTERFACE -Wall -Wextra)
# Warnings are errors on our targets (third-party headers are system includes): a warning
# regression fails the build, and so CI.
if(FEATURESCOPE_WERROR)
  target_compile_options(fs_build_flags INTERFACE -Werror)
endif()
# LibTorch and Qt both define `signals`/`slots`: Qt keywords are off everywhere.
target_compile_definitions(fs_build_flags INTERFACE QT_NO_KEYWORDS
                           FEATURESCOPE_VERSION="${PROJECT_VERSION}")
if(FEATURESCOPE_SANITIZE)
  target_compile_options(fs_build_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer)
  target_link_options(fs_build_flags INTERFACE -fsanitize=address,undefined)
endif()
