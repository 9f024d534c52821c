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

# Where the LibTorch came from and whether it has CUDA: --version and the GUI's device list
# name it, and a GPU build of the GUI must agree with Qt on libstdc++'s ABI.
set(FEATURESCOPE_TORCH_CUDA OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(FEATURESCOPE_TORCH_CUDA ON)
endif()
if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=([01])")
  set(FEATURESCOPE_TORCH_CXX11_ABI ${CMAKE_MATCH_1})
else()
  set(FEATURESCOPE_TORCH_CXX11_ABI 1) # LibTorch 2.x without the flag: the compiler's default
endif()
message(STATUS "LibTorch: ${Torch_DIR} (CUDA ${FEATURESCOPE_TORCH_CUDA}, "
               "_GLIBCXX_USE_CXX11_ABI=${FEATURESCOPE_TORCH_CXX11_ABI})")
if(FEATURESCOPE_GUI AND NOT FEATURESCOPE_TORCH_CXX11_ABI)
  # Debian's Qt 6 (every distribution's) uses the C++11 ABI of std::string and std::list; a
  # pre-C++11-ABI LibTorch (older pip wheels, the "Pre-cxx11 ABI" archives) cannot share one
  # program with it: the link fails on std::__cxx11 symbols, or worse, strings cross between
  # the two and crash.
  message(FATAL_ERROR
    "The LibTorch in ${Torch_DIR} was built with the pre-C++11 libstdc++ ABI "
    "(_GLIBCXX_USE_CXX11_ABI=0), but Qt 6 uses the C++11 ABI, so the GUI cannot link against "
    "it. Use a cxx11-ABI LibTorch (PyTorch 2.7 or later from pip, or the \"cxx11 ABI\" "
    "LibTorch archive), or build core + CLI only with -DFEATURESCOPE_GUI=OFF "
    "(the cuda-headless preset).")
endif()

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
