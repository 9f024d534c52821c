# Finds the third-party libraries. Core needs no Qt; the ui and the tests do.

find_package(Torch REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
# Optional: the Hugging Face Hub client (core/hub) downloads with it.
find_package(CURL)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET GLOBAL libpcre2-8)
# Zstandard-compressed corpora (.zst).
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET GLOBAL libzstd)

# LibTorch's config sets its flags in TORCH_CXX_FLAGS and its libraries in TORCH_LIBRARIES;
# wrap them in one imported target so nothing is set globally.
# libstdc++ goes first: the LibTorch bundled with pip's torch exports its own partial copies of
# libstdc++ symbols (std::filesystem::remove_all among them), and a program that finds those
# first crashes in them.
add_library(fs_torch INTERFACE)
target_link_libraries(fs_torch INTERFACE stdc++ ${TORCH_LIBRARIES})
target_include_directories(fs_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
separate_arguments(_fs_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(fs_torch INTERFACE ${_fs_torch_flags})

set(FEATURESCOPE_HAVE_QT_TEST OFF)
if(FEATURESCOPE_GUI)
  find_package(Qt6 6.2 REQUIRED COMPONENTS Core Gui Widgets Concurrent PrintSupport Svg Test)
  find_package(QCustomPlotQt6 REQUIRED)
  set(FEATURESCOPE_HAVE_QT_TEST ON)
  set(CMAKE_AUTOMOC ON)
  set(CMAKE_AUTORCC ON)
elseif(FEATURESCOPE_BUILD_TESTS)
  # Headless servers may still have QtCore + QtTest for the core tests.
  find_package(Qt6 6.2 QUIET COMPONENTS Core Test)
  if(Qt6Test_FOUND)
    set(FEATURESCOPE_HAVE_QT_TEST ON)
    set(CMAKE_AUTOMOC ON)
  endif()
endif()
