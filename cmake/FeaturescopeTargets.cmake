# Tiny wrappers that keep every CMakeLists.txt short (fs_add_library, fs_add_test, ...).

# fs_add_library(NAME SOURCES... [LINK libs...])
function(fs_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINK;PRIVATE_LINK" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC fs_build_flags ${ARG_LINK} PRIVATE ${ARG_PRIVATE_LINK})
endfunction()

# fs_add_test(NAME SOURCES... LINK libs... LABELS labels... [GUI] [NEEDS_CLI] [GPU])
# One Qt Test executable per area; GUI tests run on the offscreen platform. NEEDS_CLI: the
# test runs featurescope-cli as a user would (FEATURESCOPE_CLI is its path). GPU: the test
# needs CUDA; it carries the `gpu` label, which the default test preset leaves out.
function(fs_add_test name)
  cmake_parse_arguments(ARG "GUI;NEEDS_CLI;GPU" "" "SOURCES;LINK;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE fs_build_flags Qt6::Test fs_test_support ${ARG_LINK})
  if(ARG_NEEDS_CLI)
    target_compile_definitions(${name} PRIVATE FEATURESCOPE_CLI="$<TARGET_FILE:featurescope-cli>")
    add_dependencies(${name} featurescope-cli)
  endif()
  if(ARG_GPU)
    list(APPEND ARG_LABELS gpu)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set(env "FEATURESCOPE_TEST_DATA=${PROJECT_SOURCE_DIR}/tests/fixtures"
          "FEATURESCOPE_SHARED_DATA=${PROJECT_SOURCE_DIR}/tests/data")
  if(ARG_GUI)
    list(APPEND env "QT_QPA_PLATFORM=offscreen")
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" ENVIRONMENT "${env}")
endfunction()

# fs_add_plugin(NAME SOURCES... [STATIC] [LINK libs...])
# A Qt plugin: STATIC ones are linked into the app (imported with Q_IMPORT_PLUGIN); the
# others are shared modules loaded at run time from the plugin directories.
function(fs_add_plugin name)
  cmake_parse_arguments(ARG "STATIC" "" "SOURCES;LINK" ${ARGN})
  if(ARG_STATIC)
    add_library(${name} STATIC ${ARG_SOURCES})
    target_compile_definitions(${name} PRIVATE QT_STATICPLUGIN)
  else()
    add_library(${name} MODULE ${ARG_SOURCES})
    set_target_properties(${name} PROPERTIES PREFIX "")
  endif()
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC fs_build_flags ${ARG_LINK})
endfunction()
